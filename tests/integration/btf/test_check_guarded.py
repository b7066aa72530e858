#!/usr/bin/env python3
# `btfctl check` on reads guarded by existence checks (libbpf-tools'
# core_fixes.bpf.h), against a real load: a source holding THIS machine's
# kernel BTF (/sys/kernel/btf/vmlinux packed as btfhub-archive packs it) and,
# for a kernel of another age, the ubuntu 5.11 fixture. For each program of
# tests/bpf/guarded.bpf.c and each kernel, libbpf relocates the program alone
# against that BTF and loads it through bpf(2) (core-oracle OBJECT BTF PROGRAM),
# and check's verdict must be libbpf's: guarded_field and guarded_type load
# with guarded fallbacks (libbpf poisons the read, the verifier prunes it) and
# check names the poisoned relocation and its guard; unguarded_field fails
# and check names the same relocation libbpf poisoned. get_disk_fix is
# core_fixes' get_disk(): on a kernel without request.rq_disk its read is
# guarded by field_exists(rq_disk) resolving to 0; on one with rq_disk but
# without request_queue.disk (the 5.11 fixture) the fallback read sits in the
# branch of that check resolving to 1, which the verifier prunes too.
# fallback_ternary makes that case on every kernel (`exists(pid) ? pid :
# missing`); read_before_check and check_elsewhere have an absent check about
# the read that does not hold it: they fail. No difference with libbpf is
# allowed anywhere.
# Also: exit 0 on an object whose programs all load (some under guards), the
# summary line and the HTML's guarded cells.
import json, os, platform, re, shutil, subprocess, sys, tarfile, tempfile, hashlib, html.parser
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import check, finish, fatal, hub_dir, skip_not_root, skip_no_bpf

oracle, btfctl, bpfdir = sys.argv[1:4]
if os.geteuid() != 0:
    skip_not_root("the libbpf oracle loads programs through bpf(2)")
OBJ = os.path.join(bpfdir, "guarded.bpf.o")
OBJ_OK = os.path.join(bpfdir, "guarded_only.bpf.o")
for o in (OBJ, OBJ_OK):
    if not os.path.isfile(o):
        fatal("%s was not built" % o)
tmp = tempfile.mkdtemp(prefix="btfd-check-guarded-")
hub = os.path.join(tmp, "hub")

def pack(raw, kernel_id):
    path = os.path.join(hub, kernel_id + ".btf.tar.xz")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tarfile.open(path, "w:xz") as t:
        t.add(raw, arcname=os.path.basename(kernel_id) + ".btf")

arch = {"aarch64": "arm64"}.get(platform.machine(), platform.machine())
raw = {}
HOST = "thishost/1/%s/%s" % (arch, platform.release())
if os.path.exists("/sys/kernel/btf/vmlinux"):
    raw[HOST] = os.path.join(tmp, "vmlinux.btf")
    shutil.copyfile("/sys/kernel/btf/vmlinux", raw[HOST])
else:
    print("note: no /sys/kernel/btf/vmlinux; only the fixture kernel is checked")
FIXTURE = "ubuntu/20.04/x86_64/5.11.0-1028-gcp"
with tarfile.open(os.path.join(hub_dir(), FIXTURE + ".btf.tar.xz")) as t:
    m = [x for x in t.getmembers() if x.isfile()][0]
    raw[FIXTURE] = os.path.join(tmp, "fixture.btf")
    open(raw[FIXTURE], "wb").write(t.extractfile(m).read())
for kid, path in raw.items():
    pack(path, kid)
open(os.path.join(hub, "SHA256SUMS"), "w").write("".join(
    "%s  ./%s.btf.tar.xz\n" % (hashlib.sha256(open(os.path.join(hub, k + ".btf.tar.xz"), "rb").read()).hexdigest(), k)
    for k in sorted(raw)))
kernels = sorted(raw)

def libbpf_load(obj, kid, prog):
    """(load result, relocation indices libbpf poisoned, log) for prog alone."""
    p = subprocess.run([oracle, obj, raw[kid], prog], capture_output=True, text=True, timeout=120)
    m = re.search(r"^load: (-?\d+)$", p.stdout, re.M)
    if not m:
        fatal("core-oracle printed no load result for %s on %s: %s" % (prog, kid, p.stderr))
    poisoned = {int(r) for r in re.findall(r"prog '%s': relo #(\d+): substituting insn #\d+ w/ invalid insn" % prog, p.stdout)}
    return int(m.group(1)), poisoned, p.stdout

probe = libbpf_load(OBJ, kernels[0], "guarded_type")
if probe[0] != 0 and "Operation not permitted" in probe[2]:
    shutil.rmtree(tmp)
    skip_no_bpf("libbpf could not load a program")

def run(*args):
    return subprocess.run([btfctl, *args], capture_output=True, text=True, timeout=600)

html_path = os.path.join(tmp, "report.html")
p = run("--json", "check", OBJ, "--from", hub, "--html", html_path)
check(p.returncode == 1, "unguarded_field fails somewhere: exit 1 (%d: %s)" % (p.returncode, p.stderr))
doc = json.loads(p.stdout)
rows = {k["id"]: k for k in doc["kernels"]}
check(sorted(rows) == kernels, "every kernel checked: %s" % sorted(rows))

NOFIELD = "struct task_struct___nofield.btfd_no_such_field"
FBFIELD = "struct task_struct___fb.btfd_no_such_field"
PROGRAMS = ["guarded_field", "unguarded_field", "guarded_type", "get_disk_fix", "fallback_ternary",
            "read_before_check", "check_elsewhere"]
present_fallbacks = 0  # get_disk_fix kernels where the guard is a check resolving to 1
NOTYPE = "struct btfd_no_such_type.x"
compared = 0
for kid in kernels:
    cell = rows[kid]["objects"][0]
    verdicts = {pr["name"]: pr.get("verdict") for pr in cell["programs"]}
    check(set(verdicts) == set(PROGRAMS), "%s: the programs: %s" % (kid, verdicts))
    for prog, verdict in verdicts.items():
        rc, poisoned, log = libbpf_load(OBJ, kid, prog)
        compared += 1
        mine = [u for u in cell["unresolved"] if u["program"] == prog]
        failing = [u for u in mine if u["result"] == "fails"]
        ptag = "%s on %s" % (prog, kid)
        # check's failing relocations are the ones libbpf poisoned, guarded or not.
        check({u["relo"] for u in failing} == poisoned,
              "%s: libbpf poisoned relo %s, check says %s fail\n%s" % (ptag, sorted(poisoned), [u["relo"] for u in failing], log))
        loads = next(pr["loads"] for pr in cell["programs"] if pr["name"] == prog)
        check(loads == (verdict != "fails"), "%s: loads=%s agrees with verdict %s" % (ptag, loads, verdict))
        check((rc == 0) == loads, "%s: libbpf load %d, check says loads=%s\n%s" % (ptag, rc, loads, log))
        check((rc == 0) == (verdict in ("loads", "loads_guarded")),
              "%s: libbpf load %d, check says %s\n%s" % (ptag, rc, verdict, log))
        if prog in ("guarded_field", "guarded_type"):
            access, guard_kind, guard_access = ((NOFIELD, "field_exists", NOFIELD) if prog == "guarded_field"
                                                else (NOTYPE, "type_exists", "struct btfd_no_such_type"))
            check(rc == 0, "%s: libbpf loads it (the guarded read is dead code)\n%s" % (ptag, log))
            check(verdict == "loads_guarded", "%s: check says loads with guarded fallbacks, not %s" % (ptag, verdict))
            check(len(failing) == 1 and failing[0]["kind"] == "byte_off" and failing[0]["access"] == access and
                  (failing[0].get("guard") or {}).get("kind") == guard_kind and
                  failing[0]["guard"]["access"] == guard_access,
                  "%s: the guarded read and its guard are named: %s" % (ptag, failing))
        if prog == "get_disk_fix":
            # One of its two reads fails on each kernel, under the same check.
            check(len(failing) == 1 and failing[0]["access"] in ("struct request___x.rq_disk", "struct request_queue___x.disk"),
                  "%s: one read fails: %s" % (ptag, failing))
            g = (failing[0].get("guard") or {}) if failing else {}
            want = 0 if failing and failing[0]["access"] == "struct request___x.rq_disk" else 1
            check(rc == 0 and verdict == "loads_guarded", "%s: libbpf %d, check %s" % (ptag, rc, verdict))
            check(g.get("kind") == "field_exists" and g.get("access") == "struct request___x.rq_disk" and g.get("value") == want,
                  "%s: guarded by field_exists(rq_disk) resolving to %d: %s" % (ptag, want, failing))
            present_fallbacks += want
        if prog == "fallback_ternary":
            check(rc == 0 and verdict == "loads_guarded", "%s: the fallback of a present check: libbpf %d, check %s" % (ptag, rc, verdict))
            check(len(failing) == 1 and failing[0]["access"] == FBFIELD and
                  failing[0]["guard"] is not None and failing[0]["guard"]["kind"] == "field_exists" and
                  failing[0]["guard"]["access"] == "struct task_struct___fb.pid" and failing[0]["guard"]["value"] == 1,
                  "%s: the fallback and its present guard are named: %s" % (ptag, failing))
        if prog in ("read_before_check", "check_elsewhere"):
            check(rc != 0 and verdict == "fails", "%s: an absent check that does not hold the read: libbpf %d, check %s" % (ptag, rc, verdict))
            check(len(failing) == 1 and failing[0]["access"] == NOFIELD and failing[0]["guard"] is None and
                  any(u["kind"] == "field_exists" and u["access"] == NOFIELD and u["result"] == "absent" for u in mine),
                  "%s: the read is unguarded although its absent check is there: %s" % (ptag, mine))
        if prog == "unguarded_field":
            check(rc != 0, "%s: libbpf fails the load\n%s" % (ptag, log))
            check(verdict == "fails", "%s: check says fails, not %s" % (ptag, verdict))
            check(len(failing) == 1 and failing[0]["access"] == NOFIELD and failing[0].get("guard", 1) is None and
                  failing[0]["reason"] == "field `task_struct___nofield.btfd_no_such_field` missing",
                  "%s: the unguarded read is named, with no guard: %s" % (ptag, failing))
    check(cell.get("verdict") == "fails" and cell["loads"] is False, "%s: the object fails (unguarded_field)" % kid)

# The summary (JSON and text) counts guarded fallbacks as loads and names them.
s = doc["objects"][0]
check(s["kernels_loading"] == 0 and s.get("kernels_loading_guarded") == 0, "guarded: loads nowhere: %s" % s)
check(any(g["reason"] == "field `task_struct___nofield.btfd_no_such_field` missing" and g["kernels"] == kernels and
          sorted(g["programs"]) == ["check_elsewhere", "read_before_check", "unguarded_field"] for g in s["failures"]),
      "the unguarded failures are a failure group: %s" % s["failures"])
check(any(g["reason"] == "field `task_struct___fb.btfd_no_such_field` missing" and
          g.get("guard") == "field_exists `task_struct___fb.pid` = 1" and g["programs"] == ["fallback_ternary"]
          for g in s.get("guarded_fallbacks", [])),
      "the fallback of a present check is a guarded group: %s" % s.get("guarded_fallbacks"))
check(present_fallbacks >= (1 if FIXTURE in raw else 0),
      "get_disk_fix's fallback under a present check was seen (the 5.11 fixture has rq_disk, not request_queue.disk)")
check(any(g["reason"] == "type `struct btfd_no_such_type` missing" and g.get("guard") == "type_exists `struct btfd_no_such_type`"
          and g["programs"] == ["guarded_type"] and g["kernels"] == kernels for g in s.get("guarded_fallbacks", [])),
      "the guarded fallback is a group with its guard: %s" % s.get("guarded_fallbacks"))

p = run("--json", "check", OBJ_OK, "--from", hub)
check(p.returncode == 0, "every program loads, some with guarded fallbacks: exit 0 (%d: %s)" % (p.returncode, p.stdout[:300]))
ok = json.loads(p.stdout) if p.stdout.startswith("{") else {}
check(ok.get("all_load") is True and ok["objects"][0]["kernels_loading"] == len(kernels) and
      ok["objects"][0].get("kernels_loading_guarded") == len(kernels) and ok["objects"][0]["failures"] == [],
      "guarded_only loads everywhere, with guarded fallbacks: %s" % (ok.get("objects") or p.stdout[:300]))
for k in ok.get("kernels", []):
    c = k["objects"][0]
    check(c.get("verdict") == "loads_guarded" and c["loads"] and
          {pr["name"]: pr.get("verdict") for pr in c["programs"]} == {"guarded_field": "loads_guarded", "guarded_type": "loads_guarded"},
          "%s: guarded_only's programs load with guarded fallbacks: %s" % (k["id"], c["programs"]))
p = run("check", OBJ_OK, "--from", hub)
n = len(kernels)
check(p.returncode == 0 and p.stdout.startswith("guarded_only: %d/%d kernels, %d with guarded fallbacks; guarded: " % (n, n, n)) and
      "field `task_struct___nofield.btfd_no_such_field` missing, under field_exists `task_struct___nofield.btfd_no_such_field`, on %d" % n in p.stdout,
      "the summary line counts and names the guarded fallbacks: %r" % p.stdout)

# HTML: guarded cells are their own class and link to a note naming the guard;
# the kernel column is sticky; names are in <code>.
text = open(html_path, encoding="utf-8").read()
class Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.classes, self.ids, self.hrefs = [], set(), []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "class" in a: self.classes.append(a["class"])
        if "id" in a: self.ids.add(a["id"])
        if "href" in a: self.hrefs.append(a["href"])
cp = Cells(); cp.feed(text)
check(cp.classes.count("guarded") >= 2 * n and cp.classes.count("fail") >= n,
      "guarded and failing cells are marked apart: %s" % cp.classes)
check(cp.hrefs and all(h.startswith("#") and h[1:] in cp.ids for h in cp.hrefs), "every link is to a note: %s" % cp.hrefs[:5])
check(re.search(r"tbody th\{[^}]*position:sticky;left:0", text), "the kernel column is sticky")
check("guarded by field_exists <code>task_struct___nofield.btfd_no_such_field</code>" in text,
      "a note names the guard, in <code>")

print("%d program x kernel verdicts compared with libbpf" % compared)
check(compared == len(PROGRAMS) * n, "every program on every kernel compared (%d)" % compared)
shutil.rmtree(tmp)
finish()

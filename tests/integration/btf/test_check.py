#!/usr/bin/env python3
# `btfctl check` against libbpf: for every kernel x object, the verdict of
# `check` (loads / which programs fail) equals libbpf's own: the oracle relocates
# the object against that kernel's BTF (btf_custom_path) and loads it through
# bpf(2), so a poisoned instruction meets the real verifier. Kernels: the repo's
# btfhub fixtures plus four generated from one of them: with libbpf's btf__ API,
# task_struct.real_parent renamed away, and a flavored task_struct___dup that makes
# task_struct.real_parent ambiguous; by renaming in the string section, struct
# file and mm_struct gone (type_size and target_type_id resolve to 0), and a BTF
# without task_struct, which cannot be read as a kernel. Also: the summary names the missing field and groups its kernels;
# the HTML is well-formed, self-contained and has every kernel and program;
# --json follows the schema in btfctl(1) (verdicts agree with "loads"; only a
# failing relocation has a guard); exit codes; -j changes nothing. Guarded
# reads are test_check_guarded.py's.
import html.parser, json, os, re, shutil, subprocess, sys, tarfile, tempfile, hashlib
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import check, finish, hub_dir, hub_kernels, serve_dir, skip_not_root, skip_no_bpf, fatal, unpack_btf

oracle, btfctl, bpfdir, btf_edit = sys.argv[1:5]
if os.geteuid() != 0:
    skip_not_root("the libbpf oracle loads objects through bpf(2)")
obj = lambda n: os.path.join(bpfdir, n + ".bpf.o")
OBJECTS = ["sample", "kinds", "check_progs", "exists_void", "norelo", "match_void_tm"]
tmp = tempfile.mkdtemp(prefix="btfd-check-")

def pack(raw, root, kernel_id):
    """raw BTF -> ROOT/<distro>/<version>/<arch>/<release>.btf.tar.xz, as btfhub-archive packs it."""
    path = os.path.join(root, kernel_id + ".btf.tar.xz")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tarfile.open(path, "w:xz") as t:
        t.add(raw, arcname=os.path.basename(kernel_id) + ".btf")

# The mirror: the fixtures (copied, with their SHA256SUMS) and the generated kernels.
hub = os.path.join(tmp, "hub")
shutil.copytree(hub_dir(), hub, symlinks=True)
raw = {k: unpack_btf(os.path.join(hub, k + ".btf.tar.xz"), os.path.join(tmp, os.path.basename(k) + ".btf"))
       for k in hub_kernels(hub)}
base = raw["ubuntu/20.04/x86_64/5.11.0-1028-gcp"]
NORP = "testos/1/x86_64/5.11.0-norp"        # task_struct.real_parent renamed away
AMBIG = "testos/1/x86_64/5.11.0-ambig"      # task_struct___dup { real_parent at 0 }
BROKEN = "testos/2/x86_64/0.0.0-notask"     # no struct task_struct: not a kernel BTF
NOTYPES = "testos/1/x86_64/5.11.0-notypes"  # no struct file, no struct mm_struct
edits = {NORP: ["rename", "task_struct", "real_parent", "parent_renamed"],
         AMBIG: ["flavor", "task_struct", "real_parent", "task_struct___dup"]}
for kid, args in edits.items():
    out = os.path.join(tmp, os.path.basename(kid) + ".btf")
    p = subprocess.run([btf_edit, base, out] + args, capture_output=True, text=True)
    if p.returncode != 0:
        print("FAIL: btf-edit %s: %s" % (" ".join(args), p.stderr.strip())); sys.exit(1)
    raw[kid] = out
# BROKEN: the fixture's bytes with the name task_struct changed in its string
# section (valid BTF, but btfd's kernel check wants a struct task_struct).
data = open(base, "rb").read()
check(data.count(b"\0task_struct\0") == 1, "the fixture names task_struct once")
raw[BROKEN] = os.path.join(tmp, "notask.btf")
open(raw[BROKEN], "wb").write(data.replace(b"\0task_struct\0", b"\0task_strucX\0", 1))
# NOTYPES: struct file and struct mm_struct renamed in the string section:
# kinds' type_size and target_type_id on them resolve to 0, and libbpf loads it.
for name in (b"file", b"mm_struct"):
    check(data.count(b"\0" + name + b"\0") == 1, "the fixture names %s once" % name)
raw[NOTYPES] = os.path.join(tmp, "notypes.btf")
open(raw[NOTYPES], "wb").write(data.replace(b"\0file\0", b"\0filX\0", 1).replace(b"\0mm_struct\0", b"\0mm_strucX\0", 1))
for kid in (NORP, AMBIG, BROKEN, NOTYPES):
    pack(raw[kid], hub, kid)
sums = []
for k in hub_kernels(hub):
    digest = hashlib.sha256(open(os.path.join(hub, k + ".btf.tar.xz"), "rb").read()).hexdigest()
    sums.append("%s  ./%s.btf.tar.xz\n" % (digest, k))
open(os.path.join(hub, "SHA256SUMS"), "w").write("".join(sums))
kernels = hub_kernels(hub)
readable = [k for k in kernels if k != BROKEN]

# libbpf's verdicts: per object x kernel, the load result and the programs whose
# relocation libbpf poisoned or found ambiguous.
def libbpf_verdict(o, kid):
    p = subprocess.run([oracle, obj(o), raw[kid]], capture_output=True, text=True, timeout=120)
    m = re.search(r"^load: (-?\d+)$", p.stdout, re.M)
    if not m:
        return None
    bad = set()
    for line in p.stdout.splitlines():
        r = re.search(r"prog '([^']*)': relo #\d+: (.*)", line)
        if r and ("substituting insn" in r.group(2) and "invalid insn" in r.group(2) or "ambiguity" in r.group(2)):
            bad.add(r.group(1))
    return int(m.group(1)), bad, p.stdout

probe = libbpf_verdict("sample", "ubuntu/20.04/x86_64/5.11.0-1028-gcp")
if probe is None:
    # No "load:" line: the oracle crashed or changed format. A failure, not a skip.
    fatal("the oracle did not report a load result for the probe object")
if probe[0] == -1 and "Operation not permitted" in probe[2]:
    shutil.rmtree(tmp)
    skip_no_bpf("libbpf could not load an object")

def run(*args):
    return subprocess.run([btfctl, *args], capture_output=True, text=True, timeout=600)

objs = [obj(o) for o in OBJECTS]
html_path = os.path.join(tmp, "report.html")
p = run("--json", "check", *objs, "--from", hub, "--html", html_path, "-j", "2")
check(p.returncode == 1, "check over a tree with a failing kernel exits 1 (got %d: %s)" % (p.returncode, p.stderr))
doc = json.loads(p.stdout)

# --json: the schema documented in btfctl(1).
def typed(value, spec, where):
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return check(False, "%s: expected an object" % where)
        check(set(value) == set(spec), "%s: keys %s, expected %s" % (where, sorted(value), sorted(spec)))
        for k, s in spec.items():
            if k in value: typed(value[k], s, where + "." + k)
    elif isinstance(spec, list):
        if not isinstance(value, list):
            return check(False, "%s: expected an array" % where)
        for i, v in enumerate(value): typed(v, spec[0], "%s[%d]" % (where, i))
    elif isinstance(spec, tuple):
        check(any(isinstance(value, t) for t in spec), "%s: %r is not %s" % (where, value, spec))
    else:
        check(isinstance(value, spec) and not (spec is int and isinstance(value, bool)), "%s: %r is not %s" % (where, value, spec))
S, N, B, OPT = str, int, bool, (str, type(None))
schema = {
    "source": S, "kernel_errors": N, "all_load": B,
    "objects": [{"name": S, "path": S, "programs": [{"name": S, "section": S}],
                 "kernels_checked": N, "kernels_loading": N, "kernels_loading_guarded": N,
                 "failures": [{"reason": S, "programs": [S], "kernels": [S]}],
                 "guarded_fallbacks": [{"reason": S, "guard": S, "programs": [S], "kernels": [S]}]}],
    "kernels": [{"id": S, "distro": S, "version": S, "arch": S, "release": S, "error": OPT,
                 "objects": [{"object": S, "loads": B, "verdict": S, "error": OPT, "relocations": N,
                              "programs": [{"name": S, "loads": B, "verdict": S}],
                              "unresolved": [{"program": OPT, "section": S, "relo": N, "insn": N, "kind": S,
                                              "access": S, "local": S, "result": S, "candidates": N,
                                              "reason": S, "detail": S, "guard": (dict, type(None))}]}]}],
}
typed(doc, schema, "json")
check(doc["kernel_errors"] == 1 and doc["all_load"] is False, "one kernel error, not all load")
check([k["id"] for k in doc["kernels"]] == kernels, "every kernel is a row, in order: %s" % [k["id"] for k in doc["kernels"]])
rows = {k["id"]: k for k in doc["kernels"]}
check(rows[BROKEN]["error"] and "task_struct" in rows[BROKEN]["error"] and rows[BROKEN]["objects"] == [],
      "the unreadable kernel is listed with its error: %r" % rows[BROKEN]["error"])
for r in (rows[k] for k in readable):
    check(r["error"] is None and [c["object"] for c in r["objects"]] == OBJECTS, "%s: checked for every object" % r["id"])
    for c in r["objects"]:
        check(c["verdict"] in ("loads", "loads_guarded", "fails") and c["loads"] == (c["verdict"] != "fails"),
              "%s: verdict %r agrees with loads=%s" % (r["id"], c["verdict"], c["loads"]))
        for pr in c["programs"]:
            check(pr["verdict"] in ("loads", "loads_guarded", "fails") and pr["loads"] == (pr["verdict"] != "fails"),
                  "%s %s: verdict %r agrees with loads=%s" % (r["id"], pr["name"], pr["verdict"], pr["loads"]))
        for u in c["unresolved"]:
            check(u["result"] in ("absent", "fails", "ambiguous"), "result %r is one of the documented" % u["result"])
            if u["guard"] is not None:
                typed(u["guard"], {"relo": N, "insn": N, "kind": S, "access": S, "local": S, "value": N}, "guard")
                check(u["result"] == "fails", "only a failing relocation has a guard: %s" % u)

# Agreement with libbpf, kernel x object, and program by program.
compared = 0
for kid in readable:
    for o, cell in zip(OBJECTS, rows[kid]["objects"]):
        v = libbpf_verdict(o, kid)
        if v is None:
            check(False, "%s x %s: the oracle printed no load result" % (o, kid)); continue
        rc, bad, out = v
        ours_bad = {p["name"] for p in cell["programs"] if not p["loads"]}
        compared += 1
        check((rc == 0) == cell["loads"],
              "%s x %s: libbpf load %d, check says loads=%s\n%s" % (o, kid, rc, cell["loads"], out))
        if rc != 0:
            check(bad, "%s x %s: libbpf failed for a reason other than CO-RE (no poisoned or ambiguous relocation):\n%s" % (o, kid, out))
        if "ambiguity" in out:
            # libbpf stops the whole load at the first ambiguity, so it names
            # fewer programs; check goes on and names every program with one.
            check(bad and bad <= ours_bad, "%s x %s: failing programs: libbpf %s (stopped at an ambiguity), check %s" % (o, kid, sorted(bad), sorted(ours_bad)))
        else:
            check(bad == ours_bad, "%s x %s: failing programs: libbpf %s, check %s" % (o, kid, sorted(bad), sorted(ours_bad)))

# The known differences, spelled out (so a check that says "ok" everywhere fails).
def cell(kid, o): return rows[kid]["objects"][OBJECTS.index(o)]
norp = cell(NORP, "check_progs")
check(not norp["loads"] and {p["name"]: p["loads"] for p in norp["programs"]} ==
      {"read_parent": False, "read_pid": True, "has_parent": True},
      "on %s only read_parent fails: %s" % (NORP, norp["programs"]))
check(any(u["result"] == "fails" and u["access"] == "struct task_struct.real_parent" and
          u["reason"] == "field `task_struct.real_parent` missing" and u["program"] == "read_parent"
          for u in norp["unresolved"]), "the failing relocation is described as libbpf does: %s" % norp["unresolved"])
check(any(u["result"] == "absent" and u["kind"] == "field_exists" and u["program"] == "has_parent"
          for u in norp["unresolved"]), "field_exists of the missing field resolves as absent")
check(not cell(NORP, "sample")["loads"] and cell("ubuntu/20.04/x86_64/5.11.0-1028-gcp", "sample")["loads"],
      "sample fails only on the kernel without real_parent")
amb = cell(AMBIG, "sample")
check(not amb["loads"] and any(u["result"] == "ambiguous" and u["reason"] == "field `task_struct.real_parent` ambiguous"
                               and "field offset ambiguity" in u["detail"] for u in amb["unresolved"]),
      "sample on %s: the real_parent relocation is ambiguous: %s" % (AMBIG, amb["unresolved"]))
amb = cell(AMBIG, "check_progs")
# (has_parent's field_exists may or may not meet it: as in libbpf, read_pid's
# relocation prunes task_struct's candidates to those with a pid first.)
check({p["name"]: p["loads"] for p in amb["programs"] if p["name"] != "has_parent"} == {"read_parent": False, "read_pid": True},
      "on %s read_parent meets the ambiguity, read_pid loads: %s" % (AMBIG, amb["programs"]))
nt = cell(NOTYPES, "kinds")
check(nt["loads"] and {(u["kind"], u["access"], u["result"]) for u in nt["unresolved"]} >=
      {("type_size", "struct file", "absent"), ("target_type_id", "struct mm_struct", "absent")},
      "type_size and target_type_id of a missing type resolve to 0, as libbpf's: %s" % nt["unresolved"])
summ = {o["name"]: o for o in doc["objects"]}
check(summ["sample"]["kernels_checked"] == len(readable) and summ["sample"]["kernels_loading"] == len(readable) - 2,
      "sample loads on all but two kernels: %s" % summ["sample"])
check(summ["norelo"]["kernels_loading"] == len(readable), "norelo loads everywhere")
check({"reason": "field `task_struct.real_parent` missing", "programs": ["read_parent"], "kernels": [NORP]}
      in summ["check_progs"]["failures"], "check_progs' failure groups: %s" % summ["check_progs"]["failures"])

# Text: the summary line names the field and the kernels sharing it; the error goes to stderr.
p = run("check", *objs, "--from", hub)
check(p.returncode == 1, "text run exits 1")
lines = {l.split(":")[0]: l for l in p.stdout.splitlines()}
n = len(readable)
check(lines.get("norelo") == "norelo: %d/%d kernels" % (n, n), "norelo's line: %r" % lines.get("norelo"))
check(re.search(r"^sample: %d/%d kernels; .*field `task_struct.real_parent` missing on 1: %s" % (n - 2, n, re.escape(NORP)),
                lines.get("sample", "")), "sample's line names the missing field: %r" % lines.get("sample"))
check("(read_parent)" in lines.get("check_progs", ""), "the failing program is named: %r" % lines.get("check_progs"))
check(BROKEN in p.stderr and "error" in p.stderr, "the unreadable kernel is listed on stderr: %r" % p.stderr)

# Grouping: two kernels without the field share one group.
pack(raw[NORP], hub, "testos/1/x86_64/5.11.0-norp2")
p = run("--json", "check", obj("check_progs"), "--from", hub, "--distro", "testos", "--version", "1")
g = json.loads(p.stdout)["objects"][0]["failures"]
check(any(f["reason"] == "field `task_struct.real_parent` missing" and f["kernels"] == [NORP, NORP + "2"] for f in g),
      "kernels sharing a failure are grouped: %s" % g)
os.unlink(os.path.join(hub, NORP + "2.btf.tar.xz"))

# HTML: well-formed, self-contained, every kernel row and program column.
class Parser(html.parser.HTMLParser):
    VOID = {"meta", "br", "hr", "img", "link", "input", "col", "wbr"}
    def __init__(self):
        super().__init__(); self.stack, self.errors, self.rows, self.cols, self.tags = [], [], [], [], set()
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        a = dict(attrs)
        for k, v in attrs:
            if (k in ("src", "href", "action", "srcset") and not (k == "href" and v.startswith("#"))) or (v and re.search(r"(https?:|//|url\()", v) and k != "title"):
                self.errors.append("external reference %s=%r" % (k, v))
        if "data-kernel" in a: self.rows.append(a["data-kernel"])
        if "data-program" in a: self.cols.append(a["data-program"])
        if tag not in self.VOID: self.stack.append(tag)
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else "nothing"))
        else:
            self.stack.pop()
    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style" and re.search(r"(url\(|@import|https?:)", data):
            self.errors.append("the stylesheet loads something")
text = open(html_path, encoding="utf-8").read()
hp = Parser(); hp.feed(text); hp.close()
check(text.startswith("<!DOCTYPE html>"), "HTML starts with a doctype")
check(not hp.errors and not hp.stack, "HTML well-formed and self-contained: %s %s" % (hp.errors, hp.stack))
check(not hp.tags & {"script", "link", "img", "iframe", "object", "embed"}, "no script or external asset: %s" % hp.tags)
check("style" in hp.tags and "table" in hp.tags, "inline style and a table")
check(hp.rows == kernels, "one row per kernel: %s" % hp.rows)
want_cols = ["%s/%s" % (o["name"], p["name"]) for o in doc["objects"] for p in o["programs"]]
check(hp.cols == want_cols and "check_progs/read_pid" in hp.cols, "one column per program: %s" % hp.cols)
check("field <code>task_struct.real_parent</code> missing" in text, "the HTML says which field is missing, in <code>")
check(re.search(r"tbody th\{[^}]*position:sticky;left:0", text), "the kernel column stays in view (sticky)")
check(text.count('class="fail"') >= 3 and 'class="err"' in text, "failing cells and the error row are marked")

# -j changes nothing; exit codes 0 (all load), 1 (no kernel matches), 2 (usage).
p1 = run("--json", "check", *objs, "--from", hub, "-j", "1")
p4 = run("--json", "check", *objs, "--from", hub, "-j4")  # attached, as in -j$(nproc)
check(p1.stdout == p4.stdout and p1.stdout, "-j 1 and -j4 give the same report (%s)" % p4.stdout[:200])
p = run("check", *objs, "--from", hub, "--distro", "ubuntu", "--release-glob", "5.11.*")
check(p.returncode == 0, "every object loads on the ubuntu 5.11 fixture: exit 0 (%d, %s)" % (p.returncode, p.stdout))
p = run("--json", "check", obj("sample"), "--from", hub, "--release-glob", "9.*")
check(p.returncode == 1 and "no kernel" in json.loads(p.stdout)["error"]["message"],
      "no kernel matches: exit 1 with a JSON error (%d: %s)" % (p.returncode, p.stdout))
p = run("check", obj("sample"))
check(p.returncode == 2, "check without --from is a usage error (%d)" % p.returncode)
p = run("--json", "check", os.path.join(tmp, "report.html"), "--from", hub)
check(p.returncode == 1 and "not an ELF" in json.loads(p.stdout)["error"]["message"], "a non-object is named: %s" % p.stdout)

# A mirror URL (loopback HTTP, listed through its SHA256SUMS) gives the same report.
srv, url = serve_dir(hub)
p = run("--json", "check", *objs, "--from", url + "/", "-j", "2")
srv.shutdown()
web = json.loads(p.stdout) if p.stdout.startswith("{") else {}
check(p.returncode == 1 and web.get("kernels") == doc["kernels"] and web.get("objects") == doc["objects"],
      "checking over HTTP gives the directory's report (%d: %s)" % (p.returncode, p.stderr or p.stdout[:300]))

# Progress on a terminal only.
import pty
master, slave = pty.openpty()
p = subprocess.run([btfctl, "check", obj("sample"), "--from", hub, "--distro", "ubuntu"], stdout=subprocess.PIPE,
                   stderr=slave, timeout=300)
os.close(slave)
tty = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    tty += chunk
os.close(master)
check(b"checking kernels: 2/2" in tty, "progress shown on a terminal: %r" % tty)
p = run("check", obj("sample"), "--from", hub, "--distro", "ubuntu")
check("checking kernels" not in p.stderr, "no progress when stderr is not a terminal: %r" % p.stderr)

print("%d kernel x object verdicts compared with libbpf" % compared)
check(compared == len(readable) * len(OBJECTS), "every readable kernel x object compared (%d)" % compared)
shutil.rmtree(tmp)
finish()

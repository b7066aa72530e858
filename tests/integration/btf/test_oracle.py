#!/usr/bin/env python3
# Relocation equivalence: for every test object x every kernel we have, libbpf's
# CO-RE results against btfd's minimized BTF equal those against the full BTF
# (target_type_id values aside: ids are renumbered). Also shows that bpftool's
# output does not give the full-BTF results on the known repro cases, while
# ours does, and that where bpftool is right our bytes are the same as its.
import os, re, subprocess, sys, tarfile, tempfile, shutil

oracle, btfctl, bpfdir = sys.argv[1], sys.argv[2], sys.argv[3]
if os.geteuid() != 0:
    print("SKIP: the libbpf oracle needs bpf(2) (root)"); sys.exit(77)
vmlinux = "/sys/kernel/btf/vmlinux"
if not os.path.exists(vmlinux):
    print("SKIP: no /sys/kernel/btf/vmlinux, the test objects were not built"); sys.exit(77)
obj = lambda n: os.path.join(bpfdir, n + ".bpf.o")
tmp = tempfile.mkdtemp(prefix="btfd-oracle-")
failures = []

def oracle_lines(o, target):
    out = subprocess.run([oracle, o, target], capture_output=True, text=True, timeout=120).stdout
    kinds, results = {}, []
    for line in out.splitlines():
        m = re.search(r"prog '([^']*)': relo #(\d+): (.*)", line)
        if not m:
            if "ambiguity" in line: results.append(("ambiguity", line.split("libbpf: ")[-1]))
            continue
        key, rest = (m.group(1), int(m.group(2))), m.group(3)
        k = re.match(r"<(\w+)>", rest)
        if k and key not in kinds: kinds[key] = k.group(1)
        if re.match(r"(patched|substituting|no matching|.*ambiguity)", rest):
            if kinds.get(key) == "target_type_id":
                rest = re.sub(r"imm\d* \d+ -> \d+", "imm <type id>", rest)
            results.append((key, rest))
    return results

def minimize(tool, kernel, objs, out):
    if tool == "btfd":
        cmd = [btfctl, "--quiet", "minimize", kernel, *objs, "-o", out]
    else:
        cmd = ["bpftool", "gen", "min_core_btf", kernel, out, *objs]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stderr

probe = oracle_lines(obj("sample"), vmlinux)
if not probe:
    print("SKIP: libbpf could not relocate (bpf(2) not permitted?)"); sys.exit(77)

kernels = {"vmlinux": vmlinux}
shared = os.environ.get("BTFD_SHARED_DIR", "")
sample = os.path.join(shared, "btfhub-sample")
if os.path.isdir(sample):
    for root, _, files in os.walk(sample):
        for f in files:
            if f.endswith(".btf.tar.xz"):
                with tarfile.open(os.path.join(root, f)) as t:
                    m = [x for x in t.getmembers() if x.isfile()][0]
                    dst = os.path.join(tmp, f[: -len(".tar.xz")])
                    open(dst, "wb").write(t.extractfile(m).read())
                    kernels[f[: -len(".btf.tar.xz")]] = dst
else:
    print("note: ../shared/btfhub-sample absent; checking the running kernel only")

real_objects = [obj(n) for n in ("sample", "kinds", "match_void_tm", "exists_void", "norelo")]
def ambiguous(results):
    return any("ambiguity" in rest for _, rest in results)

compared = 0
for kname, kpath in sorted(kernels.items()):
    usable = []
    for o in real_objects:
        full = oracle_lines(o, kpath)
        out = os.path.join(tmp, kname + "." + os.path.basename(o) + ".btf")
        rc, err = minimize("btfd", kpath, [o], out)
        if rc != 0:
            # btfd refuses exactly when libbpf itself fails on the full BTF.
            if not ambiguous(full):
                failures.append("%s x %s: btfctl minimize failed (%s) but libbpf relocates fine" % (os.path.basename(o), kname, err.strip()))
            elif "ambiguity" not in err:
                failures.append("%s x %s: libbpf reports ambiguity, btfd says %s" % (os.path.basename(o), kname, err.strip()))
            continue
        mini = oracle_lines(o, out)
        compared += len(full)
        if full != mini:
            failures.append("%s x %s: results differ\n  full: %s\n  ours: %s" % (os.path.basename(o), kname, full, mini))
        usable.append(o)
    # All usable objects at once: marks accumulate, results must not change.
    out = os.path.join(tmp, kname + ".all.btf")
    rc, err = minimize("btfd", kpath, usable, out)
    if rc != 0:
        failures.append("%s: minimizing %d objects at once failed: %s" % (kname, len(usable), err)); continue
    for o in usable:
        if oracle_lines(o, kpath) != oracle_lines(o, out):
            failures.append("%s x %s: results differ when minimized together" % (os.path.basename(o), kname))
    print("%s: %d of %d objects relocate identically (%d bytes for all at once)" % (kname, len(usable), len(real_objects), os.path.getsize(out)))

# Synthetic kernel with duplicate flavored candidates (spec 4.6 item 1).
synthetic = os.path.join(bpfdir, "dup_target.btf")
cases = [("dup_local", synthetic), ("match_void_tm", vmlinux), ("exists_void", vmlinux)]
for name, kernel in cases:
    o = obj(name)
    ours, theirs = os.path.join(tmp, name + ".ours"), os.path.join(tmp, name + ".bpftool")
    rc, err = minimize("btfd", kernel, [o], ours)
    if rc != 0:
        failures.append("%s: btfctl minimize failed: %s" % (name, err)); continue
    full, mine = oracle_lines(o, kernel), oracle_lines(o, ours)
    compared += len(full)
    if full != mine:
        failures.append("%s: ours differs from the full BTF\n  full: %s\n  ours: %s" % (name, full, mine))
    if minimize("bpftool", kernel, [o], theirs)[0] == 0:
        if oracle_lines(o, theirs) == full:
            failures.append("%s: expected bpftool's output to give a different result (repro no longer shows)" % name)
        else:
            print("%s: bpftool's output changes libbpf's result; ours does not" % name)

# Where bpftool is right, our output is byte-identical to its.
for name in ("sample", "norelo"):
    ours, theirs = os.path.join(tmp, name + ".o1"), os.path.join(tmp, name + ".o2")
    minimize("btfd", vmlinux, [obj(name)], ours)
    minimize("bpftool", vmlinux, [obj(name)], theirs)
    if open(ours, "rb").read() != open(theirs, "rb").read():
        failures.append("%s: output differs from bpftool's where bpftool is correct" % name)
if os.path.getsize(os.path.join(tmp, "norelo.o1")) != 25:
    failures.append("an object without relocations must give the 25-byte empty BTF")

shutil.rmtree(tmp)
print("%d relocation results compared" % compared)
if compared < 50:
    failures.append("too few relocation results compared (%d)" % compared)
for f in failures: print("FAIL:", f)
sys.exit(1 if failures else 0)

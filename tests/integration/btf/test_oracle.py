#!/usr/bin/env python3
# Relocation equivalence: for every test object x every kernel we have (the
# repo's btfhub fixtures, a generated never-deduplicated kernel with many
# identical candidates, this machine's BTF when it has one, ../shared's sample
# when it is there), libbpf's CO-RE results against btfd's minimized BTF equal
# those against the full BTF (target_type_id values aside: ids are renumbered).
# Also shows that bpftool's output does not give the full-BTF results on the
# known repro cases, while ours does, and that where bpftool is right our bytes
# are the same as its.
import os, re, subprocess, sys, tarfile, tempfile, shutil
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import combined_hub_dir, core_relocations, hub_dir, hub_kernels, skip_not_root, skip_no_bpf, unpack_btf

oracle, btfctl, bpfdir, dup_kernel = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
if os.geteuid() != 0:
    skip_not_root("the libbpf oracle loads objects through bpf(2)")
vmlinux = "/sys/kernel/btf/vmlinux"
have_vmlinux = os.path.exists(vmlinux)
obj = lambda n: os.path.join(bpfdir, n + ".bpf.o")
tmp = tempfile.mkdtemp(prefix="btfd-oracle-")
failures = []

def oracle_lines(o, target):
    out = subprocess.run([oracle, o, target], capture_output=True, text=True, timeout=120).stdout
    return core_relocations(out)

def minimize(tool, kernel, objs, out):
    if tool == "btfd":
        cmd = [btfctl, "--quiet", "minimize", kernel, *objs, "-o", out]
    else:
        cmd = ["bpftool", "gen", "min_core_btf", kernel, out, *objs]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stderr

# The reference kernel for the repro and byte-identity cases: one of the repo's
# fixtures (5.11: one candidate per type, where bpftool's output is right), so
# these cases run on every host; this machine's BTF is added when present.
reference = unpack_btf(os.path.join(hub_dir(), "ubuntu/20.04/x86_64/5.11.0-1028-gcp.btf.tar.xz"),
                   os.path.join(tmp, "5.11.0-1028-gcp.reference.btf"))
references = [reference] + ([vmlinux] if have_vmlinux else [])

probe = oracle_lines(obj("sample"), reference)
if not probe:
    shutil.rmtree(tmp)
    skip_no_bpf("libbpf could not load an object to relocate it")

kernels = {}
if have_vmlinux:
    kernels["vmlinux"] = vmlinux
hub = combined_hub_dir(tmp)
for k in hub_kernels(hub):
    kernels[os.path.basename(k)] = unpack_btf(os.path.join(hub, k + ".btf.tar.xz"), os.path.join(tmp, os.path.basename(k) + ".btf"))
# Never deduplicated: 8 full copies of the smallest fixture kernel, so each
# kernel type has 8 identical candidates (as in CentOS 8's 44 MB 4.18.0-147 BTF).
dup = os.path.join(tmp, "dup8.btf")
p = subprocess.run([dup_kernel, kernels["4.19.0-17-amd64"], "8", dup], capture_output=True, text=True, timeout=120)
if p.returncode != 0:
    failures.append("generating the duplicate-candidate kernel failed: %s" % p.stderr.strip())
else:
    print("generated 4.19.0-17-amd64 x 8: %s" % p.stdout.strip())
    kernels["4.19.0-17-amd64.dup8"] = dup

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

# The never-deduplicated kernel's identical copies merge in the output
# (engine/btf/output_merge.cpp): its output is the single kernel's, byte for byte.
if "4.19.0-17-amd64.dup8" in kernels:
    same = 0
    for o in [os.path.basename(x) for x in real_objects] + ["all"]:
        one, many = ("%s/%s.%s.btf" % (tmp, k, o) for k in ("4.19.0-17-amd64", "4.19.0-17-amd64.dup8"))
        if not os.path.exists(one) and not os.path.exists(many):
            continue  # refused on both (libbpf refuses it on the full BTF too)
        if not os.path.exists(one) or not os.path.exists(many) or open(one, "rb").read() != open(many, "rb").read():
            failures.append("%s: the x8 kernel's output differs from the single kernel's" % o)
        else:
            same += 1
    print("4.19.0-17-amd64 x 8: %d outputs byte-identical to the single kernel's" % same)
    if same < 3:
        failures.append("too few outputs compared between the x8 and the single kernel (%d)" % same)

# Synthetic kernel with duplicate flavored candidates (spec 4.6 item 1).
synthetic = os.path.join(bpfdir, "dup_target.btf")
cases = [("dup_local", synthetic)] + [(n, r) for r in references for n in ("match_void_tm", "exists_void")]
for name, kernel in cases:
    o, where = obj(name), "%s on %s" % (name, os.path.basename(kernel))
    ours, theirs = os.path.join(tmp, name + ".ours"), os.path.join(tmp, name + ".bpftool")
    rc, err = minimize("btfd", kernel, [o], ours)
    if rc != 0:
        failures.append("%s: btfctl minimize failed: %s" % (where, err)); continue
    full, mine = oracle_lines(o, kernel), oracle_lines(o, ours)
    compared += len(full)
    if full != mine:
        failures.append("%s: ours differs from the full BTF\n  full: %s\n  ours: %s" % (where, full, mine))
    rc, err = minimize("bpftool", kernel, [o], theirs)
    if rc != 0:
        failures.append("%s: bpftool gen min_core_btf failed, the repro cannot show: %s" % (where, err.strip()))
    elif oracle_lines(o, theirs) == full:
        failures.append("%s: expected bpftool's output to give a different result (repro no longer shows)" % where)
    else:
        print("%s: bpftool's output changes libbpf's result; ours does not" % where)

# Where bpftool is right, our output is byte-identical to its.
for ref in references:
    for name in ("sample", "norelo"):
        ours, theirs = os.path.join(tmp, name + ".o1"), os.path.join(tmp, name + ".o2")
        minimize("btfd", ref, [obj(name)], ours)
        minimize("bpftool", ref, [obj(name)], theirs)
        if open(ours, "rb").read() != open(theirs, "rb").read():
            failures.append("%s on %s: output differs from bpftool's where bpftool is correct" % (name, ref))
    if os.path.getsize(os.path.join(tmp, "norelo.o1")) != 25:
        failures.append("an object without relocations must give the 25-byte empty BTF (on %s)" % ref)

shutil.rmtree(tmp)
print("%d relocation results compared" % compared)
# The repo's fixtures alone give 67 (objects built from vmlinux-fallback.h, no
# /sys/kernel/btf/vmlinux); fewer means kernels or objects went missing.
if compared < 60:
    failures.append("too few relocation results compared (%d)" % compared)
for f in failures: print("FAIL:", f)
sys.exit(1 if failures else 0)

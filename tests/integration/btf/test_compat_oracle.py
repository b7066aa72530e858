#!/usr/bin/env python3
# BTF for older readers keeps CO-RE results: for real objects (tests/bpf and
# the 50 tools of bench/gen/tools, compiled here) x kernels (this machine's
# BTF, the repo's btfhub fixtures) x compatibility levels, libbpf's own
# relocation results against the rewritten BTF (`btfctl minimize KERNEL
# --compat LEVEL`: the whole kernel; and minimized for the object, then
# rewritten) equal those against the original. The one allowed difference is
# what a level cannot express: an enumerator value relocation on an ENUM64
# whose value does not fit 32 bits (the rewrite reports such enumerators);
# any such difference is counted and shown, and fails when the rewrite
# dropped none.
import glob, json, os, shutil, subprocess, sys, tarfile, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import combined_hub_dir, core_relocations, hub_dir, hub_kernels, skip_not_root, skip_no_bpf, source_root, unpack_btf

oracle, btfctl, bpfdir = sys.argv[1:4]
if os.geteuid() != 0:
    skip_not_root("the libbpf oracle loads objects through bpf(2)")
tmp = tempfile.mkdtemp(prefix="btfd-compat-oracle-")
failures = []
LEVELS = ["5.0", "cilium-ebpf-0.9", "5.17"]  # the least, the Go reader's, all but ENUM64

def oracle_lines(o, target):
    return core_relocations(subprocess.run([oracle, o, target], capture_output=True, text=True, timeout=120).stdout)

def rewrite(kernel, level, out, objs=()):
    p = subprocess.run([btfctl, "--json", "minimize", kernel, *objs, "--compat", level, "-o", out],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        return None, (p.stdout + p.stderr).strip()  # --json: the error is on stdout
    return json.loads(p.stdout), ""

def compile_tools():
    """bench/gen/tools as bench/gen does: against the 5.11 fixture kernel's vmlinux.h."""
    out = os.path.join(tmp, "tools")
    os.makedirs(out)
    btf = unpack_btf(os.path.join(hub_dir(), "ubuntu/20.04/x86_64/5.11.0-1028-gcp.btf.tar.xz"), os.path.join(tmp, "v511.btf"))
    with open(os.path.join(out, "vmlinux.h"), "w") as h:
        subprocess.run(["bpftool", "btf", "dump", "file", btf, "format", "c"], stdout=h, check=True)
    here = os.path.join(source_root(), "bench", "gen", "tools")
    objs = []
    for c in sorted(glob.glob(os.path.join(here, "*.bpf.c"))):
        o = os.path.join(out, os.path.basename(c)[:-2] + ".o")
        subprocess.run(["clang", "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", "-Wall", "-Wno-unused-value",
                        "-Wno-unused-function", "-I" + out, "-I" + here, "-c", c, "-o", o], check=True)
        objs.append(o)
    return objs

test_objects = [os.path.join(bpfdir, n + ".bpf.o") for n in ("sample", "kinds", "match_void_tm", "exists_void", "guarded", "check_progs")]
test_objects = [o for o in test_objects if os.path.exists(o)]
if not oracle_lines(test_objects[0], "/sys/kernel/btf/vmlinux" if os.path.exists("/sys/kernel/btf/vmlinux") else
                    unpack_btf(os.path.join(hub_dir(), "ubuntu/20.04/x86_64/5.11.0-1028-gcp.btf.tar.xz"), os.path.join(tmp, "probe.btf"))):
    shutil.rmtree(tmp)
    skip_no_bpf("libbpf could not load an object to relocate it")
tools = compile_tools()

kernels = {}
if os.path.exists("/sys/kernel/btf/vmlinux"):
    kernels["vmlinux"] = "/sys/kernel/btf/vmlinux"
hub = combined_hub_dir(tmp)
for k in hub_kernels(hub):
    kernels[os.path.basename(k)] = unpack_btf(os.path.join(hub, k + ".btf.tar.xz"), os.path.join(tmp, os.path.basename(k) + ".btf"))

def enum_relo(result):
    key, rest = result
    return "enumval" in rest or "type_matches" in rest

compared, inexpressible, rewritten_types = 0, 0, 0
for kname, kpath in sorted(kernels.items()):
    # The tools were built against one kernel's types: they relocate against
    # this machine's BTF and the 5.11 fixture; the test objects against all.
    objs = test_objects + (tools if kname in ("vmlinux", "5.11.0-1028-gcp") else [])
    originals = {o: oracle_lines(o, kpath) for o in objs}
    for level in LEVELS:
        out = os.path.join(tmp, "%s.%s.btf" % (kname, level))
        info, err = rewrite(kpath, level, out)
        if info is None:
            failures.append("%s at %s: btfctl minimize --compat failed: %s" % (kname, level, err)); continue
        rewritten_types += info["types_rewritten"]
        for o in objs:
            want, got = originals[o], oracle_lines(o, out)
            compared += len(want)
            if want == got:
                continue
            differing = [r for r in set(want) ^ set(got)]
            if info["enumerators_dropped"] and all(enum_relo(r) for r in differing):
                inexpressible += len(differing)
                print("%s x %s at %s: %d enum relocations the level cannot express" % (os.path.basename(o), kname, level, len(differing)))
                continue
            failures.append("%s x %s at %s: results differ\n  full: %s\n  rewritten: %s" % (os.path.basename(o), kname, level, want, got))
        # Minimized for the object, then rewritten: the same results too.
        for o in test_objects:
            mout = os.path.join(tmp, "%s.%s.%s.min.btf" % (kname, level, os.path.basename(o)))
            info, err = rewrite(kpath, level, mout, [o])
            if info is None:
                # btfd refuses an object libbpf finds ambiguous on the full BTF
                # (test_oracle.py holds it to that); the rewrite changes nothing there.
                if "ambiguity" not in err:
                    failures.append("%s x %s at %s: minimize --compat failed: %s" % (os.path.basename(o), kname, level, err))
                continue
            got = oracle_lines(o, mout)
            compared += len(originals[o])
            if got != originals[o] and not (info["enumerators_dropped"] and all(enum_relo(r) for r in set(got) ^ set(originals[o]))):
                failures.append("%s x %s at %s, minimized: results differ\n  full: %s\n  ours: %s" % (os.path.basename(o), kname, level, originals[o], got))
    print("%s: %d objects x %d levels compared" % (kname, len(objs), len(LEVELS)))

shutil.rmtree(tmp)
print("%d relocation results compared, %d the level cannot express, %d types rewritten in all" % (compared, inexpressible, rewritten_types))
if compared < 500:
    failures.append("too few relocation results compared (%d)" % compared)
if os.path.exists("/sys/kernel/btf/vmlinux") and rewritten_types == 0:
    failures.append("no type was rewritten on any kernel: nothing was tested")
for f in failures: print("FAIL:", f)
sys.exit(1 if failures else 0)

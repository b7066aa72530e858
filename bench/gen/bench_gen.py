#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# btfgen for every kernel we have, two ways, in one run on the same inputs:
#   reference: btfhub's loop, one kernel at a time: `xz -dc | tar -x` the
#              archive, then `bpftool gen min_core_btf` for all objects;
#   btfd:      `btfctl gen -j$(nproc)` (each kernel unpacked and parsed once,
#              kernels in parallel), as a btfgen tree and as one bundle.
# Kernels: tests/data/btfhub plus ../shared/btfhub-sample when present.
# Objects: every BPF test object in BUILD/tests/bpf that libbpf relocates on
# every kernel (kinds.bpf.o is ambiguous on some: libbpf refuses it there, so
# btfctl does too and the loads would not be comparable).
# Prints wall-clock medians, the ratio, output sizes (tree files, bundle,
# tar.xz/tar.gz of the tree as agents embed it) and peak RSS (getrusage of
# each timed child; for the loop, its largest step).
# Usage: bench/gen/bench_gen.py BUILD [RUNS]
import os, resource, shutil, statistics, subprocess, sys, tempfile, time

build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
btfctl = os.path.join(build, "cli", "btfctl")
bpftool = shutil.which("bpftool") or "/usr/sbin/bpftool"
tmp = tempfile.mkdtemp(prefix="btfd-bench-gen-")

# One source directory with every kernel (copies, no links: a directory source
# is read inside its root only).
src = os.path.join(tmp, "src")
sources = [os.path.join(root, "tests", "data", "btfhub"), os.path.join(root, "..", "shared", "btfhub-sample")]
kernels = []
for s in sources:
    if not os.path.isdir(s):
        continue
    for dirpath, dirs, files in os.walk(s):
        for f in files:
            if not f.endswith(".btf.tar.xz"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), s)
            dst = os.path.join(src, rel)
            if os.path.exists(dst):
                continue
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(os.path.join(dirpath, f), dst)
            kernels.append(rel[: -len(".btf.tar.xz")])
kernels.sort()
objects = sorted(os.path.join(build, "tests", "bpf", f) for f in os.listdir(os.path.join(build, "tests", "bpf"))
                 if f.endswith(".bpf.o") and f != "kinds.bpf.o")
ncpu = os.cpu_count() or 1
print("%d kernels, %d objects (%s), %d cores" % (len(kernels), len(objects),
      " ".join(os.path.basename(o)[:-6] for o in objects), ncpu))

cpu = {}
def timed(cmd, **kw):
    """Runs cmd; returns (seconds, peak RSS in KiB of that child); adds its CPU time to cpu[cmd[0]]."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    _, status, usage = os.wait4(p.pid, 0)
    t = time.perf_counter() - t0
    cpu[os.path.basename(cmd[0])] = cpu.get(os.path.basename(cmd[0]), 0) + usage.ru_utime + usage.ru_stime
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("failed: %s: %s" % (" ".join(cmd), p.stderr.read().decode()[:500]))
    return t, usage.ru_maxrss

def bpftool_loop(out):
    peak = 0
    t0 = time.perf_counter()
    for k in kernels:
        work = os.path.join(tmp, "unpack")
        os.makedirs(work, exist_ok=True)
        _, rss = timed(["tar", "-xJf", os.path.join(src, k + ".btf.tar.xz"), "-C", work])
        peak = max(peak, rss)
        full = os.path.join(work, os.path.basename(k) + ".btf")
        dst = os.path.join(out, k + ".btf")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        _, rss = timed([bpftool, "gen", "min_core_btf", full, dst, *objects])
        peak = max(peak, rss)
        os.unlink(full)
    return time.perf_counter() - t0, peak

def btfctl_gen(out, bundle):
    cmd = [btfctl, "--quiet", "gen", *objects, "--from", src, "-o", out, "-j", str(ncpu)]
    return timed(cmd + (["--bundle"] if bundle else []))

ref_t, gen_t, bun_t = [], [], []
ref_rss = gen_rss = bun_rss = 0
for i in range(runs):
    for d in ("ref", "tree"):
        shutil.rmtree(os.path.join(tmp, d), ignore_errors=True)
    t, r = bpftool_loop(os.path.join(tmp, "ref")); ref_t.append(t); ref_rss = max(ref_rss, r)
    t, r = btfctl_gen(os.path.join(tmp, "tree"), False); gen_t.append(t); gen_rss = max(gen_rss, r)
    t, r = btfctl_gen(os.path.join(tmp, "all.bundle"), True); bun_t.append(t); bun_rss = max(bun_rss, r)

def files(d):
    return [os.path.join(dp, f) for dp, _, fs in os.walk(d) for f in fs]
tree_files = files(os.path.join(tmp, "tree"))
ref_files = files(os.path.join(tmp, "ref"))
if len(tree_files) != len(kernels) or len(ref_files) != len(kernels):
    sys.exit("expected %d outputs each, got tree %d, bpftool %d" % (len(kernels), len(tree_files), len(ref_files)))
tree_bytes = sum(os.path.getsize(f) for f in tree_files)
ref_bytes = sum(os.path.getsize(f) for f in ref_files)
bundle_bytes = os.path.getsize(os.path.join(tmp, "all.bundle"))
archives = {}
for fmt, flag in (("tar.xz", "-cJf"), ("tar.gz", "-czf")):
    a = os.path.join(tmp, "tree." + fmt)
    subprocess.run(["tar", flag, a, "-C", os.path.join(tmp, "tree"), "."], check=True)
    archives[fmt] = os.path.getsize(a)

bx = os.path.join(tmp, "all.bundle.xz")
subprocess.run("xz -c %s > %s" % (os.path.join(tmp, "all.bundle"), bx), shell=True, check=True)
archives["bundle.xz"] = os.path.getsize(bx)
med = statistics.median
print("\n| what | time (median of %d) | peak RSS |" % runs)
print("|---|---|---|")
print("| xz -d + bpftool gen min_core_btf, one kernel at a time | %.3f s | %.1f MB (largest step) |" % (med(ref_t), ref_rss / 1024))
print("| btfctl gen -j%d, tree | %.3f s | %.1f MB |" % (ncpu, med(gen_t), gen_rss / 1024))
print("| btfctl gen -j%d --bundle | %.3f s | %.1f MB |" % (ncpu, med(bun_t), bun_rss / 1024))
print("\nratio btfctl gen / bpftool loop: %.2fx (tree), %.2fx (bundle); goal <= 0.2x" %
      (med(gen_t) / med(ref_t), med(bun_t) / med(ref_t)))
print("CPU time per run (user+sys): tar/xz %.3f s + bpftool %.3f s; btfctl (tree and bundle) %.3f s" %
      (cpu.get("tar", 0) / runs, cpu.get("bpftool", 0) / runs, cpu.get("btfctl", 0) / runs / 2))
print("\n| output | bytes |")
print("|---|---|")
print("| bpftool's files, sum | %d |" % ref_bytes)
print("| btfctl gen tree, sum of %d files | %d |" % (len(tree_files), tree_bytes))
print("| bundle (%d kernels) | %d (%.2fx the files) |" % (len(kernels), bundle_bytes, bundle_bytes / tree_bytes))
print("| tree as tar.xz | %d |" % archives["tar.xz"])
print("| tree as tar.gz | %d |" % archives["tar.gz"])
print("| bundle as .xz (for transport only) | %d |" % archives["bundle.xz"])
shutil.rmtree(tmp)

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# btfgen for every kernel we have, two ways, in one run on the same inputs:
#   reference: btfhub's loop, one kernel at a time: `tar -xJf` the archive,
#              then one `bpftool gen min_core_btf` for all objects;
#   btfd:      `btfctl gen -j$(nproc)` (each kernel unpacked and parsed once,
#              kernels in parallel), as a btfgen tree and as one bundle.
# Kernels: tests/data/btfhub plus ../shared/btfhub-sample when present.
# Three object sets, each timed on its own:
#   tests: every BPF test object in BUILD/tests/bpf that libbpf relocates on
#          every kernel (kinds.bpf.o is ambiguous on some: libbpf refuses it
#          there, so btfctl does too and the loads would not be comparable);
#          a handful of relocations each;
#   tools: bench/gen/tools/*.bpf.c, tracing tools of libbpf-tools' size and
#          shape, compiled here with clang against a fixed vmlinux.h dumped
#          from one of the repo's kernels (as libbpf-tools ship one);
#   all:   both together, in one run (every test object included).
# Also times the decompression floor (tar -xJf of every archive, nothing
# else), which neither side can split across cores: it bounds the ratio.
# Prints wall-clock medians, CPU times, ratios, relocation counts (CO-RE
# records in the objects' .BTF.ext), output sizes and peak RSS (getrusage of
# each timed child; for the loop, its largest step); then checks a sample of
# tools objects x kernels with the libbpf oracle (core-oracle, needs bpf(2)):
# relocations against btfctl's minimized BTF equal those against the full BTF.
# Usage: bench/gen/bench_gen.py BUILD [RUNS]
import glob, lzma, os, shutil, statistics, struct, subprocess, sys, tarfile, tempfile, time

build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
btfctl = os.path.join(build, "cli", "btfctl")
oracle = os.path.join(build, "tests", "integration", "btf", "core-oracle")
bpftool = shutil.which("bpftool") or "/usr/sbin/bpftool"
clang = shutil.which("clang") or shutil.which("clang-14")
tmp = tempfile.mkdtemp(prefix="btfd-bench-gen-")
sys.path.insert(0, os.path.join(root, "tests", "integration"))
from testlib import core_relocations

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
ncpu = os.cpu_count() or 1

def unpack(archive, dst):
    with tarfile.open(archive, "r:xz") as t:
        m = [x for x in t.getmembers() if x.isfile()][0]
        with open(dst, "wb") as out:
            out.write(t.extractfile(m).read())
    return dst

def compile_tools():
    """Compiles bench/gen/tools into tmp/tools; returns (objects, the clang command shown)."""
    if not clang:
        sys.exit("clang not found (scripts/deps.sh installs it)")
    out = os.path.join(tmp, "tools")
    os.makedirs(out)
    # The fixed vmlinux.h: the 5.11 fixture kernel's types, whatever the host runs.
    fixed = os.path.join(root, "tests", "data", "btfhub", "ubuntu", "20.04", "x86_64", "5.11.0-1028-gcp.btf.tar.xz")
    btf = unpack(fixed, os.path.join(tmp, "vmlinux-5.11.btf"))
    with open(os.path.join(out, "vmlinux.h"), "w") as h:
        subprocess.run([bpftool, "btf", "dump", "file", btf, "format", "c"], stdout=h, check=True)
    os.unlink(btf)
    flags = ["-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", "-Wall", "-Wno-unused-value",
             "-Wno-unused-function", "-I" + out, "-I" + os.path.join(here, "tools")]
    objects = []
    for c in sorted(glob.glob(os.path.join(here, "tools", "*.bpf.c"))):
        o = os.path.join(out, os.path.basename(c)[:-2] + ".o")
        p = subprocess.run([clang, *flags, "-c", c, "-o", o], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("clang failed on %s:\n%s" % (c, p.stderr[-2000:]))
        objects.append(o)
    shown = "%s %s -c bench/gen/tools/NAME.bpf.c -o NAME.bpf.o  (vmlinux.h: bpftool btf dump of %s)" % (
        os.path.basename(clang), " ".join(flags).replace(out, "$TMP/tools").replace(root + "/", ""),
        os.path.relpath(fixed, root))
    return objects, shown

def core_relo_count(obj):
    """CO-RE relocation records in an object's .BTF.ext (what both tools act on)."""
    data = open(obj, "rb").read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    def sec(i):
        name, _, _, _, off, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        return name, off, size
    _, stroff, _ = sec(shstrndx)
    for i in range(shnum):
        name, off, size = sec(i)
        if data[stroff + name: data.index(b"\0", stroff + name)] != b".BTF.ext":
            continue
        hdr_len, = struct.unpack_from("<I", data, off + 4)
        if hdr_len < 32:
            return 0
        relo_off, relo_len = struct.unpack_from("<II", data, off + 24)
        p, end = off + hdr_len + relo_off, off + hdr_len + relo_off + relo_len
        rec_size, = struct.unpack_from("<I", data, p)
        p += 4
        n = 0
        while p < end:
            _, num = struct.unpack_from("<II", data, p)
            n += num
            p += 8 + num * rec_size
        return n
    return 0

cpu = {}
def timed(cmd, tag, **kw):
    """Runs cmd; returns (seconds, peak RSS in KiB of that child); adds its CPU time to cpu[tag]."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    _, status, usage = os.wait4(p.pid, 0)
    t = time.perf_counter() - t0
    cpu[tag] = cpu.get(tag, 0) + usage.ru_utime + usage.ru_stime
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("failed: %s: %s" % (" ".join(cmd), p.stderr.read().decode()[:500]))
    return t, usage.ru_maxrss

def bpftool_loop(objects, out, tag):
    """btfhub's loop; returns (wall seconds, peak RSS KiB, seconds of it spent in tar -xJf)."""
    peak, untar = 0, 0.0
    t0 = time.perf_counter()
    for k in kernels:
        work = os.path.join(tmp, "unpack")
        os.makedirs(work, exist_ok=True)
        t, rss = timed(["tar", "-xJf", os.path.join(src, k + ".btf.tar.xz"), "-C", work], tag + ":tar")
        untar += t
        peak = max(peak, rss)
        full = os.path.join(work, os.path.basename(k) + ".btf")
        dst = os.path.join(out, k + ".btf")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        _, rss = timed([bpftool, "gen", "min_core_btf", full, dst, *objects], tag + ":bpftool")
        peak = max(peak, rss)
        os.unlink(full)
    return time.perf_counter() - t0, peak, untar

def btfctl_gen(objects, out, bundle, tag):
    cmd = [btfctl, "--quiet", "gen", *objects, "--from", src, "-o", out, "-j", str(ncpu)]
    return timed(cmd + (["--bundle"] if bundle else []), tag)

def files(d):
    return [os.path.join(dp, f) for dp, _, fs in os.walk(d) for f in fs]

def floor_run():
    """The decompression floor: tar -xJf of every archive, one after the other.
    Returns (total seconds, the slowest archive's seconds)."""
    work = os.path.join(tmp, "floor")
    t0, slowest = time.perf_counter(), 0.0
    for k in kernels:
        os.makedirs(work, exist_ok=True)
        t, _ = timed(["tar", "-xJf", os.path.join(src, k + ".btf.tar.xz"), "-C", work], "floor")
        slowest = max(slowest, t)
        shutil.rmtree(work)
    return time.perf_counter() - t0, slowest

def bench_set(name, objects):
    d = os.path.join(tmp, name)
    ref_t, gen_t, bun_t, untar_t = [], [], [], []
    ref_rss = gen_rss = bun_rss = 0
    for _ in range(runs):
        for sub in ("ref", "tree"):
            shutil.rmtree(os.path.join(d, sub), ignore_errors=True)
        t, r, u = bpftool_loop(objects, os.path.join(d, "ref"), name)
        ref_t.append(t); untar_t.append(u); ref_rss = max(ref_rss, r)
        t, r = btfctl_gen(objects, os.path.join(d, "tree"), False, name + ":gen")
        gen_t.append(t); gen_rss = max(gen_rss, r)
        t, r = btfctl_gen(objects, os.path.join(d, "all.bundle"), True, name + ":bundle")
        bun_t.append(t); bun_rss = max(bun_rss, r)
    tree_files, ref_files = files(os.path.join(d, "tree")), files(os.path.join(d, "ref"))
    if len(tree_files) != len(kernels) or len(ref_files) != len(kernels):
        sys.exit("%s: expected %d outputs each, got tree %d, bpftool %d" % (name, len(kernels), len(tree_files), len(ref_files)))
    tree_bytes = sum(os.path.getsize(f) for f in tree_files)
    sizes = {"ref": sum(os.path.getsize(f) for f in ref_files), "tree": tree_bytes,
             "distinct": len({open(f, "rb").read() for f in tree_files}),
             "bundle": os.path.getsize(os.path.join(d, "all.bundle"))}
    for fmt, flag in (("tar.xz", "-cJf"), ("tar.gz", "-czf")):
        a = os.path.join(d, "tree." + fmt)
        subprocess.run(["tar", flag, a, "-C", os.path.join(d, "tree"), "."], check=True)
        sizes[fmt] = os.path.getsize(a)
    with open(os.path.join(d, "all.bundle"), "rb") as f:
        sizes["bundle.xz"] = len(lzma.compress(f.read()))
    med = statistics.median
    return {"name": name, "objects": objects, "relos": sum(core_relo_count(o) for o in objects),
            "ref": med(ref_t), "gen": med(gen_t), "bundle": med(bun_t), "untar": med(untar_t),
            "ref_rss": ref_rss, "gen_rss": gen_rss, "bun_rss": bun_rss, "sizes": sizes,
            "cpu_ref": (cpu.get(name + ":tar", 0) + cpu.get(name + ":bpftool", 0)) / runs,
            "cpu_tar": cpu.get(name + ":tar", 0) / runs, "cpu_gen": cpu.get(name + ":gen", 0) / runs}

def oracle_sample(result, every=6):
    """libbpf's results for a sample of objects x every kernel: full BTF vs btfctl's tree file."""
    if not os.access(oracle, os.X_OK):
        return "oracle: not run (%s not built: ninja -C BUILD tests/integration/btf/core-oracle)" % oracle
    full_dir = os.path.join(tmp, "full")
    os.makedirs(full_dir, exist_ok=True)
    def lines(o, target):
        p = subprocess.run([oracle, o, target], capture_output=True, text=True, timeout=120)
        return core_relocations(p.stdout + p.stderr)
    sample = result["objects"][::every]
    equal, pairs, compared, bad = 0, 0, 0, []
    for k in kernels:
        full = unpack(os.path.join(src, k + ".btf.tar.xz"), os.path.join(full_dir, "k.btf"))
        for o in sample:
            want = lines(o, full)
            if not want and pairs == 0:
                return "oracle: not run (libbpf relocated nothing: bpf(2) not permitted?)"
            got = lines(o, os.path.join(tmp, result["name"], "tree", k + ".btf"))
            pairs += 1
            compared += len(want)
            if got == want and want:
                equal += 1
            else:
                bad.append("%s x %s" % (os.path.basename(o)[:-6], k))
    return "oracle: %d/%d pairs equal (%s objects x %d kernels, %d relocation results compared)%s" % (
        equal, pairs, len(sample), len(kernels), compared, "; DIFFER: " + ", ".join(bad) if bad else "")

test_objects = sorted(os.path.join(build, "tests", "bpf", f) for f in os.listdir(os.path.join(build, "tests", "bpf"))
                      if f.endswith(".bpf.o") and f != "kinds.bpf.o")
tool_objects, clang_cmd = compile_tools()
print("%d kernels (%s), %d cores" % (len(kernels), " ".join(os.path.basename(k) for k in kernels), ncpu))
print("tests: %d objects (%s)" % (len(test_objects), " ".join(os.path.basename(o)[:-6] for o in test_objects)))
print("tools: %d objects compiled with: %s" % (len(tool_objects), clang_cmd))

floors = [floor_run() for _ in range(runs)]
floor, slowest = statistics.median(f[0] for f in floors), statistics.median(f[1] for f in floors)
# No schedule of whole archives on ncpu cores beats the total / ncpu, nor the
# slowest single archive (one xz stream cannot be split).
bound = max(floor / ncpu, slowest)
results = [bench_set("tests", test_objects), bench_set("tools", tool_objects),
           bench_set("all", test_objects + tool_objects)]

med = statistics.median
print("\n| set | objects | CO-RE relocations | xz -d + bpftool loop | btfctl gen -j%d tree / bundle | ratio tree / bundle | CPU: loop (of it tar) / btfctl | CPU ratio |" % ncpu)
print("|---|---|---|---|---|---|---|---|")
for r in results:
    print("| %s | %d | %d | %.3f s | %.3f / %.3f s | %.2fx / %.2fx | %.2f (%.2f) / %.2f s | %.2fx |" % (
        r["name"], len(r["objects"]), r["relos"], r["ref"], r["gen"], r["bundle"], r["gen"] / r["ref"],
        r["bundle"] / r["ref"], r["cpu_ref"], r["cpu_tar"], r["cpu_gen"], r["cpu_gen"] / r["cpu_ref"]))
print("(wall: median of %d; goal <= 0.2x)" % runs)
print("\ndecompression floor: tar -xJf of all %d archives takes %.3f s (%.3f s CPU), one stream each;" %
      (len(kernels), floor, cpu.get("floor", 0) / runs))
print("on %d cores at best max(total / %d, slowest archive %.3f s) = %.3f s, which bounds btfctl gen's ratio to >= %s" % (
      ncpu, ncpu, slowest, bound, ", ".join("%.2fx (%s)" % (bound / r["ref"], r["name"]) for r in results)))
print("(the loop spends %s of its wall time in tar -xJf)" %
      ", ".join("%.0f%% (%s)" % (100 * r["untar"] / r["ref"], r["name"]) for r in results))

print("\n| set | bpftool's files | btfctl tree (distinct) | bundle | tree tar.xz / tar.gz | bundle .xz | peak RSS loop (largest step) / gen / gen --bundle |")
print("|---|---|---|---|---|---|---|")
for r in results:
    s = r["sizes"]
    print("| %s | %d | %d (%d of %d) | %d (%.2fx the files) | %d / %d | %d | %.1f / %.1f / %.1f MB |" % (
        r["name"], s["ref"], s["tree"], s["distinct"], len(kernels), s["bundle"], s["bundle"] / s["tree"],
        s["tar.xz"], s["tar.gz"], s["bundle.xz"], r["ref_rss"] / 1024, r["gen_rss"] / 1024, r["bun_rss"] / 1024))

print("\n" + oracle_sample(results[1]))
shutil.rmtree(tmp)

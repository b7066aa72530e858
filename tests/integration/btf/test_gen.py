#!/usr/bin/env python3
# btfctl gen, bundles, btfctl import and btfd_bundle_find, on real kernels (the
# repo's btfhub fixtures plus ../shared's sample when present) and the real
# test objects:
#   - a tree in btfhub's btfgen layout (from a directory and from a loopback
#     mirror URL: the same bytes) and a bundle from one source; a damaged
#     archive in the source is listed as failed, exits non-zero, and every
#     other kernel is still produced;
#   - dedup: a kernel copied under a second release name is one blob in the bundle;
#   - btfd_bundle_find (libbtfd, no btfd) gives the tree's bytes, and after
#     `btfctl import` the same bytes as `btfctl get --object` on a btfd without
#     a hub, which answers from the cache (minimized hit counted);
#   - hostile bundles are refused with a named error by import and by libbtfd;
#   - mode "oracle" (root: bpf(2)): libbpf's CO-RE results for every kernel x
#     object against the tree's files and the bundle's BTF equal those
#     against the full kernel BTF.
import io, json, os, re, shutil, struct, subprocess, sys, tarfile, tempfile, hashlib
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check, combined_hub_dir, core_relocations, finish, hub_kernels, serve_dir, skip_no_bpf, skip_not_root, fatal

btfd, btfctl, oracle, bpfdir, bundle_find = sys.argv[1:6]
mode = sys.argv[6] if len(sys.argv) > 6 else "main"
# Oracle mode loads objects through bpf(2); main mode checks that a non-admin
# uid (nobody, through setpriv) cannot import: both need root.
if os.geteuid() != 0:
    skip_not_root("the oracle loads objects through bpf(2); the import check runs as nobody")
tmp = tempfile.mkdtemp(prefix="btfd-gen-test-")
os.chmod(tmp, 0o755)
# kinds.bpf.o is left out: its relocations are ambiguous on two fixture kernels
# (libbpf refuses it there too), which would fail those kernels for every object.
names = ["sample", "match_void_tm", "exists_void", "norelo"]
objects = [os.path.join(bpfdir, n + ".bpf.o") for n in names]
for o in objects:
    if not os.path.isfile(o):
        fatal("test object %s was not built" % o)

def run(*args, timeout=600):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr

def unpack_bytes(archive):
    with tarfile.open(archive) as t:
        m = [x for x in t.getmembers() if x.isfile()][0]
        return t.extractfile(m).read()

def pack(path, release, data):
    with tarfile.open(path, "w:xz") as t:
        info = tarfile.TarInfo(release + ".btf")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))

# The source: the fixtures (and ../shared's sample), one kernel copied under a
# second release name (identical minimized output), one damaged archive.
src = combined_hub_dir(tmp)
# combined_hub_dir links the archives from outside it; a directory source is
# read only inside its root (links out are not followed): copy them in.
for root, _, files in os.walk(src):
    for f in files:
        path = os.path.join(root, f)
        if f.endswith(".btf.tar.xz") and os.path.islink(path):
            target = os.path.realpath(path)
            os.unlink(path)
            shutil.copyfile(target, path)
kdir = os.path.join(src, "ubuntu/20.04/x86_64")
pack(os.path.join(kdir, "5.4.0-26-copy.btf.tar.xz"), "5.4.0-26-copy",
     unpack_bytes(os.path.join(kdir, "5.4.0-26-generic.btf.tar.xz")))
open(os.path.join(kdir, "9.9.9-damaged.btf.tar.xz"), "wb").write(b"\xfd7zXZ\x00" + b"\x00" * 200)
with open(os.path.join(src, "SHA256SUMS"), "a") as sums:
    for r in ("5.4.0-26-copy", "9.9.9-damaged"):
        rel = "ubuntu/20.04/x86_64/%s.btf.tar.xz" % r
        sums.write("%s  %s\n" % (hashlib.sha256(open(os.path.join(src, rel), "rb").read()).hexdigest(), rel))
kernels = [k for k in hub_kernels(src) if not k.endswith("9.9.9-damaged")]
damaged = "ubuntu/20.04/x86_64/9.9.9-damaged"
print("source: %d kernels and one damaged archive" % len(kernels))

tree = os.path.join(tmp, "tree")
bundle = os.path.join(tmp, "all.bundle")

def gen_outputs():
    rc, out, err = run(btfctl, "--json", "gen", *objects, "--from", src, "-o", tree, "-j", "2")
    j = json.loads(out) if out.strip() else {}
    check(rc == 1, "gen with a damaged archive exits 1: rc=%d %s" % (rc, err))
    check([f["kernel"] for f in j.get("failed", [])] == [damaged], "only the damaged kernel is listed as failed: %s" % j.get("failed"))
    check(j.get("generated") == len(kernels) and j.get("kernels") == len(kernels) + 1, "gen json counts: %s" % out[:300])
    for k in kernels:
        check(os.path.getsize(os.path.join(tree, k + ".btf")) > 0, "tree holds %s.btf" % k)
    check(not os.path.exists(os.path.join(tree, damaged + ".btf")), "no file for the damaged kernel")
    a = open(os.path.join(kdir.replace(src, tree), "5.4.0-26-generic.btf"), "rb").read()
    b = open(os.path.join(kdir.replace(src, tree), "5.4.0-26-copy.btf"), "rb").read()
    check(a == b, "a kernel and its copy minimize to the same bytes")
    # The same source as a mirror URL (listed through its SHA256SUMS, each
    # archive downloaded and checked against it): the same files.
    srv, url = serve_dir(src)
    try:
        tree_url = os.path.join(tmp, "tree-url")
        # A symlink planted at the temp name older btfctl used (<file>.tmp) in
        # a shared output directory: gen must not write through it.
        victim = os.path.join(tmp, "victim")
        open(victim, "w").write("precious")
        planted_dir = kdir.replace(src, tree_url)
        # A tree gen made for these objects (gen refuses a directory made by
        # anything else, or for other objects); then the symlink in it.
        run(btfctl, "--quiet", "gen", *objects, "--from", src, "-o", tree_url)
        os.makedirs(planted_dir, exist_ok=True)
        planted = os.path.join(planted_dir, "5.4.0-26-generic.btf.tmp")
        os.symlink(victim, planted)
        rc, out, err = run(btfctl, "--json", "gen", *objects, "--from", url, "-o", tree_url, "-j", "2")
        check(open(victim).read() == "precious" and os.path.islink(planted), "gen does not follow a planted temp-name symlink")
        os.unlink(planted)
        ju = json.loads(out) if out.strip() else {}
        check(rc == 1 and [f["kernel"] for f in ju.get("failed", [])] == [damaged], "gen --from URL: rc=%d %s %s" % (rc, out[:300], err))
        for k in kernels:
            same = os.path.exists(os.path.join(tree_url, k + ".btf")) and \
                open(os.path.join(tree_url, k + ".btf"), "rb").read() == open(os.path.join(tree, k + ".btf"), "rb").read()
            check(same, "gen --from URL gives the directory's bytes for %s" % k)
    finally:
        srv.shutdown()
    # Text mode: the failure is named on stderr.
    rc, out, err = run(btfctl, "gen", *objects, "--from", src, "-o", os.path.join(tmp, "tree2"))
    check(rc == 1 and damaged in err and "1 kernels failed" in err, "gen text names the failed kernel: %s" % err)
    # Filters: without the damaged kernel the run succeeds.
    rc, out, err = run(btfctl, "--json", "gen", *objects, "--from", src, "--distro", "ubuntu", "--release-glob", "5.4*",
                       "-o", os.path.join(tmp, "tree3"), "-j%d" % (os.cpu_count() or 1))
    j3 = json.loads(out) if out.strip() else {}
    check(rc == 0 and j3.get("generated") == 2 and j3.get("kernels") == 2 and not j3.get("failed"), "filtered gen: rc=%d %s %s" % (rc, out[:300], err))
    # A tree records the objects it was made for: another set is refused,
    # --replace starts the tree anew, a directory gen did not make is refused.
    tree3 = os.path.join(tmp, "tree3")
    manifest = json.load(open(os.path.join(tree3, ".btfctl-gen.json")))
    check(sorted(o["name"] for o in manifest["objects"]) == sorted(os.path.basename(o) for o in objects),
          "the tree names the objects it was made for: %s" % manifest)
    rc, out, err = run(btfctl, "gen", objects[0], "--from", src, "--distro", "ubuntu", "--release-glob", "5.4*", "-o", tree3)
    check(rc == 1 and "was made for other objects" in err and os.path.basename(objects[1]) in err,
          "gen into a tree made for other objects is refused, naming them: rc=%d %s" % (rc, err))
    rc, out, err = run(btfctl, "gen", objects[0], "--from", src, "--distro", "ubuntu", "--release-glob", "5.4*", "-o", tree3,
                       "--replace")
    manifest = json.load(open(os.path.join(tree3, ".btfctl-gen.json")))
    check(rc == 0 and [o["name"] for o in manifest["objects"]] == [os.path.basename(objects[0])],
          "--replace makes the tree anew for the new objects: rc=%d %s %s" % (rc, err, manifest))
    foreign = os.path.join(tmp, "foreign")
    os.makedirs(foreign)
    open(os.path.join(foreign, "notes.txt"), "w").write("mine")
    rc, out, err = run(btfctl, "gen", *objects, "--from", src, "-o", foreign, "--replace")
    check(rc == 1 and "was not made by btfctl gen" in err and open(os.path.join(foreign, "notes.txt")).read() == "mine",
          "a directory gen did not make is refused, --replace or not, and left alone: rc=%d %s" % (rc, err))
    # The bundle.
    rc, out, err = run(btfctl, "--json", "gen", *objects, "--from", src, "-o", bundle, "--bundle")
    jb = json.loads(out) if out.strip() else {}
    check(rc == 1 and [f["kernel"] for f in jb.get("failed", [])] == [damaged], "gen --bundle lists the damaged kernel: %s" % out[:300])
    data = open(bundle, "rb").read()
    check(data[:8] == b"BTFDBNDL", "bundle magic")
    blobs, nkernels = struct.unpack_from("<II", data, 44)
    distinct = len({hashlib.sha256(open(os.path.join(tree, k + ".btf"), "rb").read()).digest() for k in kernels})
    check(nkernels == len(kernels), "bundle indexes every kernel: %d" % nkernels)
    check(blobs == distinct and blobs < len(kernels), "identical content stored once: %d blobs, %d distinct, %d kernels" % (blobs, distinct, len(kernels)))
    tree_bytes = sum(os.path.getsize(os.path.join(tree, k + ".btf")) for k in kernels)
    print("tree: %d files, %d bytes; bundle: %d bytes, %d blobs" % (len(kernels), tree_bytes, len(data), blobs))
    # Each distinct content once: the bundle is its distinct blobs plus a small
    # header and index (the fixtures' minimized BTFs are tiny, so it need not
    # be smaller than the tree here; bench/gen measures real sizes).
    distinct_bytes = sum(len(open(os.path.join(tree, k + ".btf"), "rb").read()) for k in
                         {hashlib.sha256(open(os.path.join(tree, k + ".btf"), "rb").read()).digest(): k for k in kernels}.values())
    overhead = len(data) - distinct_bytes
    check(0 < overhead <= 128 + 32 * len(objects) + 48 * blobs + 24 * nkernels + 200 * nkernels + 8 * blobs,
          "bundle = distinct blobs + header and index: %d bytes over %d distinct bytes" % (len(data), distinct_bytes))
    # Usage errors.
    rc, _, err = run(btfctl, "gen", *objects, "-o", tree)
    check(rc == 2 and "--from" in err, "gen without --from is a usage error: %s" % err)
    rc, _, err = run(btfctl, "gen", *objects, "--from", src, "-o", "-")
    check(rc == 2 and "needs --bundle" in err, "a tree to standard output is a usage error: %s" % err)
    # A bundle to standard output: the same bytes as the file.
    p = subprocess.run([btfctl, "--quiet", "gen", *objects, "--from", src, "-o", "-", "--bundle"], capture_output=True, timeout=600)
    check(p.returncode == 1 and p.stdout == open(bundle, "rb").read(), "gen --bundle -o - writes the bundle to stdout")

def bundle_lookup(path, kernel, out):
    rc, text, err = run(bundle_find, path, *kernel.split("/"), out)
    check(rc == 0, "bundle-find ran: %s" % err)
    return text

def main_mode():
    gen_outputs()
    # libbtfd reads the bundle without btfd: the tree's bytes for every kernel.
    for k in kernels:
        out = os.path.join(tmp, "found.btf")
        text = bundle_lookup(bundle, k, out)
        ok = text.startswith("rc=0:") and open(out, "rb").read() == open(os.path.join(tree, k + ".btf"), "rb").read()
        check(ok, "btfd_bundle_find %s gives the tree's bytes: %s" % (k, text))
        check("source=bundle" in text and "minimized=1" in text and "write=refused" in text, "result fields: %s" % text)
    # A FIFO named as the bundle: refused at once, the open does not wait for a writer.
    fifo = os.path.join(tmp, "bundle.fifo")
    os.mkfifo(fifo)
    try:
        p = subprocess.run([bundle_find, fifo, *kernels[0].split("/"), os.path.join(tmp, "fifo.btf")],
                           capture_output=True, text=True, timeout=20)
        check(p.stdout.startswith("rc=-1020:"), "btfd_bundle_find refuses a FIFO: %s %s" % (p.stdout, p.stderr))
    except subprocess.TimeoutExpired:
        check(False, "btfd_bundle_find hangs on a FIFO")
    os.unlink(fifo)
    text = bundle_lookup(bundle, "ubuntu/20.04/x86_64/0.0-none", os.path.join(tmp, "none.btf"))
    check(text.startswith("rc=-1021:") and "no BTF for this kernel" in text, "a kernel not in the bundle: %s" % text)
    # Hostile bundles: a damaged index byte, a damaged blob, a truncated file, not a bundle.
    data = open(bundle, "rb").read()
    blob_off = struct.unpack_from("<Q", data, 128 + 32 * struct.unpack_from("<I", data, 40)[0])[0]
    hostile = {"index": bytearray(data), "blob": bytearray(data), "truncated": data[:-1], "foreign": b"not a bundle" * 20}
    hostile["index"][200] ^= 1
    hostile["blob"][blob_off + 40] ^= 1
    first = None
    for name, content in hostile.items():
        path = os.path.join(tmp, "hostile-%s.bundle" % name)
        open(path, "wb").write(bytes(content))
        hostile[name] = path
    # The damaged blob is the first kernel's in the sorted index (blobs are stored in index order).
    first = sorted(kernels)[0]
    for name in ("index", "truncated", "foreign", "blob"):
        text = bundle_lookup(hostile[name], first, os.path.join(tmp, "x.btf"))
        check(text.startswith("rc=-1020:") and "not a valid btfd bundle" in text, "libbtfd refuses the %s bundle: %s" % (name, text))

    # Limits: a bundle made for more objects than MaxObjectsPerRequest, or one
    # that would make more than MaxImportEntries entries, is refused whole.
    n_entries = len(kernels) * (len(objects) + 1)
    for name, limit, conf in (("objects", "MaxObjectsPerRequest", "MaxObjectsPerRequest=%d" % (len(objects) - 1)),
                              ("entries", "MaxImportEntries", "MaxImportEntries=%d" % (n_entries - 1))):
        conf_path = os.path.join(tmp, "limit-%s.conf" % name)
        open(conf_path, "w").write("[Limits]\n%s\n" % conf)
        lsock = os.path.join(tmp, "limit-%s.sock" % name)
        cache = os.path.join(tmp, "limit-%s-cache" % name)
        ld = subprocess.Popen([btfd, "--config", conf_path, "--socket", lsock, "--cache-dir", cache, "--idle-exit", "0",
                               "--mirror", "http://127.0.0.1:9"], stderr=subprocess.DEVNULL)
        try:
            varlink.wait_for_socket(lsock, ld)
            rc, out, err = run(btfctl, "--socket", lsock, "import", bundle)
            check(rc == 1 and "TooLarge" in err and limit in err, "a bundle past %s is refused: rc=%d %s" % (limit, rc, err))
            distro, version, arch, release = kernels[0].split("/")
            rc, out, err = run(btfctl, "--socket", lsock, "get", "--distro", distro, "--distro-version", version,
                               "--arch", arch, "--release", release, "--object", objects[0], "-o", os.path.join(tmp, "x"))
            check(rc == 1 and "HubUnreachable" in err, "the refused import stored nothing: rc=%d %s" % (rc, err))
        finally:
            ld.terminate()
            ld.wait(timeout=30)

    # A btfd with no reachable hub (an air-gapped host): import, then get.
    sock = os.path.join(tmp, "s")
    d = subprocess.Popen([btfd, "--socket", sock, "--cache-dir", os.path.join(tmp, "c"), "--idle-exit", "0",
                          "--mirror", "http://127.0.0.1:9"], stderr=subprocess.DEVNULL)
    try:
        varlink.wait_for_socket(sock, d)
        ctl = lambda *a: run(btfctl, "--socket", sock, *a)
        for name in ("index", "blob", "truncated", "foreign"):
            rc, out, err = ctl("import", hostile[name])
            check(rc == 1 and "InvalidBundle" in err, "import refuses the %s bundle: rc=%d %s" % (name, rc, err))
        rc, out, err = ctl("--json", "import", os.path.join(tmp, "missing.bundle"))
        check(rc == 1, "import of a missing file fails locally: %s" % out)
        # One import at a time, daemon-wide: two pipelined on one connection,
        # the first a 128 MiB (sparse) file that takes its worker a while to
        # read, the second arrives while it runs and is answered Busy.
        slow = os.path.join(tmp, "slow.bundle")
        with open(slow, "wb") as f:
            f.truncate(128 << 20)
        c = varlink.Conn(sock)
        fa, fb = os.open(slow, os.O_RDONLY | os.O_CLOEXEC), os.open(bundle, os.O_RDONLY | os.O_CLOEXEC)
        c.send("io.btfd.ImportBundle", {"bundle": 0}, fds=[fa])
        c.send("io.btfd.ImportBundle", {"bundle": 0}, fds=[fb])
        errs = sorted(c.recv()[0].get("error", "ok") for _ in range(2))
        c.close(); os.close(fa); os.close(fb); os.unlink(slow)
        check(errs == ["io.btfd.Busy", "io.btfd.InvalidBundle"], "a second import while one runs is Busy: %s" % errs)
        rc, out, err = ctl("--json", "import", bundle)
        j = json.loads(out) if out.strip() else {}
        check(rc == 0 and j.get("kernels") == len(kernels) and len(j.get("objects", [])) == len(objects), "import: rc=%d %s %s" % (rc, out, err))
        def minimized_hits():
            rc, out, _ = ctl("--json", "stats")
            def find(j):
                if isinstance(j, dict):
                    if "minimized_hits" in j: return j["minimized_hits"]
                    for v in j.values():
                        r = find(v)
                        if r is not None: return r
                return None
            return find(json.loads(out)) if rc == 0 else None
        before = minimized_hits()
        for k in kernels:
            distro, version, arch, release = k.split("/")
            got = os.path.join(tmp, "got.btf")
            args = ["--json", "get", "--distro", distro, "--distro-version", version, "--arch", arch, "--release", release]
            for o in objects:
                args += ["--object", o]
            rc, out, err = ctl(*args, "-o", got)
            j = json.loads(out) if out.strip() else {}
            check(rc == 0 and j.get("cached") is True and j.get("source") == "bundle",
                  "get --object %s after import is a cache hit: rc=%d %s %s" % (k, rc, out[:300], err))
            if rc == 0:
                found = os.path.join(tmp, "found.btf")
                bundle_lookup(bundle, k, found)
                check(open(got, "rb").read() == open(found, "rb").read(), "%s: libbtfd's bundle bytes equal btfctl get's" % k)
        after = minimized_hits()
        check(after - before == len(kernels), "minimized hits counted: %s -> %s" % (before, after))
        # One object of the set alone is served from the same entry.
        k = kernels[0].split("/")
        rc, out, err = ctl("--json", "get", "--distro", k[0], "--distro-version", k[1], "--arch", k[2], "--release", k[3],
                           "--object", objects[0])
        check(rc == 0 and json.loads(out).get("cached") is True, "a single object of the bundle's set hits: %s %s" % (out[:200], err))
        # Without the import this kernel would need the (unreachable) hub.
        rc, out, err = ctl("get", "--distro", k[0], "--distro-version", k[1], "--arch", k[2], "--release", k[3])
        check(rc == 1 and "HubUnreachable" in err, "the full kernel is not there (no hub): rc=%d %s" % (rc, err))
        # The import is admin only (the test runs as root: checked at the top).
        nobody = 65534
        p = subprocess.run(["setpriv", "--reuid=%d" % nobody, "--regid=%d" % nobody, "--clear-groups", btfctl,
                            "--socket", sock, "import", bundle], capture_output=True, text=True, timeout=60)
        check(p.returncode == 1 and "PermissionDenied" in p.stderr, "import as nobody is refused: %s" % p.stderr)
    finally:
        d.terminate()
        d.wait(timeout=30)

def oracle_run(o, target):
    p = subprocess.run([oracle, o, target], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr

def oracle_lines(o, target):
    return core_relocations(oracle_run(o, target)[1])

def oracle_mode():
    gen_outputs()
    full_dir = os.path.join(tmp, "full")
    os.makedirs(full_dir)
    probe = os.path.join(tree, kernels[0] + ".btf")
    if not oracle_lines(objects[0], probe):
        # Only a refused bpf(2) is a missing privilege; an oracle that crashed,
        # lacks a library or prints another format is a failure.
        rc, out = oracle_run(objects[0], probe)
        if rc == 0 and re.search(r"^load: -1$", out, re.M) and "Operation not permitted" in out:
            skip_no_bpf("libbpf could not load an object to relocate it")
        fatal("the oracle gave no relocation results (rc=%d):\n%s" % (rc, out[-2000:]))
    compared = 0
    for k in kernels:
        full = os.path.join(full_dir, k.replace("/", "_") + ".btf")
        open(full, "wb").write(unpack_bytes(os.path.join(src, k + ".btf.tar.xz")))
        from_bundle = os.path.join(tmp, "bundle-" + k.replace("/", "_") + ".btf")
        text = bundle_lookup(bundle, k, from_bundle)
        check(text.startswith("rc=0:"), "%s in the bundle: %s" % (k, text))
        for o in objects:
            want = oracle_lines(o, full)
            # norelo has no relocations: its results are empty on every kernel.
            check(bool(want) != o.endswith("norelo.bpf.o"), "%s x %s: the oracle's results: %s" % (os.path.basename(o), k, want))
            for what, target in (("tree", os.path.join(tree, k + ".btf")), ("bundle", from_bundle)):
                got = oracle_lines(o, target)
                check(got == want, "%s x %s (%s): results differ\n  full: %s\n  ours: %s" % (os.path.basename(o), k, what, want, got))
            compared += len(want)
    print("%d kernels x %d objects: %d relocation results compared, tree and bundle" % (len(kernels), len(objects), compared))

try:
    main_mode() if mode == "main" else oracle_mode()
finally:
    shutil.rmtree(tmp, ignore_errors=True)
finish()

# SPDX-License-Identifier: GPL-2.0-or-later
# Shared pieces of the python integration tests: soft checks that report every
# failure before exiting, the btfhub fixtures, the privilege skips and a loopback
# HTTP server serving a directory.
import http.server, os, sys, threading

failures = []

def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)

def finish():
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("ok")
    sys.exit(0)

# The only reasons a test may skip (exit 77); scripts/check-skips.sh fails the
# run on any other. Print them through skip_not_root / skip_no_bpf.
SKIP_NOT_ROOT = "SKIP: not root"
SKIP_NO_BPF = "SKIP: bpf(2) not permitted"

def skip_not_root(what):
    print("%s (%s)" % (SKIP_NOT_ROOT, what)); sys.exit(77)

def skip_no_bpf(what):
    print("%s (%s)" % (SKIP_NO_BPF, what)); sys.exit(77)

def fatal(what):
    """A missing fixture is a failure, never a skip."""
    print("FAIL:", what); sys.exit(1)

def source_root():
    return os.environ.get("BTFD_SOURCE_ROOT") or \
        os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

def hub_dir():
    """The repo's own btfhub-archive fixtures (tests/data/btfhub, see its README):
    real archives in the archive's layout, with SHA256SUMS. Always there."""
    d = os.path.join(source_root(), "tests", "data", "btfhub")
    if not os.path.isfile(os.path.join(d, "SHA256SUMS")):
        fatal("the repo's btfhub fixtures are missing at %s" % d)
    return d

def extra_hub_dir():
    """../shared/btfhub-sample when it exists beside the checkout (extra coverage
    only, never required), else None."""
    d = os.path.join(os.environ.get("BTFD_SHARED_DIR", ""), "btfhub-sample")
    return d if os.environ.get("BTFD_SHARED_DIR") and os.path.isdir(d) else None

def alias_target(root, name):
    """The archive's directory aliases (debian/buster -> 10) are kept as one-line
    files naming the target, as git stores a symlink: the target, or None."""
    path = os.path.join(root, name)
    if name.endswith(".btf.tar.xz") or name in ("SHA256SUMS", "README.md") or os.path.getsize(path) > 64:
        return None
    target = open(path).read().strip()
    return target if "/" not in target and os.path.isdir(os.path.join(root, target)) else None

def combined_hub_dir(tmp):
    """A mirror under tmp holding the repo's fixtures plus, when present, the
    archives of ../shared/btfhub-sample (symlinked; SHA256SUMS merged; aliases
    such as debian/buster made real directory symlinks, as in the archive)."""
    out = os.path.join(tmp, "hub")
    sums = []
    sources = [hub_dir()] + ([extra_hub_dir()] if extra_hub_dir() else [])
    for src in sources:
        for root, dirs, files in os.walk(src):
            rel = os.path.relpath(root, src)
            os.makedirs(os.path.join(out, rel), exist_ok=True)
            for name in files:
                path, dst = os.path.join(root, name), os.path.join(out, rel, name)
                if os.path.lexists(dst):
                    continue
                if name.endswith(".btf.tar.xz"):
                    os.symlink(os.path.realpath(path), dst)
                elif alias_target(root, name):
                    os.symlink(alias_target(root, name), dst)
        sums += open(os.path.join(src, "SHA256SUMS")).read().splitlines()
    open(os.path.join(out, "SHA256SUMS"), "w").write("".join(l + "\n" for l in sorted(set(sums)) if l.strip()))
    if len(sources) > 1:
        print("note: %s adds extra kernels" % sources[1])
    return out

def hub_kernels(d):
    """hub paths (<ID>/<VERSION_ID>/<arch>/<release>) of every archive under d;
    aliases (directory symlinks) are not followed."""
    found = []
    for root, _, files in os.walk(d):
        for f in files:
            if f.endswith(".btf.tar.xz"):
                found.append(os.path.relpath(os.path.join(root, f), d)[: -len(".btf.tar.xz")])
    return sorted(found)

def serve_dir(directory, port=0, handler_base=http.server.SimpleHTTPRequestHandler):
    """A threaded HTTP server on 127.0.0.1 serving directory; returns (server, base URL)."""
    class Handler(handler_base):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=directory, **kw)
        def log_message(self, *a):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "http://127.0.0.1:%d" % srv.server_address[1]


def unpack_btf(archive, dst):
    """The one .btf of a btfhub-archive tarball, written to dst; returns dst."""
    import tarfile
    with tarfile.open(archive) as t:
        m = [x for x in t.getmembers() if x.isfile()][0]
        open(dst, "wb").write(t.extractfile(m).read())
    return dst

def core_relocations(log):
    """libbpf's CO-RE relocation results from a debug log (the core-oracle tool's
    output): ((program, relo index), outcome) pairs, plus ambiguity lines. Type
    ids of target_type_id relocations differ between a full and a minimized BTF
    by design, so they are masked."""
    import re
    kinds, results = {}, []
    for line in log.splitlines():
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


def scratch_host(prefix, sample=None):
    """For tests whose clients run as other uids: a temp dir they can read,
    holding varlink.py and (given) a world-readable copy of the BPF object
    `sample`, and host/ under it, a host root for btfd --host-root: ubuntu
    20.04's os-release and the fixture kernel's BTF as its native BTF.
    Returns (tmp, the object's copy or None, hostroot)."""
    import shutil, tempfile
    native = os.environ.get("BTFD_FIXTURE_KERNEL_BTF") or fatal("BTFD_FIXTURE_KERNEL_BTF is not set")
    tmp = tempfile.mkdtemp(prefix=prefix)
    os.chmod(tmp, 0o755)
    shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "varlink.py"), tmp)
    obj = None
    if sample:
        obj = os.path.join(tmp, os.path.basename(sample))
        shutil.copy(sample, obj)
        os.chmod(obj, 0o644)
    hostroot = os.path.join(tmp, "host")
    os.makedirs(os.path.join(hostroot, "etc"))
    os.makedirs(os.path.join(hostroot, "sys/kernel/btf"))
    open(os.path.join(hostroot, "etc/os-release"), "w").write('ID=ubuntu\nVERSION_ID="20.04"\n')
    shutil.copy(native, os.path.join(hostroot, "sys/kernel/btf/vmlinux"))
    return tmp, obj, hostroot

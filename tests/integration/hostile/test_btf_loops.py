#!/usr/bin/env python3
# A mirror serving kernel BTF with type loops, against the real btfd: a
# pointer/const cycle, a typedef cycle, a const that is its own type and a
# struct that holds itself by value. libbpf's C dumper crashes or never ends on
# the first three, so btfd must refuse each with HubRejected naming the loop,
# store nothing of it, and keep serving others; the same BTF without the loop
# is fetched and stored (the mirror and the check are real). The requests are
# made by nobody, the way any user's GetBtf for a kernel not in the cache goes
# to the mirror. A bundle holding the same BTF is refused by ImportBundle
# (InvalidBundle, naming the loop) and the loop-free one imported.
import io, json, os, shutil, struct, subprocess, sys, tarfile, tempfile, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import http.server
import testlib, varlink
from testlib import check

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
btfd = sys.argv[1]
if os.geteuid() != 0:
    testlib.skip_not_root("requests are made as another uid")
here = os.path.dirname(os.path.abspath(__file__))
native_src = os.environ.get("BTFD_FIXTURE_KERNEL_BTF") or testlib.fatal("BTFD_FIXTURE_KERNEL_BTF is not set")
NOBODY = 65534

tmp = tempfile.mkdtemp(prefix="btfd-loops-")
os.chmod(tmp, 0o755)
shutil.copy(os.path.join(here, "attacker.py"), tmp)
shutil.copy(os.path.join(here, "..", "varlink.py"), tmp)

hostroot = os.path.join(tmp, "host")
os.makedirs(os.path.join(hostroot, "etc"))
os.makedirs(os.path.join(hostroot, "sys/kernel/btf"))
open(os.path.join(hostroot, "etc/os-release"), "w").write('ID=ubuntu\nVERSION_ID="20.04"\n')
shutil.copy(native_src, os.path.join(hostroot, "sys/kernel/btf/vmlinux"))
arch = {"x86_64": "x86_64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)

# Raw BTF, written by hand: libbpf's writer would not be the attacker's.
KIND = {"INT": 1, "PTR": 2, "ARRAY": 3, "STRUCT": 4, "TYPEDEF": 8, "CONST": 10}
STRS = b"\0int\0task_struct\0pid\0t\0"  # offsets: int 1, task_struct 5, pid 17, t 21

def rec(kind, name=0, vlen=0, type_or_size=0):
    return struct.pack("<III", name, KIND[kind] << 24 | vlen, type_or_size)

def raw_btf(types):
    body = b"".join(types)
    return struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(body), len(body), len(STRS)) + body + STRS

INT = rec("INT", 1, 0, 4) + struct.pack("<I", 32)                                 # [1] int
def TASK(member):                                                                  # [2] task_struct
    return rec("STRUCT", 5, 1, 8) + struct.pack("<III", 17, member, 0)

# Each kernel: [1] int, [2] task_struct { pid: [3] }, then the types from [3].
KERNELS = {
    "6.6.6-ptrloop": ([INT, TASK(3), rec("PTR", 0, 0, 4), rec("CONST", 0, 0, 3)],
                      "BTF type [3] PTR -> [4] CONST -> [3]: reference loop"),
    "6.6.6-tdloop": ([INT, TASK(3), rec("TYPEDEF", 21, 0, 4), rec("TYPEDEF", 21, 0, 3)],
                     "BTF type [3] TYPEDEF -> [4] TYPEDEF -> [3]: reference loop"),
    "6.6.6-selfconst": ([INT, TASK(3), rec("CONST", 0, 0, 3)], "BTF type [3] CONST -> [3]: reference loop"),
    # task_struct { struct t pid; }, struct t { task_struct x; }
    "6.6.6-holdsitself": ([INT, TASK(3), rec("STRUCT", 21, 1, 8) + struct.pack("<III", 17, 2, 0)],
                          "BTF type [2] STRUCT -> [3] STRUCT -> [2]: containment loop"),
}
GOOD = "6.6.6-noloop"  # the pointer/const pair, ended by the int
GOOD_RAW = raw_btf([INT, TASK(3), rec("PTR", 0, 0, 4), rec("CONST", 0, 0, 1)])

hubdir = os.path.join(tmp, "hub")
kdir = os.path.join(hubdir, "ubuntu", "20.04", arch)
os.makedirs(kdir)
def put_kernel(release, raw):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz", preset=0) as t:
        info = tarfile.TarInfo("./%s.btf" % release); info.size = len(raw)
        t.addfile(info, io.BytesIO(raw))
    open(os.path.join(kdir, release + ".btf.tar.xz"), "wb").write(buf.getvalue())
for release, (types, _) in KERNELS.items():
    put_kernel(release, raw_btf(types))
put_kernel(GOOD, GOOD_RAW)

hub_requests = {}
class Hub(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw): super().__init__(*a, directory=hubdir, **kw)
    def log_message(self, *a): pass
    def do_GET(self):
        name = os.path.basename(self.path)
        hub_requests[name] = hub_requests.get(name, 0) + 1
        return super().do_GET()
hub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
threading.Thread(target=hub.serve_forever, daemon=True).start()
mirror = "http://127.0.0.1:%d" % hub.server_address[1]

conf = os.path.join(tmp, "btfd.conf")
open(conf, "w").write("[Hub]\nVerifyChecksums=no\n")
sock = os.path.join(tmp, "btfd.sock")
cache = os.path.join(tmp, "cache")
log = open(os.path.join(tmp, "btfd.log"), "a")
daemon = subprocess.Popen([btfd, "--config", conf, "--socket", sock, "--cache-dir", cache, "--mirror", mirror,
                           "--idle-exit", "0", "--host-root", hostroot, "--log-level", "debug"], stderr=log)

def ask(release, uid=NOBODY):
    r = subprocess.run([PY, os.path.join(tmp, "attacker.py"), sock, "kernel", json.dumps({"release": release})],
                       user=uid, group=uid, extra_groups=[], capture_output=True, text=True, timeout=60, cwd=tmp)
    check(r.returncode == 0, "GetBtf for %s ran as uid %d: %s" % (release, uid, r.stderr[-500:]))
    return json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {}

def bundle(release, blob):
    """A version-1 bundle (docs/bundle.md) of one kernel for one object, its BTF blob."""
    import hashlib
    sha = lambda b: hashlib.sha256(b).digest()
    objects = sha(b"some object")
    strs = b"ubuntu\0" + b"20.04\0" + arch.encode() + b"\0" + release.encode() + b"\0"
    offs = [0, 7, 13, 14 + len(arch)]
    index_size = 32 + 48 + 24 + len(strs)
    blob_off = (128 + index_size + 7) // 8 * 8
    index = objects + struct.pack("<QQ", blob_off, len(blob)) + sha(blob) + struct.pack("<IIIIII", *offs, 0, 0) + strs
    size = blob_off + len(blob)
    head = b"BTFDBNDL" + struct.pack("<IIQQQIIIIQ", 1, 0, size, 128, index_size, 1, 1, 1, len(strs), 0) + sha(index)
    head += sha(head)
    return head + index + bytes(blob_off - 128 - index_size) + blob

def import_bundle(data):
    path = os.path.join(tmp, "import.bundle")
    open(path, "wb").write(data)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        c = varlink.Conn(sock)
        r, _ = c.call("io.btfd.ImportBundle", {"bundle": 0}, fds=[fd])
        c.close()
    finally:
        os.close(fd)
    return r

def stored_bytes():
    """Every file under the cache, read whole (the cache is small here)."""
    out = []
    for root, _, files in os.walk(cache):
        for f in files:
            try:
                out.append(open(os.path.join(root, f), "rb").read())
            except OSError:
                pass
    return out

def listed():
    c = varlink.Conn(sock)
    lst, _ = c.call("io.btfd.ListKernels")
    c.close()
    return [k["kernel"]["release"] for k in lst["parameters"]["kernels"]]

try:
    varlink.wait_for_socket(sock, daemon)
    for release, (types, says) in KERNELS.items():
        t0 = time.monotonic()
        r = ask(release)
        check(r.get("error") == "io.btfd.HubRejected" and says in r.get("message", ""),
              "%s refused as HubRejected naming the loop (%s): %s" % (release, says, r))
        check(time.monotonic() - t0 < 10, "%s refused at once" % release)
        check(hub_requests.get(release + ".btf.tar.xz", 0) >= 1, "%s was fetched from the mirror" % release)
        check(daemon.poll() is None, "btfd alive after %s" % release)
    # The same BTF without the loop is a kernel like any other: stored, listed.
    r = ask(GOOD)
    check("error" not in r, "the loop-free kernel is fetched and stored: %s" % r)
    releases = listed()
    check(GOOD in releases, "the loop-free kernel is listed: %s" % releases)
    check(not any(k in releases for k in KERNELS), "no looped kernel is listed: %s" % releases)
    blobs = stored_bytes()
    check(any(GOOD_RAW in b for b in blobs), "the loop-free kernel's BTF is in the cache")
    for release, (types, _) in KERNELS.items():
        check(not any(raw_btf(types) in b for b in blobs), "nothing of %s is stored" % release)
    # A bundle goes through the same check before anything is stored (import
    # needs root or the admin group).
    for release, (types, says) in KERNELS.items():
        r = import_bundle(bundle(release, raw_btf(types)))
        check(r.get("error") == "io.btfd.InvalidBundle" and says in r.get("parameters", {}).get("message", ""),
              "a bundle holding %s is refused as InvalidBundle naming the loop: %s" % (release, r))
    r = import_bundle(bundle("6.6.6-bundled", GOOD_RAW))
    check("error" not in r, "a bundle of the loop-free BTF is imported: %s" % r)
    blobs = stored_bytes()
    for release, (types, _) in KERNELS.items():
        check(not any(raw_btf(types) in b for b in blobs), "nothing of %s is stored after the imports" % release)
    # Another user is still served.
    r = ask(GOOD, uid=65533)
    check("error" not in r, "another user is served from the cache afterwards: %s" % r)
finally:
    daemon.terminate()
    try:
        daemon.wait(timeout=10)
    except subprocess.TimeoutExpired:
        daemon.kill()
    hub.shutdown()
    log.close()
    if testlib.failures:
        print(open(os.path.join(tmp, "btfd.log")).read()[-3000:])
shutil.rmtree(tmp, ignore_errors=True)
testlib.finish()

#!/usr/bin/env python3
# Hostile clients and a hostile mirror against the real btfd. The attackers run
# as an unprivileged uid (nobody); after every attack btfd must be alive,
# answer another user's cache hit within 1 s, and keep its RSS, descriptors
# and CPU within the bounds below; what an attack held must be given back.
# Covers: mistyped and unknown fields, bad descriptor indexes, invalid UTF-8 in
# an object's names, a mirror serving BTF with a name past its strings and one
# padded past the size cap, connection floods, descriptors parked in unfinished
# messages, dripping pipes, unknown methods with huge names (stats keys,
# Prometheus injection), objects too large per call and in total, clients that
# never read replies, made-up kernel names, deep JSON nesting, slow messages,
# pipelined calls with their own descriptors, btfctl seeing Busy, fd
# exhaustion (EMFILE), a damaged index, a blob changed on disk, btfctl verify
# and a full disk.
import hashlib, io, json, lzma, os, resource, shutil, signal, socket, struct, subprocess, sys, tarfile, tempfile
import threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import http.server
import testlib, varlink
from testlib import check

# The interpreter other uids can run (the one running this test may live in a
# private directory, e.g. under /root).
PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

btfd, btfctl, sample_obj, norelo_obj = sys.argv[1:5]
if os.geteuid() != 0:
    testlib.skip_not_root("attackers run as another uid")
here = os.path.dirname(os.path.abspath(__file__))
native_src = os.environ.get("BTFD_FIXTURE_KERNEL_BTF") or testlib.fatal("BTFD_FIXTURE_KERNEL_BTF is not set")
NOBODY, OTHER, THIRD, FOURTH = 65534, 65533, 65532, 65531

tmp = tempfile.mkdtemp(prefix="btfd-hostile-")
os.chmod(tmp, 0o755)
for f in ("attacker.py",):
    shutil.copy(os.path.join(here, f), tmp)
shutil.copy(os.path.join(here, "..", "varlink.py"), tmp)
objs = {}
for name, src in (("sample", sample_obj), ("norelo", norelo_obj)):
    objs[name] = os.path.join(tmp, name + ".o")
    shutil.copy(src, objs[name])
    os.chmod(objs[name], 0o644)

# A host without BTF of its own but for the fixture kernel's, under host-root.
hostroot = os.path.join(tmp, "host")
os.makedirs(os.path.join(hostroot, "etc"))
os.makedirs(os.path.join(hostroot, "sys/kernel/btf"))
open(os.path.join(hostroot, "etc/os-release"), "w").write('ID=ubuntu\nVERSION_ID="20.04"\n')
native = os.path.join(hostroot, "sys/kernel/btf/vmlinux")
shutil.copy(native_src, native)
native_bytes = open(native, "rb").read()
release = os.uname().release
arch = {"x86_64": "x86_64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)

# The hostile mirror.
hubdir = os.path.join(tmp, "hub")
hub_requests = {"n": 0}

def put_kernel(release_name, raw):
    d = os.path.join(hubdir, "ubuntu", "20.04", arch)
    os.makedirs(d, exist_ok=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz", preset=0) as t:
        info = tarfile.TarInfo("./%s.btf" % release_name); info.size = len(raw)
        t.addfile(info, io.BytesIO(raw))
    open(os.path.join(d, release_name + ".btf.tar.xz"), "wb").write(buf.getvalue())

hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<IIIII", native_bytes, 4)
bad_name = bytearray(native_bytes)
struct.pack_into("<I", bad_name, hdr_len + type_off, str_len + 4096)  # type 1's name past the strings
put_kernel("6.6.6-badname", bytes(bad_name))

class PaddedRaw(io.RawIOBase):
    """A valid BTF followed by zeros, streamed (never held whole in memory)."""
    def __init__(self, head, total):
        self.head, self.total, self.pos = head, total, 0
    def readable(self): return True
    def readinto(self, b):
        n = min(len(b), self.total - self.pos)
        if n <= 0: return 0
        mv = memoryview(b)
        head = self.head[self.pos: self.pos + n] if self.pos < len(self.head) else b""
        mv[: len(head)] = head
        mv[len(head): n] = bytes(n - len(head))
        self.pos += n
        return n

PADDED = 160 << 20  # past the 128 MiB cap on a kernel's BTF
d = os.path.join(hubdir, "ubuntu", "20.04", arch)
with lzma.open(os.path.join(d, "6.6.6-padded.btf.tar.xz"), "wb", preset=0) as xz:
    with tarfile.open(fileobj=xz, mode="w|") as t:
        info = tarfile.TarInfo("./6.6.6-padded.btf"); info.size = PADDED
        t.addfile(info, io.BufferedReader(PaddedRaw(native_bytes, PADDED), 1 << 20))

class Hub(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw): super().__init__(*a, directory=hubdir, **kw)
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path.endswith(".btf.tar.xz"): hub_requests["n"] += 1
        return super().do_GET()
hub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
threading.Thread(target=hub.serve_forever, daemon=True).start()
mirror = "http://127.0.0.1:%d" % hub.server_address[1]

# Small budgets, so every limit is reached in seconds.
conf = os.path.join(tmp, "btfd.conf")
open(conf, "w").write("""[Daemon]
Workers=2
[Hub]
VerifyChecksums=no
[Limits]
MaxConnections=64
MaxConnectionsPerUser=16
MaxDescriptorsPerUser=48
MaxDescriptors=96
ObjectReadSec=3
SendTimeoutSec=3
MessageTimeoutSec=3
MaxObjectBytesPerUser=32M
MaxObjectBytes=48M
MaxQueuedReplyBytes=32M
HubLookupsPerMinute=10
""")
sock = os.path.join(tmp, "btfd.sock")
cache = os.path.join(tmp, "cache")
log = open(os.path.join(tmp, "btfd.log"), "a")

def start_daemon(nofile=None, sock_path=sock):
    def limit():
        if nofile: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    # Under ASan, freed memory sits in a quarantine (256 MB by default): keep
    # it small so RSS says what btfd keeps, not what ASan does.
    env = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8")
    p = subprocess.Popen([btfd, "--config", conf, "--socket", sock_path, "--cache-dir", cache, "--mirror", mirror,
                          "--idle-exit", "0", "--host-root", hostroot, "--log-level", "debug"],
                         stderr=log, preexec_fn=limit, env=env)
    varlink.wait_for_socket(sock_path, p)
    return p

def sanitized(pid):
    return "libasan" in open("/proc/%d/maps" % pid).read()

def rss_mb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
    return 0

def nfds(pid): return len(os.listdir("/proc/%d/fd" % pid))

def cpu_s(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

def as_user(uid, args, groups=(), timeout=60, stdin=None):
    return subprocess.run([PY, os.path.join(tmp, "attacker.py"), sock] + list(args), user=uid, group=uid,
                          extra_groups=list(groups), capture_output=True, text=True, timeout=timeout, cwd=tmp,
                          stdin=stdin)

def attack(args, uid=NOBODY, timeout=60):
    r = as_user(uid, args, timeout=timeout)
    if r.returncode != 0:
        check(False, "attack %s ran: %s" % (args[0], r.stderr[-500:]))
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])

def holding(args, uid=NOBODY):
    """Starts an attack that holds what it got; returns (process, its report)."""
    p = subprocess.Popen([PY, os.path.join(tmp, "attacker.py"), sock] + list(args), user=uid, group=uid,
                         extra_groups=[], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tmp)
    line = p.stdout.readline()
    return p, (json.loads(line) if line else None)

PROBE = r"""
import os, sys, time, json
sys.path.insert(0, %r)
import varlink
t = time.time()
c = varlink.Conn(%r, timeout=5)
r, fds = c.call("io.btfd.GetBtf", {})
data = os.pread(fds[0], os.fstat(fds[0]).st_size, 0) if fds else b""
print(json.dumps({"s": time.time() - t, "error": r.get("error"), "len": len(data), "cached": r.get("parameters", {}).get("cached"),
                  "same": data == open(%r, "rb").read(), "path": r.get("parameters", {}).get("path")}))
"""

def probe(what, uid=OTHER, sock_path=sock):
    """Another user's cache hit: answered within 1 s with this host's BTF."""
    r = subprocess.run([PY, "-c", PROBE % (tmp, sock_path, native)], user=uid, group=uid,
                       capture_output=True, text=True, timeout=30)
    res = json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else {"error": r.stderr[-300:]}
    check(res.get("error") is None and res.get("same") and res.get("s", 9) < 1.0,
          "%s: another user's cache hit within 1 s: %s" % (what, res))
    return res

def stats():
    c = varlink.Conn(sock); r, _ = c.call("io.btfd.Stats"); c.close()
    return r["parameters"]["stats"]

def settle(what, daemon, held_zero=True):
    """After an attack: alive, served, resources back within bounds."""
    check(daemon.poll() is None, "%s: btfd is alive" % what)
    if daemon.poll() is not None: testlib.finish()
    probe(what)
    if held_zero:
        end = time.time() + 8
        while time.time() < end:
            h = stats()["held"]
            if h["descriptors"] == 0 and h["object_bytes"] == 0 and h["reply_bytes"] == 0: break
            time.sleep(0.2)
        check(h["descriptors"] == 0 and h["object_bytes"] == 0 and h["reply_bytes"] == 0,
              "%s: what the attack held was given back: %s" % (what, h))
    rss, fds = rss_mb(daemon.pid), nfds(daemon.pid)
    c0 = cpu_s(daemon.pid); time.sleep(1); idle_cpu = cpu_s(daemon.pid) - c0
    print("%-28s rss %6.1f MB  fds %3d  idle cpu %.2f s/s" % (what, rss, fds, idle_cpu))
    check(rss < RSS_BOUND, "%s: RSS %.1f MB < %d MB" % (what, rss, RSS_BOUND))
    check(fds < FD_BOUND, "%s: %d descriptors < %d" % (what, fds, FD_BOUND))
    check(idle_cpu < 0.2, "%s: idle CPU %.2f s/s < 0.2" % (what, idle_cpu))

daemon = start_daemon()
asan = sanitized(daemon.pid)
# Bounds: budgets (48 MiB of objects, 32 MiB of replies, the least btfd
# takes) plus the hot fixture kernel and the process itself; ASan's shadow
# memory and quarantine need more.
RSS_BOUND = 425 if asan else 175
FD_BOUND = 64 + 96 + 8 * 64 + 32  # connections + received descriptors + queued replies + own files
try:
    probe("warm-up (native BTF)")
    settle("start", daemon)

    # 1. Mistyped fields, unknown fields, bad descriptor indexes: named errors.
    got = attack(["types"])
    want = [("io.btfd.Status", "more"), None, "prometheus", "interface", "pin", "pin", "objects", "objects",
            "objects[0]", "kernel", "kernel.release", "parameters", "method", "bogus", "upgrade"]
    for i, w in enumerate(want):
        field = w[1] if isinstance(w, tuple) else w
        r = got[i] if got else {}
        if w is None:  # "more": null counts as absent
            check("error" not in r, "case %d: null more is fine: %s" % (i, r))
        else:
            check(r.get("error") == "org.varlink.service.InvalidParameter" and r.get("parameter") == field,
                  "case %d: InvalidParameter naming %s: %s" % (i, field, r))
    settle("mistyped messages", daemon)

    # 2. An object whose .BTF names a type with invalid UTF-8.
    raw = bytearray(open(objs["sample"], "rb").read())
    at = raw.find(b"task_struct\0")
    check(at > 0, "sample object names task_struct")
    raw[at + 10] = 0xFF
    utf8_obj = os.path.join(tmp, "utf8.o"); open(utf8_obj, "wb").write(raw); os.chmod(utf8_obj, 0o644)
    r = attack(["object", utf8_obj])
    check(r is not None and (r.get("error") in (None, "io.btfd.InvalidObject")), "invalid UTF-8 names: %s" % r)
    settle("invalid UTF-8 in names", daemon)

    # 3. A mirror serving BTF with a name offset past its strings: refused, not stored.
    for attempt in range(2):
        r = attack(["kernel", json.dumps({"release": "6.6.6-badname"})], uid=0)
        check(r and r.get("error") == "io.btfd.HubRejected", "bad-name kernel refused (%d): %s" % (attempt, r))
    c = varlink.Conn(sock); lst, _ = c.call("io.btfd.ListKernels"); c.close()
    check(not any(k["kernel"]["release"].startswith("6.6.6") for k in lst["parameters"]["kernels"]),
          "hostile kernels are not stored")
    settle("mirror: name past strings", daemon)

    # 4. A valid BTF padded past the cap (1.3 MB of xz): refused while unpacking.
    r = attack(["kernel", json.dumps({"release": "6.6.6-padded"})], uid=0)
    check(r and r.get("error") == "io.btfd.HubRejected" and "cap" in r.get("message", ""),
          "padded kernel refused: %s" % r)
    settle("mirror: padded kernel", daemon)

    # 5. A connection flood from one user: refused past the per-user budget,
    #    others still served meanwhile.
    p, rep = holding(["conns", "40"])
    check(rep and rep["kept"] == 16 and rep["refused"] == 24, "16 of 40 connections kept: %s" % rep)
    probe("during a connection flood")
    r = subprocess.run([btfctl, "--socket", sock, "get"], user=NOBODY, group=NOBODY, capture_output=True, text=True)
    check(r.returncode != 0 and "Busy" in r.stderr and "Broken pipe" not in r.stderr,
          "btfctl shows btfd's Busy: %r" % r.stderr)
    p.stdin.close(); p.wait()
    settle("connection flood", daemon)

    # 6. Descriptors parked in unfinished messages: cut off past the budget.
    p, rep = holding(["park-fds", "6"])
    check(rep and rep["cut"] >= 3, "connections parking descriptors past 48 are cut: %s" % rep)
    check(stats()["held"]["descriptors"] <= 48, "descriptors held stay within the per-user budget")
    probe("while descriptors are parked")
    p.stdin.close(); p.wait()
    settle("parked descriptors", daemon)

    # 7. Pipes that drip: they hold no worker; the deadline ends them.
    result = {}
    t = threading.Thread(target=lambda: result.update(r=attack(["drip", "4", "10"])))
    t.start()
    time.sleep(1)
    start = time.time()
    r = as_user(OTHER, ["object", objs["sample"]])
    took = time.time() - start
    mini = json.loads(r.stdout) if r.returncode == 0 else {"error": r.stderr}
    check("error" not in mini and mini.get("parameters", {}).get("minimized") and took < 3,
          "minimizing for another user while pipes drip (%.1f s): %s" % (took, mini))
    t.join()
    drips = result.get("r") or []
    check(len(drips) == 4 and all(d and d.get("error") == "io.btfd.InvalidObject" and "within" in d.get("message", "")
                                  for d in drips), "dripping pipes end with InvalidObject at the deadline: %s" % drips)
    settle("dripping pipes", daemon)

    # 8. Unknown methods with 60 KB names: no stats keys, no Prometheus injection.
    before = rss_mb(daemon.pid)
    r = attack(["unknown-methods", "300", "60000"])
    check(r == ["org.varlink.service.MethodNotFound"], "unknown methods: MethodNotFound: %s" % r)
    check(rss_mb(daemon.pid) - before < 20, "RSS grows < 20 MB for 300 huge unknown names")
    s = stats()
    check(all(m == "unknown" or (m.startswith(("io.btfd.", "org.varlink.service.")) and len(m) < 64)
              for m in s["requests"]),
          "stats are keyed by known methods only: %s" % list(s["requests"]))
    c = varlink.Conn(sock); r, _ = c.call("io.btfd.Stats", {"prometheus": True}); c.close()
    check(not any(l.startswith("fake_metric") for l in r["parameters"]["text"].splitlines()), "no injected metric")
    settle("unknown methods", daemon)

    # 9. Objects too large per call and in total.
    scratch = os.path.join(tmp, "scratch"); os.mkdir(scratch); os.chmod(scratch, 0o1777)
    r = attack(["big-files", scratch, "16", str(64 << 20)])
    check(r and r.get("error") == "io.btfd.TooLarge", "16 x 64 MiB objects: TooLarge: %s" % r)
    r = attack(["big-pipe", "40"])
    check(r and r.get("error") == "io.btfd.TooLarge" and "per client" in r.get("message", ""),
          "a 40 MiB pipe: TooLarge naming the per-client limit: %s" % r)
    settle("objects too large", daemon)

    # 10. Clients that never read their replies: bounded, then dropped.
    p, rep = holding(["no-read", "8", "400"])
    time.sleep(0.5)
    held = stats()["held"]["reply_bytes"]
    check(held <= 32 << 20, "unread replies stay within 32 MiB (%d)" % held)
    probe("while clients do not read")
    time.sleep(5)  # SendTimeoutSec=3
    check(stats()["held"]["reply_bytes"] == 0, "clients that do not read are dropped")
    p.stdin.close(); p.wait()
    settle("unread replies", daemon)

    # 11. Made-up kernel names: rate-limited hub lookups, bounded negative rows.
    n0 = hub_requests["n"]
    r = attack(["made-up", "60"])
    asked = hub_requests["n"] - n0
    check(r and r.get("io.btfd.Busy", 0) >= 40 and asked <= 12, "made-up names: %d hub requests, %s" % (asked, r))
    c = varlink.Conn(sock); st, _ = c.call("io.btfd.Status"); c.close()
    check(st["parameters"]["status"]["cache"]["negative"] <= 12, "negative entries bounded: %s" % st["parameters"]["status"]["cache"])
    settle("made-up kernel names", daemon)

    # 12. 60 000-deep nesting in 64 KiB.
    r = attack(["deep", "30000"])
    check(r and r.get("error") == "org.varlink.service.InvalidParameter" and "nested" in r.get("message", ""),
          "deep nesting: %s" % r)
    settle("deep nesting", daemon)

    # 13. A message that never ends: dropped after MessageTimeoutSec.
    r = attack(["slow-message", "8"])
    check(r and r["closed"], "a slow message's connection is closed: %s" % r)
    settle("slow message", daemon)

    # 14. Two pipelined calls, each with its own descriptor: each gets its own.
    def solo(obj):
        c = varlink.Conn(sock); fd = os.open(obj, os.O_RDONLY)
        r, got = c.call("io.btfd.GetBtf", {"objects": [0]}, fds=[fd]); os.close(fd); c.close()
        data = os.pread(got[0], os.fstat(got[0]).st_size, 0); os.close(got[0])
        return hashlib.sha256(data).hexdigest()
    want = [solo(objs["sample"]), solo(objs["norelo"])]
    check(want[0] != want[1], "the two objects minimize differently")
    c = varlink.Conn(sock)
    fa, fb = os.open(objs["sample"], os.O_RDONLY), os.open(objs["norelo"], os.O_RDONLY)
    c.send("io.btfd.GetBtf", {"objects": [0]}, fds=[fa]); c.send("io.btfd.GetBtf", {"objects": [0]}, fds=[fb])
    got = []
    for _ in range(2):
        r, fds = c.recv()
        got.append(hashlib.sha256(os.pread(fds[0], os.fstat(fds[0]).st_size, 0)).hexdigest() if fds else r)
        for f in fds: os.close(f)
    os.close(fa); os.close(fb); c.close()
    check(got == want, "pipelined calls keep their own descriptors: %s vs %s" % (got, want))
    settle("pipelined calls", daemon)

    # 15. A blob changed on disk while btfd runs: never served as recorded.
    res = probe("before changing a blob", uid=0)
    blob = res.get("path")
    check(blob and os.path.isfile(blob), "the reply names the blob")
    data = bytearray(open(blob, "rb").read()); data[100] ^= 0xFF
    with open(blob, "r+b") as f: f.write(data)
    probe("after a blob changed on disk")
    # btfctl verify re-hashes everything: a damaged minimized blob is found.
    c = varlink.Conn(sock); fd = os.open(objs["sample"], os.O_RDONLY)
    r, got = c.call("io.btfd.GetBtf", {"objects": [0]}, fds=[fd]); os.close(fd); c.close()
    for f in got: os.close(f)
    mblob = r["parameters"]["path"]
    data = bytearray(open(mblob, "rb").read()); data[-1] ^= 0xFF
    with open(mblob, "r+b") as f: f.write(data)
    out = subprocess.run([btfctl, "--socket", sock, "--json", "verify"], capture_output=True, text=True)
    v = json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr}
    check(v.get("corrupt") == 1 and v.get("checked", 0) >= 2, "btfctl verify finds the damaged blob: %s" % v)
    out = subprocess.run([btfctl, "--socket", sock, "verify"], user=NOBODY, group=NOBODY, capture_output=True, text=True)
    check(out.returncode == 1 and "PermissionDenied" in out.stderr, "verify is privileged: %r" % out.stderr)

    # 16. A damaged index: btfd starts and serves.
    for damage in ("truncate", "garbage"):
        daemon.send_signal(signal.SIGTERM); daemon.wait(timeout=20)
        idx = os.path.join(cache, "index.sqlite")
        if damage == "truncate":
            size = os.path.getsize(idx)
            with open(idx, "r+b") as f: f.truncate(size // 2)
        else:
            open(idx, "wb").write(os.urandom(8192))
        for side in ("-wal", "-shm"):
            if os.path.exists(idx + side): os.unlink(idx + side)
        daemon = start_daemon()
        settle("damaged index (%s)" % damage, daemon)

    # 17. Out of descriptors (a tiny RLIMIT_NOFILE): the listener pauses, no
    #     busy loop, and service resumes once descriptors are free.
    daemon.send_signal(signal.SIGTERM); daemon.wait(timeout=20)
    daemon = start_daemon(nofile=48)
    holders = [holding(["conns", "16", "no-probe"], uid=u) for u in (NOBODY, THIRD, FOURTH)]
    c0 = cpu_s(daemon.pid); time.sleep(2); spin = cpu_s(daemon.pid) - c0
    check(spin < 0.5, "out of descriptors: no busy loop (%.2f s CPU in 2 s)" % spin)
    for p, _ in holders:
        p.stdin.close(); p.wait()
    time.sleep(1.5)
    settle("descriptor exhaustion", daemon)

    # 18. A full disk: StoreError naming it, and btfd keeps serving.
    full = os.path.join(tmp, "full")
    os.mkdir(full)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full], check=True)
    try:
        fsock = os.path.join(tmp, "full.sock")
        fd_ = subprocess.Popen([btfd, "--socket", fsock, "--cache-dir", os.path.join(full, "cache"), "--mirror", mirror,
                                "--idle-exit", "0", "--host-root", hostroot], stderr=log)
        varlink.wait_for_socket(fsock, fd_)
        c = varlink.Conn(fsock); r, _ = c.call("io.btfd.GetBtf", {}); c.close()
        check(r.get("error") == "io.btfd.StoreError" and "space" in r["parameters"]["message"].lower(),
              "a full disk is StoreError: %s" % r)
        c = varlink.Conn(fsock); r, _ = c.call("io.btfd.Status", {}); c.close()
        check("error" not in r, "btfd serves on with a full disk: %s" % r)
        fd_.send_signal(signal.SIGTERM); fd_.wait(timeout=20)
    finally:
        subprocess.run(["umount", full])
finally:
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try: daemon.wait(timeout=20)
        except subprocess.TimeoutExpired: daemon.kill()
    check(daemon.returncode in (0, None), "btfd exits cleanly (%s)" % daemon.returncode)
    hub.shutdown()
    if testlib.failures:
        print(open(os.path.join(tmp, "btfd.log")).read()[-4000:])
    shutil.rmtree(tmp, ignore_errors=True)
testlib.finish()

#!/usr/bin/env python3
# btfd end to end: a real daemon on a temp socket and cache, a real HTTP hub on
# 127.0.0.1 serving the repo's btfhub fixtures; asserts through Varlink and btfctl.
import concurrent.futures, http.server, json, os, shutil, signal, socket, subprocess, sys, tarfile, tempfile, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check, failures, hub_dir

btfd, btfctl, sample_obj, kinds_obj = sys.argv[1:5]
hubdir = hub_dir()

tmp = tempfile.mkdtemp(prefix="btfd-daemon-test-")
sock, cache = os.path.join(tmp, "btfd.sock"), os.path.join(tmp, "cache")
hits = {"n": 0}

class Hub(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw): super().__init__(*a, directory=hubdir, **kw)
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path.endswith(".btf.tar.xz"):
            hits["n"] += 1
            time.sleep(0.3)  # keep the fetch in flight while parallel clients arrive
        return super().do_GET()

def start_hub(port=0):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Hub)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv
hub = start_hub()
port = hub.server_address[1]
mirror = "http://127.0.0.1:%d" % port

def start_daemon(*extra):
    p = subprocess.Popen([btfd, "--socket", sock, "--cache-dir", cache, "--mirror", mirror, "--idle-exit", "0",
                          "--connect-timeout", "1000", "--timeout", "20000", "--log-level", "debug", *extra],
                         stderr=open(os.path.join(tmp, "btfd.log"), "a"))
    varlink.wait_for_socket(sock, p)
    return p

def stats():
    c = varlink.Conn(sock); r, _ = c.call("io.btfd.Stats"); c.close()
    return r["parameters"]["stats"]

def get(kernel=None, objects=(), conn=None):
    c = conn or varlink.Conn(sock)
    params = {}
    if kernel: params["kernel"] = kernel
    fds = [os.open(o, os.O_RDONLY) for o in objects]
    if fds: params["objects"] = list(range(len(fds)))
    r, got = c.call("io.btfd.GetBtf", params, fds=fds)
    for f in fds: os.close(f)
    data = None
    if got:
        data = os.pread(got[0], os.fstat(got[0]).st_size, 0)
        for f in got: os.close(f)
    if not conn: c.close()
    return r, data

def parses_as_btf(data):
    return data is not None and len(data) >= 24 and data[:2] == b"\x9f\xeb"

kernels = []
for root, _, files in os.walk(hubdir):
    for f in files:
        if f.endswith(".btf.tar.xz"):
            d, v, a = os.path.relpath(root, hubdir).split("/")
            kernels.append({"distro": d, "version": v, "arch": a, "release": f[: -len(".btf.tar.xz")]})
kernels.sort(key=lambda k: os.path.getsize(os.path.join(hubdir, k["distro"], k["version"], k["arch"], k["release"] + ".btf.tar.xz")))
small = kernels[0]

# Started by hand without a socket: refused up front, nothing created.
existed = os.path.exists("/var/cache/btfd")
env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
r = subprocess.run([btfd], capture_output=True, text=True, env=env, timeout=20)
check(r.returncode == 2 and "--socket" in r.stderr and "btfd.socket" in r.stderr,
      "btfd without a socket says how to start it: %d %r" % (r.returncode, r.stderr))
check(existed or not os.path.exists("/var/cache/btfd"), "btfd without a socket creates no cache")

daemon = start_daemon()
try:
    # Native BTF for this host, with and without objects: this machine's, or on a
    # host without /sys/kernel/btf/vmlinux a second btfd whose host root carries a
    # fixture kernel's BTF there.
    native, native_daemon, nconn = "/sys/kernel/btf/vmlinux", None, None
    if not os.path.exists(native):
        hostroot = os.path.join(tmp, "hostroot")
        os.makedirs(os.path.join(hostroot, "etc")); os.makedirs(os.path.join(hostroot, "sys/kernel/btf"))
        open(os.path.join(hostroot, "etc/os-release"), "w").write('ID=ubuntu\nVERSION_ID="20.04"\n')
        native = os.path.join(hostroot, "sys/kernel/btf/vmlinux")
        with tarfile.open(os.path.join(hubdir, "ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz")) as t:
            open(native, "wb").write(t.extractfile([m for m in t.getmembers() if m.isfile()][0]).read())
        nsock = os.path.join(tmp, "native.sock")
        native_daemon = subprocess.Popen([btfd, "--socket", nsock, "--cache-dir", os.path.join(tmp, "cache-native"),
                                          "--mirror", mirror, "--idle-exit", "0", "--host-root", hostroot],
                                         stderr=open(os.path.join(tmp, "btfd.log"), "a"))
        varlink.wait_for_socket(nsock, native_daemon)
        nconn = varlink.Conn(nsock)
    r, data = get(conn=nconn)
    check("error" not in r and r["parameters"]["source"] == "native", "native get: %s" % r)
    check(data == open(native, "rb").read(), "native BTF bytes equal %s" % native)
    r, data = get(objects=[sample_obj], conn=nconn)
    check("error" not in r and r["parameters"]["minimized"] and parses_as_btf(data), "native minimized: %s" % r)
    if native_daemon:
        nconn.close(); native_daemon.send_signal(signal.SIGTERM); native_daemon.wait(timeout=20)
    # Every sample kernel from the hub, with and without objects.
    for k in kernels:
        r, data = get(k)
        check("error" not in r and r["parameters"]["source"] == "hub" and parses_as_btf(data), "hub get %s: %s" % (k, r))
        r, data = get(k, [sample_obj])
        check("error" not in r and r["parameters"]["minimized"] and parses_as_btf(data), "hub minimized %s: %s" % (k, r))
    s = stats()
    fetched = s["sources"]["hub"]
    check(fetched == len(kernels), "one hub fetch per sample kernel (%d)" % fetched)
    # Second request is a hit.
    before = s["cache"]["hits"]
    r, _ = get(small)
    check(r["parameters"]["cached"] and stats()["cache"]["hits"] == before + 1, "second request is a hit: %s" % r)

    # Restart: still a hit, nothing fetched; the counters survive it.
    before = stats()
    daemon.send_signal(signal.SIGTERM); check(daemon.wait(timeout=20) == 0, "SIGTERM exits 0")
    daemon = start_daemon()
    after = stats()
    check(after["sources"]["hub"] == before["sources"]["hub"] and after["cache"]["hits"] == before["cache"]["hits"]
          and after["requests"].get("io.btfd.GetBtf") == before["requests"].get("io.btfd.GetBtf"),
          "counters survive a restart: %s vs %s" % (after["sources"], before["sources"]))
    hits["n"] = 0
    r, _ = get(small, [sample_obj])
    check("error" not in r and r["parameters"]["cached"], "after restart, still a hit: %s" % r)
    check(stats()["sources"]["hub"] == before["sources"]["hub"] and hits["n"] == 0, "no hub fetch after restart")

    # 32 parallel clients asking for the same missing kernel: one fetch.
    shutil.rmtree(cache)
    daemon.send_signal(signal.SIGTERM); daemon.wait(timeout=20)
    daemon = start_daemon("--workers", "4")
    hits["n"] = 0
    with concurrent.futures.ThreadPoolExecutor(32) as ex:
        results = list(ex.map(lambda _: get(small), range(32)))
    ok = sum(1 for r, d in results if "error" not in r and parses_as_btf(d))
    check(ok == 32, "32 parallel answers (%d ok)" % ok)
    check(stats()["sources"]["hub"] == 1 and hits["n"] == 1, "one hub fetch for 32 clients (%d)" % hits["n"])

    # Bad input. Each gets its named error or is cut off; the daemon keeps serving.
    def raw(payload, expect_error=None, fds=()):
        s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sock)
        if fds:
            import array
            s.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
        else:
            s.sendall(payload)
        try:
            data = s.recv(65536)
        except socket.timeout:
            data = b""
        s.close()
        if expect_error:
            check(expect_error.encode() in data, "expected %s, got %r" % (expect_error, data[:200]))
        return data
    raw(b"{not json\0", "InvalidParameter")
    raw(b'{"method": "io.btfd.Nope"}\0', "MethodNotFound")
    raw(b'{"method": "com.example.Nope"}\0', "MethodNotFound")
    raw(b'{"parameters": {}}\0', "InvalidParameter")
    raw(b'{"method": "io.btfd.GetBtf", "parameters": {"objects": [3]}}\0', "InvalidParameter")
    raw(b'{"method": "io.btfd.GetBtf", "parameters": {"kernel": {"release": "../../x"}}}\0', "InvalidKernel")
    with open(os.path.join(tmp, "junk"), "wb") as f: f.write(b"not an elf file at all" * 10)
    jfd = os.open(os.path.join(tmp, "junk"), os.O_RDONLY)
    raw(b'{"method": "io.btfd.GetBtf", "parameters": {"objects": [0]}}\0', "InvalidObject", fds=[jfd])
    # A real BPF object whose .BTF.ext is damaged: a named error, not a crash.
    import struct
    raw_obj = bytearray(open(sample_obj, "rb").read())
    shoff, = struct.unpack_from("<Q", raw_obj, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", raw_obj, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", raw_obj, shoff + i * shentsize) for i in range(shnum)]
    strtab = hdrs[shstrndx][4]
    for h in hdrs:
        if raw_obj[strtab + h[0]: strtab + h[0] + 9] == b".BTF.ext\0":
            struct.pack_into("<I", raw_obj, h[4] + 4, 0xFFFFFFF0)  # hdr_len far past the section
    bad_ext = os.path.join(tmp, "bad_ext.o"); open(bad_ext, "wb").write(raw_obj)
    efd = os.open(bad_ext, os.O_RDONLY)
    raw(b'{"method": "io.btfd.GetBtf", "parameters": {"objects": [0]}}\0', "InvalidObject", fds=[efd])
    os.close(efd)
    big = os.path.join(tmp, "big"); open(big, "wb").truncate(1 << 30)  # sparse 1 GiB
    bfd = os.open(big, os.O_RDONLY)
    raw(b'{"method": "io.btfd.GetBtf", "parameters": {"objects": [0]}}\0', "TooLarge", fds=[bfd])
    os.close(jfd); os.close(bfd)
    raw(b"x" * (200 * 1024), "TooLarge")  # a huge message without a terminator
    silent = socket.socket(socket.AF_UNIX); silent.connect(sock)  # connects and sends nothing
    half = socket.socket(socket.AF_UNIX); half.connect(sock)
    half.sendall(b'{"method": "io.btfd.GetBtf", "parameters": {"kernel": ')
    half.close()  # disconnects mid-request
    gone = socket.socket(socket.AF_UNIX); gone.connect(sock)
    gone.sendall(b'{"method": "io.btfd.GetBtf", "parameters": {}}\0'); gone.close()  # leaves before the answer
    r, data = get(small)
    check("error" not in r and parses_as_btf(data), "still serving after bad clients: %s" % r)
    silent.close()

    # Unknown kernel: named error; second time answered from the negative cache.
    r, _ = get({"distro": "ubuntu", "version": "20.04", "arch": "x86_64", "release": "0.0.0-none"})
    check(r.get("error") == "io.btfd.KernelNotInHub", "not in hub: %s" % r)

    # Hub down: named error; hub back: success.
    hub.shutdown(); hub.server_close()
    r, _ = get(kernels[1])
    check(r.get("error") == "io.btfd.HubUnreachable", "hub down: %s" % r)
    hub = start_hub(port)
    r, data = get(kernels[1])
    check("error" not in r and parses_as_btf(data), "hub back: %s" % r)

    # Interface description, and btfctl against the same daemon.
    c = varlink.Conn(sock)
    r, _ = c.call("org.varlink.service.GetInterfaceDescription", {"interface": "io.btfd"})
    check("method GetBtf" in r["parameters"]["description"], "interface description served")
    r, _ = c.call("org.varlink.service.GetInterfaceDescription", {"interface": "org.varlink.service"})
    check("interface org.varlink.service\n" in r.get("parameters", {}).get("description", "") and
          "method GetInterfaceDescription(" in r["parameters"]["description"], "so is org.varlink.service's: %s" % r)
    c.close()
    out = subprocess.run([btfctl, "--socket", sock, "--json", "list"], capture_output=True, text=True)
    check(out.returncode == 0 and len(json.loads(out.stdout)["kernels"]) >= 2, "btfctl list: %s" % out.stdout[:200])
    out = subprocess.run([btfctl, "--socket", sock, "stats", "--prometheus"], capture_output=True, text=True)
    check("btfd_requests_total{" in out.stdout, "prometheus stats")
    out = subprocess.run([btfctl, "--socket", sock, "--json", "prefetch", "--distro", small["distro"],
                          "--distro-version", small["version"], "--arch", small["arch"], "--release", small["release"]],
                         capture_output=True, text=True)
    check(out.returncode == 0 and json.loads(out.stdout)["pinned"], "btfctl prefetch: %s %s" % (out.stdout, out.stderr))
    out = subprocess.run([btfctl, "--socket", sock, "--json", "gc"], capture_output=True, text=True)
    check(out.returncode == 0 and "freed_bytes" in json.loads(out.stdout), "btfctl gc: %s" % out.stdout)

    # A half-closed connection (printf ... | nc -U): every call sent before
    # the client shut down its writing side is answered, in order, even one
    # that goes to the hub; then btfd closes the connection.
    missing = dict(kernels[1], release="0.0.0-half-closed")
    calls = [{"method": "io.btfd.Status"}, {"method": "io.btfd.GetBtf", "parameters": {"kernel": kernels[1]}},
             {"method": "io.btfd.GetBtf", "parameters": {"kernel": missing}}, {"method": "io.btfd.Status"}]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sock)
    s.sendall(b"".join(json.dumps(m).encode() + b"\0" for m in calls))
    s.shutdown(socket.SHUT_WR)
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    replies = [json.loads(m) for m in buf.split(b"\0")[:-1]]
    shape = ["status" in r.get("parameters", {}) if i in (0, 3) else r.get("error") or "btf"
             for i, r in enumerate(replies)]
    check(shape == [True, "btf", "io.btfd.KernelNotInHub", True] and buf.endswith(b"\0"),
          "a half-closed connection gets all four replies, then EOF: %s" % shape)
    deadline = time.time() + 5
    while time.time() < deadline and stats()["held"]["connections"] > 1:
        time.sleep(0.05)
    check(stats()["held"]["connections"] == 1, "and btfd closed it (only the Stats caller is left)")

    # Downloads and archives were handled in btfd-fetch children: the daemon
    # itself never loaded libcurl or libarchive.
    maps = open("/proc/%d/maps" % daemon.pid).read()
    check("libcurl" not in maps and "libarchive" not in maps, "btfd's address space holds no libcurl/libarchive")
finally:
    daemon.send_signal(signal.SIGTERM)
    try: daemon.wait(timeout=20)
    except subprocess.TimeoutExpired: daemon.kill()

# Socket activation: systemd-socket-activate hands btfd a listening socket.
sa = shutil.which("systemd-socket-activate")
if sa:
    asock = os.path.join(tmp, "activated.sock")
    p = subprocess.Popen([sa, "-l", asock, btfd, "--cache-dir", cache, "--mirror", mirror, "--idle-exit", "2"],
                         stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(asock): break
        time.sleep(0.05)
    c = varlink.Conn(asock)
    r, _ = c.call("io.btfd.Status")
    check(r["parameters"]["status"]["version"], "socket-activated btfd answers")
    c.close()
    try:
        p.wait(timeout=15)  # idle exit after 2 s
        check(p.returncode == 0, "idle exit code 0")
    except subprocess.TimeoutExpired:
        p.kill(); check(False, "btfd did not exit when idle")
else:
    check(False, "systemd-socket-activate (package systemd, in scripts/deps.sh) is missing: socket activation untested")

# A fetch helper that crashes (as a parser hit by a hostile archive would)
# costs that request a named error; the daemon lives on and keeps serving.
crash = os.path.join(tmp, "crashing-fetch")
with open(crash, "w") as f: f.write("#!/bin/sh\nkill -SEGV $$\n")
os.chmod(crash, 0o755)
sock2 = os.path.join(tmp, "crash.sock")
p = subprocess.Popen([btfd, "--socket", sock2, "--cache-dir", os.path.join(tmp, "cache2"), "--mirror", mirror,
                      "--idle-exit", "0", "--log-level", "debug"],
                     env=dict(os.environ, BTFD_FETCH_HELPER=crash), stderr=open(os.path.join(tmp, "btfd.log"), "a"))
try:
    varlink.wait_for_socket(sock2, p)
    c = varlink.Conn(sock2)
    r, _ = c.call("io.btfd.GetBtf", {"kernel": kernels[2]})
    # What crashed the parser came from the mirror: refused, not "unreachable".
    check(r.get("error") == "io.btfd.HubRejected" and "signal 11" in json.dumps(r), "crashed helper: %s" % r)
    r, _ = c.call("io.btfd.Status")
    check("error" not in r and p.poll() is None, "daemon alive after its helper crashed: %s" % r)
    c.close()
finally:
    p.send_signal(signal.SIGTERM)
    try: p.wait(timeout=20)
    except subprocess.TimeoutExpired: p.kill()

# SIGTERM while a download hangs: past its stop bound btfd cancels the download
# (kills its btfd-fetch child) and exits 0; nothing is left running.
stall = socket.socket(); stall.bind(("127.0.0.1", 0)); stall.listen(8)  # accepts, never answers
sock3 = os.path.join(tmp, "stall.sock")
p = subprocess.Popen([btfd, "--socket", sock3, "--cache-dir", os.path.join(tmp, "cache3"), "--idle-exit", "0",
                      "--mirror", "http://127.0.0.1:%d" % stall.getsockname()[1], "--timeout", "60000"],
                     stderr=open(os.path.join(tmp, "btfd.log"), "a"))
def children(pid):
    out = []
    for d in os.listdir("/proc"):
        try:
            st = open("/proc/%s/stat" % d).read()
        except (OSError, ValueError):
            continue
        fields = st[st.rfind(")") + 2:].split()
        if d.isdigit() and int(fields[1]) == pid: out.append(int(d))
    return out
try:
    varlink.wait_for_socket(sock3, p)
    hung = varlink.Conn(sock3)
    hung.send("io.btfd.GetBtf", {"kernel": kernels[0]})
    deadline, kids = time.time() + 10, []
    while time.time() < deadline and not kids:
        time.sleep(0.05); kids = children(p.pid)
    check(len(kids) == 1, "a btfd-fetch child runs the download: %s" % kids)
    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill(); p.wait()
    check(p.returncode == 0 and time.time() - t0 < 20, "stopped within its bound: rc=%s after %.1f s" % (p.returncode, time.time() - t0))
    time.sleep(0.2)
    check(not any(os.path.exists("/proc/%d" % k) for k in kids), "no btfd-fetch left behind")
    hung.close()
finally:
    if p.poll() is None: p.kill()
    stall.close()

hub.shutdown()
log = open(os.path.join(tmp, "btfd.log")).read()
shutil.rmtree(tmp)
if failures:
    print(log[-3000:])
    print("%d failure(s)" % len(failures)); sys.exit(1)
print("ok")

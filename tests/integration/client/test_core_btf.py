#!/usr/bin/env python3
# libbtfd's libbpf helpers against a real btfd: BTF minimized for a real CO-RE
# object (by path and by bytes) and the full BTF, each set as btf_custom_path
# under /proc/self/fd, parsed and loaded by real libbpf, closed by the clean
# call, with no file written anywhere; and the timeouts, against a loopback
# hub that accepts connections and never answers.
import os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check, failures, skip_no_bpf

btfd, tool, obj = sys.argv[1:4]
BTFD_ERR_TIMEOUT = -1012
tmp = tempfile.mkdtemp(prefix="btfd-core-btf-")
tmpdir = os.path.join(tmp, "tmp"); os.mkdir(tmpdir)  # the helpers' $TMPDIR: must stay empty
daemons = []

def start_btfd(name, *extra):
    sock = os.path.join(tmp, name + ".sock")
    log = open(os.path.join(tmp, name + ".log"), "w")
    d = subprocess.Popen([btfd, "--socket", sock, "--cache-dir", os.path.join(tmp, name + "-cache"),
                          "--idle-exit", "0"] + list(extra), stderr=log)
    daemons.append(d)
    varlink.wait_for_socket(sock, d)
    return sock

def run(args, **env_extra):
    env = dict(os.environ, TMPDIR=tmpdir, **env_extra)
    p = subprocess.run([tool] + args, env=env, capture_output=True, text=True, timeout=120)
    print("$", " ".join(args), "->", p.returncode); print(p.stdout, p.stderr, end="")
    values = dict(l.split(": ", 1) for l in p.stdout.splitlines() if ": " in l and not l.startswith("FAIL"))
    return p, values

# A hub that takes every connection and never says a word.
class SilentHub:
    def __init__(self):
        self.s = socket.socket(); self.s.bind(("127.0.0.1", 0)); self.s.listen(64)
        self.held = []
        threading.Thread(target=self.loop, daemon=True).start()
    def loop(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            self.held.append(c)  # read nothing, answer nothing
    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.s.getsockname()[1]

bpf_refused = False
try:
    # 1. This host's BTF through btfd (forced: the host has its own), minimized for the object.
    sock = start_btfd("native")
    before_tmp = set(os.listdir(tempfile.gettempdir()))
    for mode in ("file", "mem", "full"):
        p, v = run([mode, obj], BTFD_SOCKET=sock, BTFD_FORCE="1")
        check(p.returncode == 0 and "FAIL" not in p.stdout, "%s: every in-process check passed" % mode)
        check(v.get("ensure", "").startswith("0 "), "%s: the helper succeeded" % mode)
        check(re.fullmatch(r"/proc/self/fd/\d+", v.get("btf_custom_path", "")) is not None,
              "%s: btf_custom_path is /proc/self/fd/N (%s)" % (mode, v.get("btf_custom_path")))
        types, kernel = int(v.get("btf_types", "0")), int(v.get("kernel_types", "0"))
        check(types > 1, "%s: libbpf parsed the BTF behind the path (%d types)" % (mode, types))
        if mode == "full":
            check(types == kernel, "full: the kernel's whole BTF (%d of %d types)" % (types, kernel))
        else:
            check(0 < types < kernel / 10, "%s: BTF minimized for the object (%d of %d types)" % (mode, types, kernel))
        load = v.get("load", "")
        if "not permitted" in load:
            bpf_refused = True
        else:
            check(load.startswith("0 "), "%s: libbpf loaded the object with it (%s)" % (mode, load))
    # The object's file name travels with it (btfctl list shows it), base name only.
    c = varlink.Conn(sock)
    r, _ = c.call("io.btfd.ListKernels")
    c.close()
    names = [o.get("name") for o in r.get("parameters", {}).get("objects", [])]
    check(os.path.basename(obj) in names, "btfd knows the object by its base name %s: %s" % (os.path.basename(obj), names))
    check(os.listdir(tmpdir) == [], "nothing written to $TMPDIR: %s" % os.listdir(tmpdir))
    new_tmp = [f for f in set(os.listdir(tempfile.gettempdir())) - before_tmp if not f.startswith("btfd-core-btf-")]
    check(not [f for f in new_tmp if "btfd" in f or "vmlinux" in f], "nothing written to /tmp: %s" % new_tmp)
    cache = os.path.join(tmp, "native-cache")
    stray = [os.path.join(r, f) for r, _, fs in os.walk(cache) for f in fs if "vmlinux" in f or f.startswith("btfd-")]
    check(not stray, "no copy in btfd's cache directory: %s" % stray)

    # A FIFO named as the object: refused at once (BTFD_ERR_INVALID_OBJECT),
    # the open does not wait for a writer that never comes.
    fifo = os.path.join(tmp, "object.fifo")
    os.mkfifo(fifo)
    try:
        p = subprocess.run([tool, "file-only", fifo], env=dict(os.environ, BTFD_SOCKET=sock, BTFD_FORCE="1"),
                           capture_output=True, text=True, timeout=20)
        check(p.returncode == 0 and "ensure: -1003 " in p.stdout, "a FIFO object is refused: %s %s" % (p.stdout, p.stderr))
    except subprocess.TimeoutExpired:
        check(False, "btfd_ensure_core_btf_for_file hangs on a FIFO")
    os.unlink(fifo)

    # btfd unreachable: a named error, nothing set.
    p, v = run(["file", obj], BTFD_SOCKET=os.path.join(tmp, "nobody.sock"), BTFD_FORCE="1")
    check(p.returncode == 1 and v.get("ensure", "").startswith("-1000 ") and "not reachable" in v.get("ensure", ""),
          "unreachable btfd: BTFD_ERR_UNREACHABLE")

    # 2. Timeouts: btfd asks a hub that never answers (its own limit is far away).
    hub = SilentHub()
    sock = start_btfd("silent", "--mirror", hub.url, "--timeout", "60000")
    p, v = run(["get-kernel", sock, "1500", "ubuntu", "20.04", "x86_64", "5.4.0-26-generic"])
    check(p.returncode == 0, "get-kernel: in-process checks passed")
    check(v.get("get", "").startswith("%d " % BTFD_ERR_TIMEOUT) and "timeout" in v.get("get", ""),
          "btfd_get_btf: BTFD_ERR_TIMEOUT, named (%s)" % v.get("get"))
    ms = int(v.get("elapsed_ms", "-1"))
    check(1400 <= ms <= 4000, "btfd_get_btf gave up at its timeout (%d ms for 1500)" % ms)
    check(v.get("again", "").startswith("%d " % BTFD_ERR_TIMEOUT), "the next call connected again and timed out too (%s)" % v.get("again"))
    ms = int(v.get("again_elapsed_ms", "-1"))
    check(1400 <= ms <= 4000, "the second call's timeout held too (%d ms)" % ms)
    check(len(hub.held) >= 1, "btfd did reach the silent hub (%d connections)" % len(hub.held))

    # The helpers: this host seen through a root without BTF, so btfd must ask the hub.
    root = os.path.join(tmp, "root"); os.makedirs(os.path.join(root, "etc"))
    with open(os.path.join(root, "etc", "os-release"), "w") as f:
        f.write('ID=ubuntu\nVERSION_ID="20.04"\n')
    sock = start_btfd("rootless", "--host-root", root, "--mirror", hub.url, "--timeout", "60000")
    # from the environment
    p, v = run(["helper-timeout", obj, "0"], BTFD_SOCKET=sock, BTFD_FORCE="1", BTFD_TIMEOUT_MSEC="1200")
    check(p.returncode == 0, "helper-timeout (environment): in-process checks passed")
    check(v.get("ensure", "").startswith("%d " % BTFD_ERR_TIMEOUT), "helper: BTFD_ERR_TIMEOUT from $BTFD_TIMEOUT_MSEC (%s)" % v.get("ensure"))
    ms = int(v.get("elapsed_ms", "-1"))
    check(1100 <= ms <= 3700, "helper gave up at $BTFD_TIMEOUT_MSEC (%d ms for 1200)" % ms)
    # from struct btfd_core_opts, which wins over the environment
    p, v = run(["helper-timeout", obj, "700"], BTFD_SOCKET=sock, BTFD_FORCE="1", BTFD_TIMEOUT_MSEC="60000")
    check(v.get("ensure", "").startswith("%d " % BTFD_ERR_TIMEOUT), "helper: BTFD_ERR_TIMEOUT from timeout_msec (%s)" % v.get("ensure"))
    ms = int(v.get("elapsed_ms", "-1"))
    check(600 <= ms <= 3200, "helper gave up at timeout_msec (%d ms for 700)" % ms)
    # btfd itself is still fine after clients walked away from it.
    c = varlink.Conn(sock, timeout=10)
    r, fds = c.call("org.varlink.service.GetInfo")
    c.close()
    check("error" not in r, "btfd still answers after the timed-out calls: %s" % r)
finally:
    for d in daemons:
        d.send_signal(signal.SIGTERM)
    for d in daemons:
        try:
            d.wait(timeout=20)
        except subprocess.TimeoutExpired:
            d.kill(); check(False, "btfd did not exit on SIGTERM")
for name in ("native", "silent", "rootless"):
    path = os.path.join(tmp, name + ".log")
    if failures and os.path.exists(path):
        print("--- %s:\n%s" % (name, open(path).read()[-3000:]))
if failures:
    print("%d failure(s)" % len(failures)); sys.exit(1)
shutil.rmtree(tmp, ignore_errors=True)
if bpf_refused:
    skip_no_bpf("every check passed but the program load, which the kernel refused")
print("ok")

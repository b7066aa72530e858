#!/usr/bin/env python3
# A full disk is the cache's problem, never the mirror's. A real btfd runs in a
# mount namespace of its own (unshare -m: nothing leaks) with its cache
# directory on a 2 MiB tmpfs; two loopback mirrors serve the repo's archives.
#  - A kernel whose BTF (4.4 MiB) does not fit, fetched with btfd-fetch as
#    always: GetBtf fails with StoreError naming the cache directory as full,
#    after one request to the first mirror (no retry, the second mirror never
#    asked); again on the next call, never HubUnreachable (no circuit opened).
#  - With the disk filled further, the download itself does not fit: the same.
#  - The mirrors' stats show no error and no timeout; both stay healthy.
#  - Once the tmpfs is made larger, the same kernel comes from the first mirror.
import http.server, os, shutil, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib, varlink
from testlib import check

btfd = sys.argv[1]
if os.geteuid() != 0:
    testlib.skip_not_root("mounting a small tmpfs as the cache directory")
KERNEL = {"distro": "ubuntu", "version": "20.04", "arch": "x86_64", "release": "5.4.0-26-generic"}
ARCHIVE = "/ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz"
HUB = testlib.hub_dir()

requests = {"first": [], "second": []}


def mirror(name):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=HUB, **kw)

        def log_message(self, *a):
            pass

        def do_GET(self):
            requests[name].append(self.path)
            return super().do_GET()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "http://127.0.0.1:%d" % srv.server_address[1]


first_srv, first = mirror("first")
second_srv, second = mirror("second")
tmp = tempfile.mkdtemp(prefix="btfd-full-disk-")
cache, sock = os.path.join(tmp, "cache"), os.path.join(tmp, "btfd.sock")
hostroot = os.path.join(tmp, "host")  # no native BTF: nothing is stored at start
os.makedirs(os.path.join(hostroot, "etc"))
os.makedirs(cache)
open(os.path.join(hostroot, "etc/os-release"), "w").write('ID=ubuntu\nVERSION_ID="20.04"\n')
log = os.path.join(tmp, "btfd.log")
# unshare execs sh, which mounts and execs btfd: the pid is btfd's, and the
# tmpfs exists in its mount namespace only (gone with it).
d = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                      'mount -t tmpfs -o size=2m,mode=0755 btfd-test-cache "$1" && shift && exec "$@"', "sh", cache,
                      btfd, "--socket", sock, "--cache-dir", cache, "--host-root", hostroot, "--mirror", first,
                      "--mirror", second, "--idle-exit", "0", "--log-level", "debug"],
                     stderr=open(log, "w"))
in_ns = "/proc/%d/root%s" % (d.pid, cache)  # the cache directory as btfd sees it


def get_btf():
    c = varlink.Conn(sock, timeout=120)
    try:
        r, fds = c.call("io.btfd.GetBtf", {"kernel": KERNEL})
        for f in fds:
            os.close(f)
        return r
    finally:
        c.close()


def mirrors():
    c = varlink.Conn(sock)
    try:
        return {m["base"]: m for m in c.call("io.btfd.Status")[0]["parameters"]["status"]["mirrors"]}
    finally:
        c.close()


def archive_gets(name):
    return sum(1 for p in requests[name] if p == ARCHIVE)


def check_store_error(r, what):
    msg = r.get("parameters", {}).get("message", "")
    check(r.get("error") == "io.btfd.StoreError", "%s: StoreError, not %s: %s" % (what, r.get("error"), msg))
    check('"%s" is full' % cache in msg, "%s: the message names the cache directory as full: %s" % (what, msg))
    check("No space left on device" in msg, "%s: the message says why: %s" % (what, msg))


def check_mirrors_clean(what):
    stats = mirrors()
    for base in (first, second):
        m = stats.get(base, {})
        check(m.get("errors") == 0 and m.get("timeouts") == 0 and m.get("healthy") is True,
              "%s: nothing counts against mirror %s: %s" % (what, base, m))
    # (btfd's start-up prefetch of the host's own kernel asks both, and hears "not found".)
    check(archive_gets("second") == 0, "%s: the second mirror was never asked: %s" % (what, requests["second"]))


try:
    varlink.wait_for_socket(sock, d)
    check(subprocess.run(["nsenter", "-t", str(d.pid), "-m", "findmnt", "-n", "-o", "FSTYPE", cache],
                         capture_output=True, text=True).stdout.strip() == "tmpfs",
          "btfd's cache directory is the small tmpfs")
    check(not os.path.ismount(cache), "the tmpfs is not mounted outside btfd's namespace")

    # 1. The archive (1.1 MB) fits, its BTF (4.4 MiB) does not.
    r = get_btf()
    print("BTF does not fit:", r)
    check_store_error(r, "BTF does not fit")
    check(archive_gets("first") == 1, "one request for the archive, no retry: %s" % requests["first"])
    check_mirrors_clean("BTF does not fit")
    r = get_btf()
    check_store_error(r, "asked again")
    check(archive_gets("first") == 2, "asked again: the mirror is asked again (its circuit is closed): %s"
          % requests["first"])
    check_mirrors_clean("asked again")

    # 2. Filled further: the download itself does not fit.
    st = os.statvfs(in_ns)
    free = st.f_bavail * st.f_frsize
    with open(os.path.join(in_ns, "filler"), "wb") as f:
        f.write(b"\0" * max(free - (512 << 10), 0))
    r = get_btf()
    print("download does not fit:", r)
    check_store_error(r, "download does not fit")
    check(archive_gets("first") == 3, "one more request for the archive: %s" % requests["first"])
    check_mirrors_clean("download does not fit")
    os.unlink(os.path.join(in_ns, "filler"))

    # 3. Room made: the same kernel is fetched, from the first mirror.
    grow = subprocess.run(["nsenter", "-t", str(d.pid), "-m", "mount", "-o", "remount,size=64m", cache],
                          capture_output=True, text=True)
    check(grow.returncode == 0, "the tmpfs grows: %s" % grow.stderr)
    r = get_btf()
    p = r.get("parameters", {})
    check("error" not in r and p.get("source") == "hub" and p.get("size", 0) > (4 << 20),
          "with room, the kernel is fetched: %s" % r)
    m = mirrors().get(first, {})
    check(m.get("successes") == 1 and m.get("errors") == 0, "the first mirror: one success, no error: %s" % m)
    check_mirrors_clean("with room")
finally:
    d.terminate()
    try:
        d.wait(timeout=30)
    except subprocess.TimeoutExpired:
        d.kill()
    first_srv.shutdown()
    second_srv.shutdown()
    if testlib.failures:
        print(open(log).read()[-3000:])
    shutil.rmtree(tmp, ignore_errors=True)
testlib.finish()

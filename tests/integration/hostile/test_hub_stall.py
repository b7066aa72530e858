#!/usr/bin/env python3
# A stalled mirror must not starve other clients (hub lane), and stalled
# lookups must fail fast and by name (stall timeout, circuit breaker with one
# mirror). For two loopback mirrors, one that accepts and never answers and
# one that sends headers then stalls (both serve the repo's real archives
# otherwise):
#  - nobody fires more lookups of made-up kernels than there are download
#    slots and workers together;
#  - meanwhile another user's Status, a cached GetBtf (the host's), a GetBtf
#    with an object for the host kernel and one for a kernel fetched from the
#    mirror before (cached full BTF, not native) answer within 3 s (a bound
#    on starvation, not a benchmark);
#  - every stalled lookup ends with a named error within the configured time
#    (StallTimeoutSec=2), and once the breaker is open the next lookup is
#    answered HubUnreachable at once, naming the mirror and when it is asked again.
import http.server, json, os, shutil, socketserver, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib, varlink
from testlib import check

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
btfd, sample = sys.argv[1:3]
if os.geteuid() != 0:
    testlib.skip_not_root("the attacker and the other user are other uids")
NOBODY, OTHER = 65534, 65533
DOWNLOADS, WORKERS, STALL = 2, 2, 2
HUB = testlib.hub_dir()
CACHED = {"distro": "ubuntu", "version": "20.04", "arch": "x86_64", "release": "5.4.0-26-generic"}

mode = {"now": "silent"}


class Mirror(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=HUB, **kw)

    def log_message(self, *a):
        pass

    def do_GET(self):
        if "/stall-" not in self.path:
            return super().do_GET()
        if mode["now"] == "headers":
            self.send_response(200)
            self.send_header("Content-Length", str(10 << 20))
            self.end_headers()
            self.wfile.write(b"\xfd7zXZ\0")
            self.wfile.flush()
        time.sleep(120)  # silent: the request was read, nothing is ever answered


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


mirror = Server(("127.0.0.1", 0), Mirror)
threading.Thread(target=mirror.serve_forever, daemon=True).start()
mirror_url = "http://127.0.0.1:%d" % mirror.server_address[1]

# As uid: Status, a host GetBtf, a host GetBtf with the object, a GetBtf with
# the object for the cached kernel; each one's seconds and outcome.
PROBE = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1]); import varlink
kernel = json.loads(sys.argv[4])
out = []
def timed(what, method, params=None, fds=()):
    c = varlink.Conn(sys.argv[2], timeout=10)
    t = time.time()
    try:
        r, got = c.call(method, params, fds=fds)
        for f in got: os.close(f)
        out.append([what, time.time() - t, r.get("error") or "ok"])
    except Exception as e:
        out.append([what, time.time() - t, "no reply: %s" % e])
    c.close()
timed("Status", "io.btfd.Status")
timed("cached GetBtf", "io.btfd.GetBtf")
fd = os.open(sys.argv[3], os.O_RDONLY)
timed("GetBtf with an object", "io.btfd.GetBtf", {"objects": [0]}, [fd])
timed("GetBtf with an object, cached hub kernel", "io.btfd.GetBtf", {"kernel": kernel, "objects": [0]}, [fd])
print(json.dumps(out))
"""

# As nobody: N lookups of made-up kernels, each on its own connection, sent
# at once; then each one's seconds (from sending) and error name and message.
LOOKUPS = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1]); import varlink
n, tag = int(sys.argv[3]), sys.argv[4]
conns = []
t = time.time()
for i in range(n):
    c = varlink.Conn(sys.argv[2], timeout=90)
    c.send("io.btfd.GetBtf", {"kernel": {"distro": "ubuntu", "version": "20.04", "arch": "x86_64",
                                          "release": "stall-%s-%d" % (tag, i)}})
    conns.append(c)
print("sent", flush=True)
out = []
for c in conns:
    try:
        r, _ = c.recv()
        out.append([time.time() - t, r.get("error") or "ok", r.get("parameters", {}).get("message", "")])
    except Exception as e:
        out.append([time.time() - t, "no reply", str(e)])
print(json.dumps(out))
"""


def as_user(uid, script, *args):
    return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", PY, "-c", script, *args]


def scenario(name):
    tmp, obj, hostroot = testlib.scratch_host("btfd-hubstall-", sample)
    conf = os.path.join(tmp, "btfd.conf")
    # QueuedDownloads=32: a UID may fill a quarter of it (8), more than the
    # lookups beyond the download slots this attack sends.
    open(conf, "w").write("[Daemon]\nWorkers=%d\n[Hub]\nDownloads=%d\nQueuedDownloads=32\nStallTimeoutSec=%d\n"
                          "TimeoutMSec=60000\nConnectTimeoutMSec=2000\n" % (WORKERS, DOWNLOADS, STALL))
    sock = os.path.join(tmp, "btfd.sock")
    d = subprocess.Popen([btfd, "--config", conf, "--socket", sock, "--idle-exit", "0",
                          "--cache-dir", os.path.join(tmp, "cache"), "--host-root", hostroot, "--mirror", mirror_url],
                         stderr=open(os.path.join(tmp, "btfd.log"), "w"))
    attack = None
    try:
        varlink.wait_for_socket(sock, d)
        mode["now"] = "serve"
        # Before the attack: the host kernel and one hub kernel in the cache.
        warm = subprocess.run(as_user(OTHER, PROBE, tmp, sock, obj, json.dumps(CACHED)), capture_output=True,
                              text=True, timeout=120)
        res = json.loads(warm.stdout or "[]")
        check(len(res) == 4 and all(r[2] == "ok" for r in res), "%s: the probes work before the attack: %s %s"
              % (name, res, warm.stderr[-500:]))
        mode["now"] = name
        n = DOWNLOADS + WORKERS + 2
        attack = subprocess.Popen(as_user(NOBODY, LOOKUPS, tmp, sock, str(n), name), stdout=subprocess.PIPE, text=True)
        check(attack.stdout.readline().strip() == "sent", "%s: nobody sent its lookups" % name)
        time.sleep(0.5)  # they hold every download slot now
        p = subprocess.run(as_user(OTHER, PROBE, tmp, sock, obj, json.dumps(CACHED)), capture_output=True, text=True,
                           timeout=60)  # each call gives up after 10 s
        res = json.loads(p.stdout or "[]")
        print(name, "probes during the attack:", res)
        check(len(res) == 4, "%s: every probe answered: %s %s" % (name, res, p.stderr[-500:]))
        for what, secs, outcome in res:
            check(outcome == "ok" and secs < 3, "%s: another user's %s is answered promptly while the mirror stalls "
                  "(%.1f s, %s)" % (name, what, secs, outcome))
        try:
            out, _ = attack.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            out = "[]"
        lookups = json.loads((out.strip().splitlines() or ["[]"])[-1])
        print(name, "lookups:", [(round(a, 1), b) for a, b, _ in lookups], lookups[-1][2])
        check(len(lookups) == n, "%s: every lookup was answered: %s" % (name, lookups))
        # Two rounds of the stall timeout at most (2 slots for 6 lookups, the
        # breaker opens after 3 failed attempts), with slack.
        bound = 2 * STALL + 8
        for secs, err, msg in lookups:
            check(err == "io.btfd.HubUnreachable" and secs < bound,
                  "%s: a stalled lookup ends with HubUnreachable within %d s (%.1f s, %s: %s)" % (name, bound, secs, err, msg))
        # The breaker is open: the next lookup fails at once, saying which
        # mirror and when it is asked again.
        t = time.time()
        again = subprocess.run(as_user(NOBODY, LOOKUPS, tmp, sock, "1", name + "-again"), capture_output=True,
                               text=True, timeout=120)
        secs = time.time() - t
        r = (json.loads(again.stdout.strip().splitlines()[-1]) or [[0, "none", ""]])[0]
        check(r[1] == "io.btfd.HubUnreachable" and mirror_url in r[2] and "asked again in" in r[2] and secs < 2,
              "%s: with the breaker open a lookup fails at once, naming the mirror and the retry (%.1f s): %s"
              % (name, secs, r))
        c = varlink.Conn(sock)
        check("error" not in c.call("io.btfd.Status")[0], "%s: btfd still serves" % name)
        c.close()
    finally:
        if attack and attack.poll() is None:
            attack.kill()
        d.terminate()
        d.wait(timeout=30)
        if testlib.failures:
            print(open(os.path.join(tmp, "btfd.log")).read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)


scenario("silent")
scenario("headers")
mirror.shutdown()
testlib.finish()

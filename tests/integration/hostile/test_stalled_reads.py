#!/usr/bin/env python3
# A client's descriptor on a file system that stops answering must not hold
# btfd's workers (P1-1). stallfs.py is a real FUSE server whose READs are never
# answered, with overlayfs above it (so the file passes btfd's FUSE check, as
# on any host where users may mount FUSE and overlays in a user namespace):
#  - nobody sends more GetBtf calls with such files than btfd has workers
#    (each file opened by root and passed over SCM_RIGHTS) and one more beyond
#    its per-UID bound of reader threads: that one is answered Busy at once;
#  - meanwhile another user's Status and GetBtf with an object (a regular file
#    on disk, read through the same reader path) answer within 3 s;
#  - every stalled call ends with io.btfd.InvalidObject "object #0: not readable
#    within N s (a stalled file system?)" after ObjectReadSec=, not before;
#  - the stuck readers stay (and count against nobody: still Busy) until the
#    FUSE server dies; then btfd's threads and descriptors return to what they
#    were before, and nobody's next call with an ordinary file is answered;
#  - a /proc file (size 0, then bytes) is refused as not a regular file with a size.
import json, os, shutil, signal, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib, varlink
from testlib import check

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
btfd, sample = sys.argv[1:3]
if os.geteuid() != 0:
    testlib.skip_not_root("mounting FUSE and overlayfs, and the attacker is another uid")
NOBODY, OTHER = 65534, 65533
WORKERS, READ_SEC, PER_UID = 2, 3, 4  # PER_UID: btfd's kFileReadersPerUid
HERE = os.path.dirname(os.path.abspath(__file__))

# As uid: Status and a GetBtf with a regular file; each one's seconds and outcome.
PROBE = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1]); import varlink
out = []
def timed(what, method, params=None, fds=()):
    c = varlink.Conn(sys.argv[2], timeout=10)
    t = time.time()
    try:
        r, got = c.call(method, params, fds=fds)
        for f in got: os.close(f)
        out.append([what, time.time() - t, r.get("error") or "ok", r.get("parameters", {}).get("message", "")])
    except Exception as e:
        out.append([what, time.time() - t, "no reply: %s" % e, ""])
    c.close()
timed("Status", "io.btfd.Status")
fd = os.open(sys.argv[3], os.O_RDONLY)
timed("GetBtf with an object", "io.btfd.GetBtf", {"objects": [0]}, [fd])
print(json.dumps(out))
"""

# As nobody, holding descriptors root opened (fds 3..): one GetBtf per
# descriptor, each on its own connection, sent at once; then each one's seconds
# (from sending), error name and message.
ATTACK = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1]); import varlink
fds = [int(f) for f in sys.argv[3].split(",")]
conns = []
t = time.time()
for fd in fds:
    c = varlink.Conn(sys.argv[2], timeout=60)
    c.send("io.btfd.GetBtf", {"objects": [0]}, fds=[fd])
    os.close(fd)
    conns.append(c)
print("sent", flush=True)
out = []
for c in conns:
    c.s.settimeout(max(0.1, t + 15 - time.time()))  # 15 s for all: fails fast without the fix
    try:
        r, got = c.recv()
        out.append([time.time() - t, r.get("error") or "ok", r.get("parameters", {}).get("message", "")])
    except Exception as e:
        out.append([time.time() - t, "no reply", str(e)])
print(json.dumps(out), flush=True)
"""


def as_user(uid, script, *args):
    return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", PY, "-c", script, *args]


def probe(uid, tmp, sock, obj):
    p = subprocess.run(as_user(uid, PROBE, tmp, sock, obj), capture_output=True, text=True, timeout=90)
    try:
        return json.loads(p.stdout)
    except ValueError:
        return [["probe", 0, "no output: " + p.stderr[-500:], ""]]


def threads_fds(pid):
    return len(os.listdir("/proc/%d/task" % pid)), len(os.listdir("/proc/%d/fd" % pid))


def attack(tmp, sock, fds):
    p = subprocess.Popen(as_user(NOBODY, ATTACK, tmp, sock, ",".join(map(str, fds))), stdout=subprocess.PIPE,
                         text=True, pass_fds=fds)
    for fd in fds:
        os.close(fd)
    return p


# The object on the test's disk: a file that may stall, read the slow way.
tmp, obj, hostroot = testlib.scratch_host("btfd-stalled-", sample)
lower, lower2, ov = (os.path.join(tmp, d) for d in ("lower", "lower2", "ov"))
for d in (lower, lower2, ov):
    os.mkdir(d)

fs = subprocess.Popen([sys.executable, os.path.join(HERE, "stallfs.py"), lower], stdout=subprocess.PIPE, text=True)
mounted = []
d = None
try:
    if fs.stdout.readline().strip() != "mounted":
        testlib.fatal("stallfs.py did not mount (is /dev/fuse there?)")
    mounted.append(lower)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=%s:%s" % (lower, lower2), ov], check=True)
    mounted.append(ov)
    check(os.statvfs(ov) is not None and os.stat(os.path.join(ov, "obj0")).st_size == 4096,
          "the overlay shows the FUSE files")

    conf = os.path.join(tmp, "btfd.conf")
    open(conf, "w").write("[Daemon]\nWorkers=%d\n[Limits]\nObjectReadSec=%d\n" % (WORKERS, READ_SEC))
    sock = os.path.join(tmp, "btfd.sock")
    d = subprocess.Popen([btfd, "--config", conf, "--socket", sock, "--idle-exit", "0",
                          "--cache-dir", os.path.join(tmp, "cache"), "--host-root", hostroot],
                         stderr=open(os.path.join(tmp, "btfd.log"), "w"))
    varlink.wait_for_socket(sock, d)

    before = probe(OTHER, tmp, sock, obj)
    check([r[2] for r in before] == ["ok", "ok"], "the probes work before the attack: %s" % before)
    time.sleep(0.5)
    base = threads_fds(d.pid)

    # A /proc file says size 0 and then has bytes: refused as such, not as "grew".
    procf = attack(tmp, sock, [os.open("/proc/version", os.O_RDONLY)])
    procf.stdout.readline()
    r = json.loads(procf.stdout.readline() or "[]")
    procf.wait(timeout=10)
    check(len(r) == 1 and r[0][1] == "io.btfd.InvalidObject" and "not a regular file with a size" in r[0][2],
          "a /proc file is refused as not a regular file with a size: %s" % r)

    # More stalled calls than workers, up to nobody's bound of reader threads...
    stalled = PER_UID
    atk = attack(tmp, sock, [os.open(os.path.join(ov, "obj%d" % i), os.O_RDONLY) for i in range(stalled)])
    check(atk.stdout.readline().strip() == "sent", "nobody sent its calls")
    t0 = time.time()
    time.sleep(0.5)
    # ...and one beyond it: Busy at once.
    over = attack(tmp, sock, [os.open(os.path.join(ov, "obj%d" % stalled), os.O_RDONLY)])
    check(over.stdout.readline().strip() == "sent", "nobody sent its call beyond the bound")
    r = json.loads(over.stdout.readline() or "[]")
    check(len(r) == 1 and r[0][1] == "io.btfd.Busy" and r[0][0] < 2 and "stalled file system" in r[0][2],
          "a call beyond nobody's reader bound is answered Busy at once, saying why: %s" % r)
    over.wait(timeout=10)

    during = probe(OTHER, tmp, sock, obj)
    for what, secs, outcome, msg in during:
        check(outcome == "ok" and secs < 3, "another user's %s answers within 3 s while nobody's reads stall: "
                                             "%.2f s, %s %s" % (what, secs, outcome, msg))

    out = json.loads(atk.stdout.readline() or "[]")
    atk.wait(timeout=10)
    check(len(out) == stalled, "every stalled call was answered: %s" % out)
    for secs, err, msg in out:
        check(err == "io.btfd.InvalidObject" and msg == "object #0: not readable within %d s (a stalled file system?)"
              % READ_SEC, "a stalled call ends with a named error: %s %s" % (err, msg))
        check(READ_SEC - 0.5 <= secs <= READ_SEC + 3, "a stalled call ends after ObjectReadSec=%d s: %.2f s"
              % (READ_SEC, secs))
    held = threads_fds(d.pid)
    check(held[0] >= base[0] + stalled, "the stuck readers are still there (threads %s -> %s)" % (base, held))

    # The stuck readers still count against nobody: Busy, not another thread.
    again = attack(tmp, sock, [os.open(obj, os.O_RDONLY)])
    again.stdout.readline()
    r = json.loads(again.stdout.readline() or "[]")
    again.wait(timeout=10)
    check(len(r) == 1 and r[0][1] == "io.btfd.Busy", "stuck readers still bound nobody's reads: %s" % r)

    # The FUSE server dies: the stuck reads return, the readers end and free everything.
    fs.kill()
    fs.wait()
    deadline = time.time() + 10
    while time.time() < deadline and threads_fds(d.pid) != base:
        time.sleep(0.2)
    check(threads_fds(d.pid) == base, "btfd's threads and descriptors return to %s once the FUSE server is gone: %s"
          % (base, threads_fds(d.pid)))
    after = attack(tmp, sock, [os.open(obj, os.O_RDONLY)])
    after.stdout.readline()
    r = json.loads(after.stdout.readline() or "[]")
    after.wait(timeout=30)
    check(len(r) == 1 and r[0][1] == "ok", "nobody's next call with an ordinary file is answered: %s" % r)
    check(d.poll() is None, "btfd is still running")
finally:
    if fs.poll() is None:  # first: a read stuck on it would hold btfd's exit
        fs.kill()
        fs.wait()
    if d and d.poll() is None:
        d.send_signal(signal.SIGTERM)
        try:
            d.wait(timeout=15)
        except subprocess.TimeoutExpired:
            d.kill()
    for m in reversed(mounted):
        subprocess.run(["umount", "-l", m], capture_output=True)
    if testlib.failures:
        print(open(os.path.join(tmp, "btfd.log")).read()[-3000:])
    else:
        shutil.rmtree(tmp, ignore_errors=True)
testlib.finish()

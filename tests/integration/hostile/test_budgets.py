#!/usr/bin/env python3
# One unprivileged call must not cost the host gigabytes, and no few users may
# lock out the rest. The real daemon, clients as real unprivileged uids; after
# each attack: another uid's cache hit and Status answer within 1 s, btfd's
# memory, descriptors and held calls are within their bounds.
#  1. the minimizer's budget: objects of a few MB with tens of thousands of
#     CO-RE relocations and long names end in TooLarge naming the limit
#     (MaxRelocations=, the name limit, MaxReportBytes=), and btfd's peak
#     memory stays bounded;
#  2. work outlives its connection: clients that pipeline calls and close, as
#     fast as they can, from two uids: the calls queued stay within MaxCalls=,
#     and are dropped with their connections;
#  3. totals with fair shares: two users fill what the descriptor total lets
#     ordinary users share; a third is refused, naming that limit; root, who
#     holds nothing, is served;
#  4. error names: a kernel btfd cannot name is InvalidKernel, not InvalidObject;
#  5. SIGTERM during a flood: btfd exits within 2 s (it aims at 1);
#  6. short of memory (past 85% of MemoryLimit=, by default the cgroup's
#     memory.max) btfd refuses new heavy work with Busy naming the limit, and
#     still answers cache hits and Status.
import json, os, shutil, signal, subprocess, sys, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib, varlink
from testlib import check

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
btfd, sample = sys.argv[1:3]
if os.geteuid() != 0:
    testlib.skip_not_root("the clients are other uids")
NOBODY, OTHER, THIRD, FOURTH = 65534, 65533, 65532, 65531
HERE = os.path.dirname(os.path.abspath(__file__))
# Under AddressSanitizer every byte costs more (shadow memory, quarantine).
ASAN = b"__asan_init" in open(btfd, "rb").read()
PEAK_BOUND = (1536 if ASAN else 512) << 20

tmp, obj, hostroot = testlib.scratch_host("btfd-budgets-", sample)
shutil.copy(os.path.join(HERE, "hostile_objects.py"), tmp)
conf = os.path.join(tmp, "btfd.conf")
LIMITS = {"MaxCallsPerUser": 8, "MaxCalls": 24, "MaxDescriptorsPerUser": 8, "MaxDescriptors": 16,
          "MaxInFlightPerConnection": 4, "MaxConnectionsPerUser": 64}
open(conf, "w").write("[Limits]\n" + "".join("%s=%s\n" % kv for kv in LIMITS.items()))
sock = os.path.join(tmp, "btfd.sock")
log = os.path.join(tmp, "btfd.log")


def start():
    p = subprocess.Popen([btfd, "--config", conf, "--socket", sock, "--idle-exit", "0", "--cache-dir",
                          os.path.join(tmp, "cache"), "--host-root", hostroot, "--mirror", "http://127.0.0.1:9/"],
                         stderr=open(log, "a"))
    varlink.wait_for_socket(sock, p)
    return p


def proc_status(pid, key):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def fds_of(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def as_uid(uid, code, *args, **kw):
    return subprocess.Popen(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", PY, "-c", code, tmp,
                             sock] + [str(a) for a in args], stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True,
                            **kw)


# A client of another uid that, until its stdin closes, asks every 100 ms for a
# cache hit (this host's kernel, no objects) and for Status, each on a fresh
# connection, and prints the slowest of each (seconds) and any failure.
PROBE = r"""
import json, os, select, sys, time
sys.path.insert(0, sys.argv[1])
import varlink
worst = {"GetBtf": 0.0, "Status": 0.0}
errors = []
print("probing", flush=True)
while not select.select([sys.stdin], [], [], 0.1)[0]:
    for method in worst:
        t0 = time.time()
        try:
            c = varlink.Conn(sys.argv[2], timeout=30)
            r, fds = c.call("io.btfd." + method)
            c.close()
            for fd in fds: os.close(fd)
            if "error" in r: errors.append(r["error"] + " " + r.get("parameters", {}).get("message", ""))
        except Exception as e:
            errors.append("%s: %r" % (method, e))
        worst[method] = max(worst[method], time.time() - t0)
print(json.dumps({"worst": worst, "errors": errors[:5]}), flush=True)
"""


class Probe:
    def __init__(self, uid):
        self.p = as_uid(uid, PROBE)
        check(self.p.stdout.readline().strip() == "probing", "the probe as uid %d runs" % uid)

    def result(self, what):
        self.p.stdin.close()
        out = json.loads(self.p.stdout.readline())
        self.p.wait(timeout=60)
        for method, secs in out["worst"].items():
            check(secs < 1.0, "%s: another uid's %s answered within 1 s (slowest %.2f s)" % (what, method, secs))
        check(not out["errors"], "%s: another uid's calls succeeded: %s" % (what, out["errors"]))


# One GetBtf with a hostile object (from hostile_objects.many_relocations) as
# this uid: prints the error's name and message, or "ok".
HOSTILE = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
import hostile_objects, varlink
count, name_len = int(sys.argv[3]), int(sys.argv[4])
data = hostile_objects.many_relocations(count, name_len)
fd = os.memfd_create("hostile", os.MFD_CLOEXEC)
os.write(fd, data)
c = varlink.Conn(sys.argv[2], timeout=120)
r, fds = c.call("io.btfd.GetBtf", {"objects": [0]}, fds=[fd])
print(len(data), "ok" if "error" not in r else r["error"] + " " + r.get("parameters", {}).get("message", ""))
"""

# Clients that connect, pipeline four GetBtf calls with an object each (a
# distinct one every time: nothing is cached or coalesced) and close at once,
# as fast as they can, until stdin closes. Prints how many calls it sent.
FLOOD = r"""
import array, json, os, select, socket, sys
sys.path.insert(0, sys.argv[1])
import hostile_objects
base = hostile_objects.many_relocations(20000, 40)
msg = b"".join(json.dumps({"method": "io.btfd.GetBtf", "parameters": {"objects": [0]}}).encode() + b"\0"
               for _ in range(4))
sent = n = 0
print("flooding", flush=True)
while not select.select([sys.stdin], [], [], 0)[0]:
    fds = []
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[2])
        for i in range(4):
            fd = os.memfd_create("o", os.MFD_CLOEXEC)
            os.write(fd, base + b"%d\n" % n)
            n += 1
            fds.append(fd)
        # One message each, each with its object.
        for i in range(4):
            s.sendmsg([msg[i * len(msg) // 4:(i + 1) * len(msg) // 4]],
                      [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fds[i]]))])
            sent += 1
    except OSError:
        pass
    finally:
        for fd in fds: os.close(fd)
        s.close()
print(sent, flush=True)
"""


def flood(uid):
    p = as_uid(uid, FLOOD)
    check(p.stdout.readline().strip() == "flooding", "the flood as uid %d runs" % uid)
    return p


def stop_flood(p):
    p.stdin.close()
    line = p.stdout.readline().strip()
    p.wait(timeout=60)
    return int(line) if line.isdigit() else 0


def held(what):
    c = varlink.Conn(sock, timeout=30)
    r, _ = c.call("io.btfd.Stats")
    c.close()
    return r["parameters"]["stats"]["held"][what]


# Holds N descriptors in an unfinished message (its first bytes, no NUL) and
# prints "held"; or, when btfd refuses them, the error's message.
HOLD_FDS = r"""
import array, json, os, socket, sys
n = int(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[2])
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(n)]
s.sendmsg([b'{"method":'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
try:
    buf = s.recv(65536)
except socket.timeout:
    buf = b""
if buf:
    print(json.loads(buf.split(b"\0")[0])["parameters"]["message"], flush=True)
else:
    print("held", flush=True)
    sys.stdin.read()
"""

d = start()
holders = []
try:
    base_rss = proc_status(d.pid, "VmRSS")
    base_fds = fds_of(d.pid)

    # 1. The minimizer's budget.
    probe = Probe(OTHER)
    cases = [
        (60000, 4096, "512 bytes"),             # names past libbpf's KSYM_NAME_LEN
        (70000, 64, "MaxRelocations="),         # more relocations than a call may have
        (60000, 400, "MaxReportBytes="),        # a report past its bound
    ]
    for count, name_len, named in cases:
        p = as_uid(NOBODY, HOSTILE, count, name_len)
        out, _ = p.communicate(timeout=300)
        size, _, result = out.strip().partition(" ")
        check(result.startswith("io.btfd.TooLarge") and named in result,
              "%d relocations, %d-byte names (%s bytes of object) end in TooLarge naming %s: %s"
              % (count, name_len, size, named, result[:300]))
    probe.result("while the minimizer's budget was spent")
    peak = proc_status(d.pid, "VmHWM")
    print("after the minimizer's budget: peak %d MiB, resident %d MiB (before: %d MiB)"
          % (peak >> 20, proc_status(d.pid, "VmRSS") >> 20, base_rss >> 20))
    check(peak < PEAK_BOUND, "btfd's peak memory stays under %d MiB: %d MiB" % (PEAK_BOUND >> 20, peak >> 20))
    rss = proc_status(d.pid, "VmRSS")
    # Under AddressSanitizer freed memory waits in its quarantine (256 MiB by
    # default) before it is reused or returned.
    kept = (512 if ASAN else 128) << 20
    check(rss < base_rss + kept, "btfd gives the memory back: %d MiB resident after, %d MiB before (bound +%d MiB)"
          % (rss >> 20, base_rss >> 20, kept >> 20))
    c = varlink.Conn(sock)
    r, fds = c.call("io.btfd.GetBtf", {"objects": [0]}, fds=[os.open(obj, os.O_RDONLY)])
    c.close()
    check("error" not in r and r["parameters"].get("minimized"), "a real object is still minimized: %s" % r)
    rel = r["parameters"].get("relocations")
    check(isinstance(rel, dict) and rel.get("relocations"), "its reply carries the compact report: %s" % rel)

    # 2. Work that outlives its connection.
    probe = Probe(OTHER)
    floods = [flood(NOBODY), flood(THIRD)]
    most = 0
    end = time.time() + 5
    while time.time() < end:
        most = max(most, held("calls"))
        time.sleep(0.05)
    sent = sum(stop_flood(p) for p in floods)
    print("flood: %d calls sent on closed connections, at most %d held at once" % (sent, most))
    probe.result("during a flood of %d pipelined calls on closed connections" % sent)
    check(sent > 1000, "the floods sent calls by the thousand: %d" % sent)
    check(most <= LIMITS["MaxCalls"], "calls held stay within MaxCalls=%d: at most %d" % (LIMITS["MaxCalls"], most))
    deadline = time.time() + 10
    while time.time() < deadline and held("calls") > 0:
        time.sleep(0.1)
    check(held("calls") == 0, "their calls are dropped with their connections")
    check(held("descriptors") == 0 and held("object_bytes") == 0, "and so is everything they held")
    check(fds_of(d.pid) <= base_fds + 4, "btfd holds no more descriptors than before: %d, before %d"
          % (fds_of(d.pid), base_fds))

    # 3. Shares of a total. MaxDescriptors=16, 8 per user: 2 kept for root and
    # the admin socket, so ordinary users share 14.
    h = as_uid(NOBODY, HOLD_FDS, 8)
    holders.append(h)
    check(h.stdout.readline().strip() == "held", "one user holds its 8 descriptors")
    h = as_uid(OTHER, HOLD_FDS, 8)
    refused = h.stdout.readline().strip()
    h.stdin.close()  # ends it should btfd have taken them ("held")
    h.wait(timeout=30)
    check("ordinary users together hold 8 of the 14 descriptors they may share" in refused,
          "a second user's 8 are refused, naming the shared limit: %s" % refused)
    h = as_uid(OTHER, HOLD_FDS, 6)
    holders.append(h)
    check(h.stdout.readline().strip() == "held", "6 fit")
    h = as_uid(THIRD, HOLD_FDS, 1)
    refused = h.stdout.readline().strip()
    h.stdin.close()
    h.wait(timeout=30)
    check("ordinary users together hold 14 of the 14" in refused, "a third user is refused by name: %s" % refused)
    c = varlink.Conn(sock)
    r, fds = c.call("io.btfd.GetBtf", {"objects": [0]}, fds=[os.open(obj, os.O_RDONLY)])
    c.close()
    check("error" not in r, "root, holding nothing, is served: %s" % r)
    for h in holders:
        h.stdin.close()
        h.wait(timeout=30)
    holders.clear()

    # 4. Error names.
    c = varlink.Conn(sock)
    # centos maps to centos/{major}: ".4" has an empty major version.
    r, _ = c.call("io.btfd.GetBtf", {"kernel": {"distro": "centos", "version": ".4", "arch": "x86_64",
                                                "release": "4.18.0-80.el8.x86_64"}})
    check(r.get("error") == "io.btfd.InvalidKernel", "a version btfd cannot map is InvalidKernel: %s" % r)
    r, _ = c.call("io.btfd.Prefetch", {"kernel": {"distro": "centos", "version": ".4", "arch": "x86_64",
                                                  "release": "4.18.0-80.el8.x86_64"}})
    check(r.get("error") == "io.btfd.InvalidKernel", "and so it is for Prefetch: %s" % r)
    c.close()

    # 6. Short of memory: a btfd over 85% of its limit refuses new heavy work,
    # naming the limit, and still answers cache hits and Status. (1M: any
    # btfd is over it; under the unit the limit is the cgroup's memory.max.)
    low_conf = os.path.join(tmp, "low.conf")
    open(low_conf, "w").write("[Limits]\nMemoryLimit=1M\n")
    low_sock = os.path.join(tmp, "low.sock")
    low = subprocess.Popen([btfd, "--config", low_conf, "--socket", low_sock, "--cache-dir",
                            os.path.join(tmp, "cache-low"), "--host-root", hostroot, "--mirror", "http://127.0.0.1:9/"],
                           stderr=open(log, "a"))
    try:
        varlink.wait_for_socket(low_sock, low)
        c = varlink.Conn(low_sock)
        r, fds = c.call("io.btfd.GetBtf")
        check("error" not in r, "short of memory, a cache hit is still answered: %s" % r)
        r, _ = c.call("io.btfd.Status")
        check("error" not in r, "and Status: %s" % r)
        r, _ = c.call("io.btfd.GetBtf", {"objects": [0]}, fds=[os.open(obj, os.O_RDONLY)])
        msg = r.get("parameters", {}).get("message", "")
        check(r.get("error") == "io.btfd.Busy" and "MemoryLimit=" in msg and "MiB" in msg,
              "new minimizing is refused Busy, naming the limit: %s" % r)
        c.close()
    finally:
        low.terminate()
        low.wait(timeout=30)

    # ... and by default the limit is btfd's cgroup's (the unit's MemoryMax=):
    # cgroup v2's memory.max or, on a host that still mounts it, v1's memory
    # controller (memory.limit_in_bytes).
    v2 = "/sys/fs/cgroup/unified" if os.path.exists("/sys/fs/cgroup/unified/cgroup.controllers") else "/sys/fs/cgroup"
    if os.path.isdir("/sys/fs/cgroup/memory"):
        group, limit_file = "/sys/fs/cgroup/memory/btfd-budgets-%d" % os.getpid(), "memory.limit_in_bytes"
    elif "memory" in open(os.path.join(v2, "cgroup.controllers")).read().split():
        group, limit_file = os.path.join(v2, "btfd-budgets-%d" % os.getpid()), "memory.max"
    else:
        group = None
        print("NOTE: no memory cgroup controller here: the cgroup's limit is not checked")
    if group:
        os.mkdir(group)
        try:
            open(os.path.join(group, limit_file), "w").write(str(384 << 20))
            cg_sock = os.path.join(tmp, "cg.sock")
            cg = subprocess.Popen([btfd, "--socket", cg_sock, "--cache-dir", os.path.join(tmp, "cache-cg"),
                                   "--host-root", hostroot, "--mirror", "http://127.0.0.1:9/"], stderr=open(log, "a"),
                                  preexec_fn=lambda: open(os.path.join(group, "cgroup.procs"), "w").write("0"))
            try:
                varlink.wait_for_socket(cg_sock, cg)
                c = varlink.Conn(cg_sock)
                r, _ = c.call("io.btfd.Stats")
                c.close()
                got = r["parameters"]["stats"]["held"].get("memory_limit")
                check(got == 384 << 20, "btfd takes its cgroup's memory limit (%s): %s" % (limit_file, got))
            finally:
                cg.terminate()
                cg.wait(timeout=30)
        finally:
            os.rmdir(group)

    # 5. SIGTERM during a flood.
    floods = [flood(NOBODY), flood(THIRD)]
    time.sleep(2)
    t0 = time.time()
    d.send_signal(signal.SIGTERM)
    try:
        rc = d.wait(timeout=10)
    except subprocess.TimeoutExpired:
        rc = None
    took = time.time() - t0
    for p in floods:
        stop_flood(p)
    print("SIGTERM during a flood: exited %s after %.2f s" % (rc, took))
    # Under AddressSanitizer the exit itself takes longer (LeakSanitizer scans
    # the heap when the process ends).
    stop_bound = 5.0 if ASAN else 2.0
    check(rc == 0 and took < stop_bound, "SIGTERM during a flood ends btfd within %.0f s: rc %s after %.2f s"
          % (stop_bound, rc, took))
finally:
    for h in holders:
        h.kill()
    if d.poll() is None:
        d.kill()
        d.wait()
    if testlib.failures:
        print("btfd's log (end):\n" + open(log).read()[-4000:])
    shutil.rmtree(tmp, ignore_errors=True)
testlib.finish()

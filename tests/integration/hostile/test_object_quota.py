#!/usr/bin/env python3
# Remembered objects are bounded per user, cannot evict other users' results,
# and a Prefetch reads them one at a time (P1-5, P2-2). A real btfd on the
# host's fixture kernel, a real loopback mirror serving the repo's archives:
#  - another user (65533) has a minimized result cached;
#  - nobody sends ATTACKS distinct objects (a real BPF object with fresh junk
#    appended, which the ELF reader accepts), far more bytes than the cache
#    budget; every call is answered (none fails with a StoreError: a fresh blob
#    is opened before any eviction can remove it);
#  - nobody's remembered objects stay at RememberedObjectsPerUser= (its newest);
#  - the other user's next call is answered from the cache (its minimized
#    result was not evicted for nobody's objects);
#  - a root Prefetch of a kernel from the mirror minimizes for the remembered
#    objects with its peak RSS (VmHWM, reset just before through clear_refs)
#    at most PREFETCH_GROWTH above the RSS before it: the objects are read one
#    at a time, not all at once.
import json, os, shutil, subprocess, sys, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib, varlink
from testlib import check

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
btfd, sample = sys.argv[1:3]
if os.geteuid() != 0:
    testlib.skip_not_root("the attacker and the other user are other uids")
NOBODY, OTHER = 65534, 65533
ATTACKS, PAD = 24, 6 << 20       # 24 objects of ~6 MiB: 144 MiB sent
REMEMBERED = 8                   # RememberedObjectsPerUser= in this test (48 MiB of nobody's)
BUDGET = 96 << 20                # Cache MaxSize=: well under what nobody sends
# The stated bound on a Prefetch's extra RSS here: one ~6 MiB object at a time,
# the new kernel (4.4 MiB of BTF) parsed, the minimizer's work (+7 MiB seen).
# All of nobody's remembered objects at once would alone be 48 MiB.
PREFETCH_GROWTH = 24 << 20
# Under AddressSanitizer freed blocks wait in its quarantine before reuse, so
# each object's short-lived copies add up a little: still well under the 48 MiB
# that holding all of them at once would take alone.
# Its quarantine is held small here: how much of it was still filling when the
# Prefetch began (what the calls before it happened to free) is not btfd's doing.
ASAN = b"__asan_init" in open(sys.argv[1], "rb").read()
if ASAN:
    PREFETCH_GROWTH = 40 << 20
NEW_KERNEL = {"distro": "ubuntu", "version": "20.04", "arch": "x86_64", "release": "5.4.0-26-generic"}

# As uid: GetBtf for the host kernel with argv[3]'s object, or (argv[4] > 0)
# that many distinct copies with argv[5] bytes of fresh junk appended each
# (memfds), one call each; prints each call's error or the answer's "cached".
CLIENT = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1]); import varlink
data = open(sys.argv[3], "rb").read()
n, pad = int(sys.argv[4]), int(sys.argv[5])
out = []
for i in range(max(n, 1)):
    if n:
        fd = os.memfd_create("obj")
        os.write(fd, data)
        os.ftruncate(fd, len(data) + pad)
        os.pwrite(fd, os.urandom(64), len(data) + pad - 64)
        os.lseek(fd, 0, 0)
        name = "junk-%d.bpf.o" % i
    else:
        fd, name = os.open(sys.argv[3], os.O_RDONLY), "victim.bpf.o"
    c = varlink.Conn(sys.argv[2], timeout=60)
    try:
        r, got = c.call("io.btfd.GetBtf", {"objects": [0], "names": [name]}, fds=[fd])
        for f in got: os.close(f)
        p = r.get("parameters", {})
        out.append(r["error"] + ": " + p.get("message", "") if "error" in r else ("cached" if p.get("cached") else "computed"))
    except Exception as e:
        out.append("no reply: %s" % e)
    c.close()
    os.close(fd)
print(json.dumps(out))
"""


def as_user(uid, *args):
    p = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", PY, "-c", CLIENT,
                        tmp, sock, *map(str, args)], capture_output=True, text=True, timeout=120)
    try:
        return json.loads(p.stdout)
    except ValueError:
        return ["no output: " + p.stderr[-500:]]


def call(method, params=None, timeout=60):
    c = varlink.Conn(sock, timeout=timeout)
    try:
        r, got = c.call(method, params)
        for f in got:
            os.close(f)
        return r
    finally:
        c.close()


def status_kb(pid, key):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    testlib.fatal("no %s in /proc/%d/status" % (key, pid))


tmp, obj, hostroot = testlib.scratch_host("btfd-objquota-", sample)
mirror, mirror_url = testlib.serve_dir(testlib.hub_dir())

conf = os.path.join(tmp, "btfd.conf")
open(conf, "w").write("[Cache]\nMaxSize=%d\n[Limits]\nRememberedObjectsPerUser=%d\n"
                      "RememberedObjectBytesPerUser=64M\n" % (BUDGET, REMEMBERED))
sock = os.path.join(tmp, "btfd.sock")
log = os.path.join(tmp, "btfd.log")
d = subprocess.Popen([btfd, "--config", conf, "--socket", sock, "--idle-exit", "0", "--cache-dir",
                      os.path.join(tmp, "cache"), "--host-root", hostroot, "--mirror", mirror_url],
                     stderr=open(log, "w"),
                     env=dict(os.environ, ASAN_OPTIONS=(os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16").lstrip(":"))
                     if ASAN else None)
try:
    varlink.wait_for_socket(sock, d)
    first = as_user(OTHER, obj, 0, 0)
    check(first == ["computed"], "the other user's first call is minimized: %s" % first)
    again = as_user(OTHER, obj, 0, 0)
    check(again == ["cached"], "and its second answered from the cache: %s" % again)

    # The attack: many distinct objects, several times the cache budget.
    got = as_user(NOBODY, obj, ATTACKS, PAD)
    check(len(got) == ATTACKS and all(g == "computed" for g in got),
          "every one of nobody's %d calls is answered (none fails in the store): %s" % (ATTACKS, got))

    listing = call("io.btfd.ListKernels")
    objects = listing.get("parameters", {}).get("objects", [])
    junk = sorted(o.get("name", "") for o in objects if o.get("name", "").startswith("junk-"))
    want = sorted("junk-%d.bpf.o" % i for i in range(ATTACKS - REMEMBERED, ATTACKS))
    check(junk == want, "nobody's remembered objects stay at the bound, its newest %d: %s" % (REMEMBERED, junk))
    check(any(o.get("name") == "victim.bpf.o" for o in objects), "the other user's object is still remembered")
    after = as_user(OTHER, obj, 0, 0)
    check(after == ["cached"], "the other user's minimized result survived nobody's objects: %s" % after)

    # A root Prefetch (what the refresh timer and kernel-install hook run) of a
    # new kernel: minimizes for every remembered object, one at a time.
    open("/proc/%d/clear_refs" % d.pid, "w").write("5")  # VmHWM := VmRSS
    base = status_kb(d.pid, "VmRSS")
    r = call("io.btfd.Prefetch", {"kernel": NEW_KERNEL}, timeout=120)
    peak = status_kb(d.pid, "VmHWM")
    p = r.get("parameters", {}).get("result", {})
    check("error" not in r and p.get("objects_minimized") == REMEMBERED + 1 and p.get("objects_failed") == 0,
          "the Prefetch minimized the %d remembered objects: %s" % (REMEMBERED + 1, json.dumps(r)[:400]))
    print("Prefetch: RSS before %.1f MiB, peak %.1f MiB (+%.1f MiB; bound +%d MiB)"
          % (base / 2**20, peak / 2**20, (peak - base) / 2**20, PREFETCH_GROWTH >> 20))
    check(peak - base <= PREFETCH_GROWTH, "the Prefetch's peak RSS grew by %.1f MiB, at most %d MiB"
          % ((peak - base) / 2**20, PREFETCH_GROWTH >> 20))
    check(call("io.btfd.Status").get("parameters") is not None, "btfd still serves")
finally:
    d.terminate()
    d.wait(timeout=30)
    mirror.shutdown()
    if testlib.failures:
        print(open(log).read()[-3000:])
shutil.rmtree(tmp, ignore_errors=True)
testlib.finish()

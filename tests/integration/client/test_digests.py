#!/usr/bin/env python3
# Objects named by digest (GetBtf "digests") and the relocation report left
# out ("report": false), against a real btfd on the fixture kernel:
#  - btfd answers a digest only from its cache, only for an object the same
#    uid sent (btfd hashed its bytes then), with the very BTF the object got;
#    anything else is ObjectsNeeded (naming the object), never a fetch;
#    malformed digests and digests beside objects are InvalidParameter;
#  - another uid (nobody) cannot name root's object by digest;
#  - "report": false leaves the relocation report out, the default keeps it;
#  - libbtfd's helpers, through a proxy that records what they say: a cold
#    call names the object by digest, hears ObjectsNeeded and sends it with
#    "report": false; a warm call is one GetBtf by digest with no descriptor;
#    against a btfd older than both parameters (the proxy refuses them by name
#    as such a btfd does) the helper still gets its BTF, sending the object
#    without either parameter.
import array, hashlib, json, os, shutil, signal, socket, subprocess, sys, threading
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib, varlink
from testlib import check

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
btfd, tool, sample = sys.argv[1:4]
if os.geteuid() != 0:
    testlib.skip_not_root("the other user is another uid")
NOBODY = 65534
tmp, obj, hostroot = testlib.scratch_host("btfd-digests-", sample)
DIGEST = hashlib.sha256(open(obj, "rb").read()).hexdigest()
daemons = []
emptyhub = os.path.join(tmp, "emptyhub")  # a mirror without kernels: nothing here is fetched
os.mkdir(emptyhub)


def start_btfd(name):
    sock = os.path.join(tmp, name + ".sock")
    d = subprocess.Popen([btfd, "--socket", sock, "--idle-exit", "0", "--cache-dir", os.path.join(tmp, name + "-cache"),
                          "--host-root", hostroot, "--mirror", emptyhub], stderr=open(os.path.join(tmp, name + ".log"), "w"))
    daemons.append(d)
    varlink.wait_for_socket(sock, d)
    os.chmod(sock, 0o666)
    return sock


def call(sock, params, fds=()):
    c = varlink.Conn(sock, timeout=60)
    try:
        r, got = c.call("io.btfd.GetBtf", params, fds=fds)
        data = b""
        for f in got:
            data = os.pread(f, 64 << 20, 0)
            os.close(f)
        return r, data
    finally:
        c.close()


def with_object(sock, params=None):
    fd = os.open(obj, os.O_RDONLY)
    try:
        return call(sock, dict(params or {}, objects=[0]), fds=[fd])
    finally:
        os.close(fd)


def error_of(r):
    return r.get("error", ""), r.get("parameters", {})


# As uid: GetBtf naming argv[3] by digest, then (argv[4] == "send") with the object.
AS_USER = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1]); import varlink
out = []
def call(params, fds=()):
    c = varlink.Conn(sys.argv[2], timeout=60)
    r, got = c.call("io.btfd.GetBtf", params, fds=fds)
    for f in got: os.close(f)
    c.close()
    out.append(r.get("error") or "answer")
call({"digests": [sys.argv[3]]})
if sys.argv[5] == "send":
    fd = os.open(sys.argv[4], os.O_RDONLY)
    call({"objects": [0]}, fds=[fd])
    call({"digests": [sys.argv[3]]})
print(json.dumps(out))
"""


def as_user(uid, sock, send):
    p = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", PY, "-c", AS_USER,
                        tmp, sock, DIGEST, obj, "send" if send else "-"], capture_output=True, text=True, timeout=120)
    try:
        return json.loads(p.stdout)
    except ValueError:
        return ["no output: " + p.stderr[-500:]]


class Proxy:
    """Passes Varlink messages (and their descriptors) between a client and
    btfd, recording each call; `older` refuses GetBtf parameters btfd did
    not know before, as such a btfd does: InvalidParameter naming it."""

    def __init__(self, target, older=()):
        self.target, self.older, self.calls = target, set(older), []
        self.path = os.path.join(tmp, "proxy-%d.sock" % id(self))
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.bind(self.path)
        self.s.listen(16)
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            c, _ = self.s.accept()
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    @staticmethod
    def read(sock, buf):
        fds = []
        while b"\0" not in buf:
            data, anc, _, _ = sock.recvmsg(1 << 20, socket.CMSG_SPACE(16 * 4))
            if not data:
                return None, buf, fds
            for level, typ, payload in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    a = array.array("i"); a.frombytes(payload[: len(payload) - len(payload) % 4]); fds += list(a)
            buf += data
        msg, buf = buf.split(b"\0", 1)
        return msg, buf, fds

    @staticmethod
    def write(sock, msg, fds):
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        sock.sendmsg([msg + b"\0"], anc)
        for f in fds:
            os.close(f)

    def serve(self, client):
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        up.connect(self.target)
        cbuf = ubuf = b""
        try:
            while True:
                msg, cbuf, fds = self.read(client, cbuf)
                if msg is None:
                    return
                m = json.loads(msg)
                params = m.get("parameters") or {}
                self.calls.append((m.get("method"), sorted(params), len(fds)))
                refused = [k for k in sorted(params) if k in self.older] if m.get("method") == "io.btfd.GetBtf" else []
                if refused:
                    for f in fds:
                        os.close(f)
                    self.write(client, json.dumps({"error": "org.varlink.service.InvalidParameter",
                                                   "parameters": {"parameter": refused[0]}}).encode(), [])
                    continue
                self.write(up, msg, fds)
                reply, ubuf, rfds = self.read(up, ubuf)
                if reply is None:
                    return
                r = json.loads(reply)
                self.calls[-1] += ("relocations" in r.get("parameters", {}), r.get("error"))
                self.write(client, reply, rfds)
        finally:
            client.close(); up.close()


def helper(sock):
    env = dict(os.environ, BTFD_SOCKET=sock, BTFD_FORCE="1")
    p = subprocess.run([tool, "file", obj], env=env, capture_output=True, text=True, timeout=120)
    ok = p.returncode == 0 and "FAIL" not in p.stdout and "ensure: 0 " in p.stdout
    if not ok:
        print(p.stdout, p.stderr)
    return ok


try:
    sock = start_btfd("main")
    # Nothing sent yet: the digest alone cannot be answered, and nothing is fetched.
    r, _ = call(sock, {"digests": [DIGEST]})
    e, p = error_of(r)
    check(e == "io.btfd.ObjectsNeeded" and p.get("object") == 0,
          "a digest btfd never saw: ObjectsNeeded naming object 0 (%s)" % r)
    # The object itself: minimized, with its report by default.
    r, sent = with_object(sock)
    check("error" not in r and r["parameters"].get("minimized") and "relocations" in r["parameters"],
          "the object sent: minimized BTF with its relocation report (%s)" % str(r)[:300])
    sha = r.get("parameters", {}).get("sha256")
    r, _ = with_object(sock, {"report": False})
    check("error" not in r and "relocations" not in r["parameters"] and r["parameters"].get("sha256") == sha,
          "report: false leaves the report out of the same answer (%s)" % str(r)[:300])
    # Named by digest now: the same BTF, from the cache.
    r, by_digest = call(sock, {"digests": [DIGEST]})
    pr = r.get("parameters", {})
    check("error" not in r and pr.get("cached") and pr.get("minimized") and pr.get("sha256") == sha
          and "relocations" in pr, "by digest: the cached minimized BTF, report included (%s)" % str(r)[:300])
    check(by_digest == sent and len(sent) > 0, "by digest: the very bytes the object got (%d, %d)" % (len(by_digest), len(sent)))
    r, _ = call(sock, {"digests": [DIGEST], "report": False})
    check("error" not in r and "relocations" not in r.get("parameters", {}), "by digest, report: false: no report (%s)" % str(r)[:300])
    # Another kernel (not cached): the digest is not enough; nothing is fetched (btfd has no hub here anyway).
    r, _ = call(sock, {"digests": [DIGEST], "kernel": {"distro": "ubuntu", "version": "20.04", "arch": "x86_64",
                                                        "release": "5.4.0-26-generic"}})
    check(error_of(r)[0] == "io.btfd.ObjectsNeeded", "a kernel not in the cache: ObjectsNeeded (%s)" % r)
    # Two objects, only one of them sent: the set has no entry.
    other = hashlib.sha256(b"never sent").hexdigest()
    r, _ = call(sock, {"digests": [DIGEST, other]})
    e, p = error_of(r)
    check(e == "io.btfd.ObjectsNeeded" and p.get("object") == 1, "one digest never sent: ObjectsNeeded naming object 1 (%s)" % r)
    # Malformed.
    for params, which in (({"digests": ["xyz"]}, "digests[0]"), ({"digests": [DIGEST.upper()[:63]]}, "digests[0]"),
                          ({"digests": [DIGEST], "names": ["a.o"]}, "digests")):
        r, _ = call(sock, params)
        e, p = error_of(r)
        check(e == "org.varlink.service.InvalidParameter" and p.get("parameter") == which,
              "%s: InvalidParameter naming %s (%s)" % (params, which, r))
    fd = os.open(obj, os.O_RDONLY)
    r, _ = call(sock, {"digests": [DIGEST], "objects": [0]}, fds=[fd])
    os.close(fd)
    check(error_of(r)[0] == "org.varlink.service.InvalidParameter" and error_of(r)[1].get("parameter") == "digests",
          "digests beside objects: InvalidParameter (%s)" % r)
    r, _ = call(sock, {"digests": [DIGEST] * 100000})
    check(error_of(r)[0] in ("org.varlink.service.InvalidParameter", "io.btfd.TooLarge"),
          "100000 digests: refused (%s)" % str(r)[:200])
    # Another user cannot name root's object; once it sent the object itself, it can.
    got = as_user(NOBODY, sock, True)
    check(got == ["io.btfd.ObjectsNeeded", "answer", "answer"],
          "nobody: root's object by digest refused, its own send and then its digest answered (%s)" % got)

    # libbtfd's helper, through a recording proxy, on a btfd that never saw the object.
    fresh = start_btfd("fresh")
    proxy = Proxy(fresh)
    check(helper(proxy.path), "helper, cold: BTF set and loaded through the proxy")
    gets = [c for c in proxy.calls if c[0] == "io.btfd.GetBtf"]
    check(len(gets) == 2 and gets[0][1] == ["digests", "report"] and gets[0][2] == 0
          and gets[0][4] == "io.btfd.ObjectsNeeded", "cold: first named by digest, no descriptor, ObjectsNeeded (%s)" % gets)
    check(len(gets) == 2 and gets[1][1] == ["names", "objects", "report"] and gets[1][2] == 1 and gets[1][3] is False
          and gets[1][4] is None, "cold: then the object, report: false, answered without a report (%s)" % gets)
    proxy.calls.clear()
    check(helper(proxy.path), "helper, warm: BTF set and loaded through the proxy")
    gets = [c for c in proxy.calls if c[0] == "io.btfd.GetBtf"]
    check(len(gets) == 1 and gets[0][1] == ["digests", "report"] and gets[0][2] == 0 and gets[0][4] is None,
          "warm: one GetBtf by digest, no descriptor sent (%s)" % gets)
    # A btfd older than "digests" and "report".
    old = Proxy(start_btfd("older"), older=("digests", "report"))
    check(helper(old.path), "helper against an older btfd: BTF set and loaded")
    gets = [c for c in old.calls if c[0] == "io.btfd.GetBtf"]
    check(len(gets) == 2 and gets[0][1] == ["digests", "report"] and gets[1][1] == ["names", "objects"]
          and gets[1][2] == 1 and gets[1][4] is None,
          "older btfd: the digest refused, then the object without either parameter (%s)" % gets)
finally:
    for d in daemons:
        d.send_signal(signal.SIGTERM)
    for d in daemons:
        try:
            d.wait(timeout=20)
        except subprocess.TimeoutExpired:
            d.kill(); check(False, "btfd did not exit on SIGTERM")
if testlib.failures:
    for name in ("main", "fresh", "older"):
        path = os.path.join(tmp, name + ".log")
        if os.path.exists(path):
            print("--- %s:\n%s" % (name, open(path).read()[-2000:]))
testlib.finish()
shutil.rmtree(tmp, ignore_errors=True)
print("ok")

#!/usr/bin/env python3
# What users filling btfd's shared budgets must not take from others:
#  1. connections: two users hold every connection MaxConnections allows (a
#     third user is refused, by name); root on the main socket and a member on
#     the admin socket are still served (their budget is their own);
#  2. replies: a GetBtf reply larger than the per-connection queue bound
#     (8 MiB of unread replies) but within the largest reply (16 MiB) reaches
#     a client that reads it, whole; a reply past 16 MiB is the named TooLarge.
#     (Only a site that raises the minimizer's report budget, as here, gets
#     replies that large: by default a report is at most 1 MiB.)
# The users are real uids (nobody and its neighbours), the objects made here
# with tens of thousands of CO-RE relocations each (hostile_objects.py).
import json, os, shutil, socket, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib, varlink
from testlib import check

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
btfd = sys.argv[1]
if os.geteuid() != 0:
    testlib.skip_not_root("the users holding connections are other uids")
NOBODY, OTHER, THIRD = 65534, 65533, 65532
GROUP = 65533  # the admin socket's group; OTHER is no member, ROOT is root

tmp, _, hostroot = testlib.scratch_host("btfd-reserve-")
conf = os.path.join(tmp, "btfd.conf")
open(conf, "w").write("[Limits]\nMaxConnections=8\nMaxConnectionsPerUser=4\nMaxObjectsPerRequest=16\n"
                      "MaxObjectSize=8M\nMaxObjectBytesPerUser=128M\nMaxObjectBytes=256M\n"
                      "MaxRelocations=2000000\nMaxReportBytes=64M\nMinimizeMemory=1G\nMinimizeSec=120\n")
sock, admin = os.path.join(tmp, "btfd.sock"), os.path.join(tmp, "admin.sock")
d = subprocess.Popen([btfd, "--config", conf, "--socket", sock, "--admin-socket", admin, "--allow-group", str(GROUP),
                      "--idle-exit", "0", "--cache-dir", os.path.join(tmp, "cache"), "--host-root", hostroot,
                      "--mirror", "http://127.0.0.1:9/"], stderr=open(os.path.join(tmp, "btfd.log"), "w"))
holders = []

# Holds N connections to sock as uid, says "held K" once connected, then waits
# for its stdin to close.
HOLD = r"""
import socket, sys
held = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    held.append(s)
print("held", len(held), flush=True)
sys.stdin.read()
"""


def hold(uid, n):
    p = subprocess.Popen(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", PY, "-c", HOLD, sock,
                          str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    holders.append(p)
    line = p.stdout.readline().strip()
    check(line == "held %d" % n, "uid %d holds %d connections: %r" % (uid, n, line))


# One Status call as uid (with groups) on path: "ok", or the error's name and
# message. A refused connection gets its error and is closed at once, maybe
# before the call is written: the reply is read whatever the write did.
STATUS = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect: %s" % e.strerror); sys.exit()
try:
    s.sendall(b'{"method":"io.btfd.Status"}\0')
except OSError:
    pass
buf = b""
while not buf.endswith(b"\0"):
    try:
        d = s.recv(65536)
    except OSError:
        break
    if not d:
        break
    buf += d
if not buf.endswith(b"\0"):
    print("no reply: %r" % buf[:200]); sys.exit()
r = json.loads(buf[:-1])
print("ok" if "error" not in r else "%s %s" % (r["error"], r.get("parameters", {}).get("message", "")))
"""


def status_as(uid, groups, path):
    g = ["--groups=" + ",".join(map(str, groups))] if groups else ["--clear-groups"]
    cmd = [PY, "-c", STATUS, path]
    if uid:
        cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid] + g + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()


def get_btf_with(copies, data):
    """GetBtf for the host kernel with `copies` distinct copies of data (a few
    bytes after the ELF make each one its own object), read to the end.
    Returns (complete reply bytes or b"", seconds)."""
    fds = []
    for i in range(copies):
        fd = os.memfd_create("obj%d" % i, os.MFD_CLOEXEC)
        os.write(fd, data + b"copy %d\n" % i)
        fds.append(fd)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(120)
    s.connect(sock)
    msg = json.dumps({"method": "io.btfd.GetBtf", "parameters": {"objects": list(range(copies))}}).encode() + b"\0"
    s.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(memoryview(__import__("array").array("i", fds))))])
    for fd in fds:
        os.close(fd)
    t0, buf = time.time(), b""
    while not buf.endswith(b"\0"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
    s.close()
    return (buf if buf.endswith(b"\0") else b""), time.time() - t0


try:
    varlink.wait_for_socket(sock, d)
    # 1. Connections.
    hold(NOBODY, 4)
    hold(OTHER, 4)
    r = status_as(THIRD, [], sock)
    check("io.btfd.Busy" in r and "btfd holds 8 of its 8 connections in all ([Limits] MaxConnections=)" in r,
          "a third user is refused, naming the limit: %s" % r)
    check(status_as(0, [], sock) == "ok", "root is still served on the main socket")
    check(status_as(THIRD, [GROUP], admin) == "ok", "a member of the admin group is still served on the admin socket")
    for p in holders:
        p.stdin.close()
        p.wait(timeout=30)
    holders.clear()
    deadline = time.time() + 10
    while time.time() < deadline and status_as(THIRD, [], sock) != "ok":
        time.sleep(0.1)
    check(status_as(THIRD, [], sock) == "ok", "the connections are given back when their users leave")

    # 2. Replies between the queue bound and the largest reply.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import hostile_objects
    PER_OBJECT = 60000
    data = hostile_objects.many_relocations(PER_OBJECT, 40)
    reply, secs = get_btf_with(8, data)
    j = json.loads(reply[:-1]) if reply else {}
    relocs = (j.get("parameters", {}).get("relocations") or {}).get("relocations", [])
    check(len(reply) > (8 << 20) and len(reply) <= (16 << 20),
          "the 8-object reply is between 8 and 16 MiB: %d bytes" % len(reply))
    check("error" not in j and len(relocs) == 8 * PER_OBJECT,
          "it arrives whole, with every relocation (%d, %.1fs): %s" % (len(relocs), secs, reply[:200]))
    reply, _ = get_btf_with(16, data)
    j = json.loads(reply[:-1]) if reply else {}
    check(j.get("error") == "io.btfd.TooLarge" and "the reply would be larger than" in reply.decode(errors="replace"),
          "a reply past 16 MiB is TooLarge, named: %s" % reply[:200])
    check(status_as(NOBODY, [], sock) == "ok", "btfd still serves")
finally:
    for p in holders:
        p.kill()
    d.terminate()
    d.wait(timeout=30)
    shutil.rmtree(tmp, ignore_errors=True)
testlib.finish()

#!/usr/bin/env python3
# btfd started by hand on a socket path (the README's "by hand" line):
#  1. a second btfd on the same path refuses, naming the first one's pid, and
#     exits non-zero at once; the first still answers on that path afterwards;
#  2. a stale socket file (a killed btfd's) is replaced;
#  3. btfd removes only the socket file it bound: one that another btfd put
#     there since is left alone;
#  4. btfctl's hint for nobody listening names --socket for a socket the user
#     chose, systemctl only for the default one.
import os, shutil, signal, socket, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib, varlink
from testlib import check

btfd, btfctl = sys.argv[1:3]
tmp = tempfile.mkdtemp(prefix="btfd-socket-")
sock = os.path.join(tmp, "btfd.sock")


def start(extra=()):
    return subprocess.Popen([btfd, "--socket", sock, "--cache-dir", os.path.join(tmp, "cache"),
                             "--mirror", "http://127.0.0.1:9/"] + list(extra),
                            stderr=subprocess.PIPE, text=True)


def status_ok():
    try:
        c = varlink.Conn(sock, timeout=10)
        r, _ = c.call("io.btfd.Status")
        c.close()
        return "error" not in r
    except OSError:
        return False


first = start()
procs = [first]
try:
    varlink.wait_for_socket(sock, first)
    # 1. A second btfd on the same path.
    second = start()
    procs.append(second)
    try:
        rc = second.wait(timeout=20)
    except subprocess.TimeoutExpired:
        rc = None
    err = second.stderr.read() if rc is not None else ""
    check(rc not in (None, 0), "a second btfd on a socket in use exits non-zero: %s" % rc)
    check("is in use by another btfd (pid %d)" % first.pid in err, "it names the first one's pid: %r" % err[-300:])
    check(os.path.exists(sock) and status_ok(), "the first btfd still answers on that path")
    r = subprocess.run([btfctl, "--socket", sock, "status"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "btfctl reaches it: %s" % r.stderr)

    # 2. A killed btfd's socket file is replaced.
    first.send_signal(signal.SIGKILL)
    first.wait()
    check(os.path.exists(sock), "a killed btfd leaves its socket file")
    third = start()
    procs.append(third)
    varlink.wait_for_socket(sock, third)
    check(status_ok(), "a new btfd replaces the stale socket and serves")

    # 3. Only its own socket file is removed at exit.
    os.rename(sock, sock + ".moved")
    fourth = start()
    procs.append(fourth)
    varlink.wait_for_socket(sock, fourth)
    third.send_signal(signal.SIGTERM)
    third.wait(timeout=20)
    check(os.path.exists(sock) and status_ok(),
          "a btfd whose socket was replaced leaves the new one in place at exit")
    fourth.send_signal(signal.SIGTERM)
    fourth.wait(timeout=20)
    check(not os.path.exists(sock), "a btfd removes the socket it bound at exit")

    # 4. The hint when nobody listens.
    r = subprocess.run([btfctl, "--socket", sock, "status"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 3 and "btfd --socket" in r.stderr and "systemctl" not in r.stderr,
          "for a socket the user named, btfctl hints at btfd --socket: %d %s" % (r.returncode, r.stderr))
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
testlib.finish()

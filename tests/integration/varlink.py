# SPDX-License-Identifier: GPL-2.0-or-later
# A minimal Varlink client for the tests (stdlib only): NUL-terminated JSON with
# file descriptors passed as SCM_RIGHTS, as btfd expects.
import array, json, os, socket, subprocess, time

class Conn:
    def __init__(self, path, timeout=60):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        # A full listen backlog: a blocking client (btfctl, libbtfd) waits in
        # connect(); with a timeout, python's socket says EAGAIN instead.
        end = time.time() + timeout
        while True:
            try:
                self.s.connect(path)
                break
            except BlockingIOError:
                if time.time() > end:
                    raise
                time.sleep(0.005)
        self.buf = b""
        self.fds = []

    def send(self, method, params=None, fds=(), more=False):
        msg = {"method": method, "parameters": params or {}}
        if more: msg["more"] = True
        data = json.dumps(msg).encode() + b"\0"
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", list(fds)))] if fds else []
        self.s.sendmsg([data], anc)

    def recv(self):
        while b"\0" not in self.buf:
            data, anc, _, _ = self.s.recvmsg(1 << 20, socket.CMSG_SPACE(16 * 4))
            if not data:
                raise EOFError("btfd closed the connection")
            for level, typ, payload in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    a = array.array("i"); a.frombytes(payload[: len(payload) - len(payload) % 4]); self.fds += list(a)
            self.buf += data
        msg, self.buf = self.buf.split(b"\0", 1)
        fds, self.fds = self.fds, []
        return json.loads(msg), fds

    def call(self, method, params=None, fds=(), more=False):
        self.send(method, params, fds, more)
        replies = []
        while True:
            r, got = self.recv()
            replies.append((r, got))
            if not (more and r.get("continues")):
                return (replies if more else (r, got))

    def close(self):
        self.s.close()

def wait_for_socket(path, proc, deadline=20):
    end = time.time() + deadline
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("btfd exited with %s" % proc.returncode)
        if os.path.exists(path):
            try:
                c = Conn(path); c.close(); return
            except OSError:
                pass
        time.sleep(0.05)
    raise RuntimeError("btfd did not come up")

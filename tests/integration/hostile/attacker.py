# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile clients for test_hostile.py, run as an unprivileged uid:
#   attacker.py SOCKET ATTACK [ARGS...]
# Each attack prints one JSON line with what it saw; attacks that hold
# resources print it, then hold them until stdin closes.
import array, json, os, random, socket, sys, time

sock_path, attack, args = sys.argv[1], sys.argv[2], sys.argv[3:]


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    return s


def send(s, msg, fds=()):
    data = msg if isinstance(msg, bytes) else json.dumps(msg).encode() + b"\0"
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", list(fds)))] if fds else []
    s.sendmsg([data], anc)


def recv(s, timeout=10):
    """One reply as a dict, {"closed": True} at EOF, {"timeout": True} when none came."""
    s.settimeout(timeout)
    buf = b""
    try:
        while b"\0" not in buf:
            data, anc, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(16 * 4))
            for level, typ, payload in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    a = array.array("i"); a.frombytes(payload[: len(payload) - len(payload) % 4])
                    for fd in a: os.close(fd)
            if not data:
                return {"closed": True}
            buf += data
    except socket.timeout:
        return {"timeout": True}
    except (ConnectionResetError, BrokenPipeError):
        return {"closed": True}
    return json.loads(buf.split(b"\0", 1)[0])


def call(msg, fds=()):
    s = connect()
    try:
        send(s, msg, fds)
        return recv(s)
    except (BrokenPipeError, ConnectionResetError):
        return {"closed": True}
    finally:
        s.close()


def hold(result):
    print(json.dumps(result), flush=True)
    sys.stdin.read()


def summary(r):
    if r.get("error"):
        return {"error": r["error"], "parameter": r.get("parameters", {}).get("parameter"),
                "message": r.get("parameters", {}).get("message", "")}
    return r


if attack == "types":
    # Mistyped fields, unknown fields and bad descriptor indexes.
    cases = [
        {"method": "io.btfd.Status", "more": "x"},
        {"method": "io.btfd.Status", "more": None},
        {"method": "io.btfd.Stats", "parameters": {"prometheus": "x"}},
        {"method": "org.varlink.service.GetInterfaceDescription", "parameters": {"interface": 5}},
        {"method": "io.btfd.GetBtf", "parameters": {"pin": "x"}},
        {"method": "io.btfd.Prefetch", "parameters": {"pin": "x"}},
        {"method": "io.btfd.GetBtf", "parameters": {"objects": [-1]}},
        {"method": "io.btfd.GetBtf", "parameters": {"objects": ["x"]}},
        {"method": "io.btfd.GetBtf", "parameters": {"objects": [5]}},
        {"method": "io.btfd.GetBtf", "parameters": {"kernel": 5}},
        {"method": "io.btfd.GetBtf", "parameters": {"kernel": {"release": 7}}},
        {"method": "io.btfd.GetBtf", "parameters": []},
        {"method": 12},
        {"method": "io.btfd.Status", "bogus": 1},
        {"method": "io.btfd.Status", "upgrade": True},
    ]
    print(json.dumps([summary(call(c)) for c in cases]))

elif attack == "object":
    # One GetBtf with the given object file.
    fd = os.open(args[0], os.O_RDONLY)
    print(json.dumps(summary(call({"method": "io.btfd.GetBtf", "parameters": {"objects": [0]}}, [fd]))))

elif attack == "kernel":
    r = call({"method": "io.btfd.GetBtf", "parameters": {"kernel": json.loads(args[0])}})
    print(json.dumps(summary(r)))

elif attack == "conns":
    # Opens N connections and asks something on each: a refused one answers
    # Busy (or is closed), a kept one answers the call.
    conns, refused = [], 0
    for _ in range(int(args[0])):
        try:
            conns.append(connect())
        except OSError:
            refused += 1
    if len(args) > 1 and args[1] == "no-probe":  # only hold them (btfd may be unable to accept)
        hold({"opened": len(conns)})
        sys.exit(0)
    kept = []
    for s in conns:
        try:
            send(s, {"method": "org.varlink.service.GetInfo"})
        except OSError:
            pass
        r = recv(s, timeout=10)
        if r.get("closed") or r.get("error") == "io.btfd.Busy": refused += 1
        elif "parameters" in r: kept.append(s)
    hold({"kept": len(kept), "refused": refused})

elif attack == "park-fds":
    # N connections, each parks 16 descriptors in a message it never finishes.
    conns, cut = [], 0
    for _ in range(int(args[0])):
        s = connect()
        pipes = [os.pipe() for _ in range(8)]
        fds = [fd for p in pipes for fd in p]
        send(s, b'{"method": "io.btfd.GetBtf", "parameters": {"objects": [0', fds)
        for fd in fds: os.close(fd)
        conns.append(s)
        time.sleep(0.05)
    time.sleep(0.3)
    for s in conns:
        r = recv(s, timeout=2)
        if r.get("closed") or r.get("error") == "io.btfd.Busy": cut += 1
    hold({"cut": cut})

elif attack == "drip":
    # N calls whose object is a pipe delivering one byte every 2 s.
    conns = []
    for _ in range(int(args[0])):
        s = connect()
        r, w = os.pipe()
        send(s, {"method": "io.btfd.GetBtf", "parameters": {"objects": [0]}}, [r])
        os.close(r)
        conns.append((s, w))
    end = time.time() + float(args[1])
    replies = [None] * len(conns)
    while time.time() < end and None in replies:
        for i, (s, w) in enumerate(conns):
            if replies[i] is None:
                try: os.write(w, b"\x7f")
                except OSError: pass
                r = recv(s, timeout=0.01)
                if not r.get("timeout"): replies[i] = summary(r)
        time.sleep(2)
    print(json.dumps(replies))

elif attack == "unknown-methods":
    n, size = int(args[0]), int(args[1])
    s = connect()
    errors = set()
    for i in range(n):
        name = "io.btfd.X%d" % i + "A" * size
        send(s, {"method": name})
        errors.add(recv(s).get("error"))
    send(s, {"method": 'io.btfd.X"} 1\nfake_metric 999'})
    errors.add(recv(s).get("error"))
    print(json.dumps(sorted(e or "none" for e in errors)))

elif attack == "big-files":
    # Sparse files of the given size, as many as btfd's per-call maximum.
    paths = []
    for i in range(int(args[1])):
        p = os.path.join(args[0], "big%d" % i)
        with open(p, "wb") as f: f.truncate(int(args[2]))
        paths.append(p)
    fds = [os.open(p, os.O_RDONLY) for p in paths]
    print(json.dumps(summary(call({"method": "io.btfd.GetBtf", "parameters": {"objects": list(range(len(fds)))}}, fds))))

elif attack == "big-pipe":
    # A pipe that streams MiB of zeros as fast as btfd takes them.
    s = connect()
    r, w = os.pipe()
    send(s, {"method": "io.btfd.GetBtf", "parameters": {"objects": [0]}}, [r])
    os.close(r)
    total = int(args[0]) << 20
    chunk = b"\0" * 65536
    sent = 0
    try:
        while sent < total:
            sent += os.write(w, chunk)
    except BrokenPipeError:
        pass
    os.close(w)
    print(json.dumps(summary(recv(s, timeout=30))))

elif attack == "no-read":
    # N connections that each pipeline M calls and never read a reply.
    conns = []
    for _ in range(int(args[0])):
        s = connect()
        s.setblocking(False)
        sent = 0
        for _ in range(int(args[1])):
            try:
                s.send(json.dumps({"method": "io.btfd.Stats", "parameters": {"prometheus": True}}).encode() + b"\0")
                sent += 1
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
        conns.append(s)
    hold({"connections": len(conns)})

elif attack == "made-up":
    counts = {}
    for i in range(int(args[0])):
        release = "9.%d.%d-madeup" % (random.randrange(1 << 30), i)
        r = call({"method": "io.btfd.GetBtf", "parameters": {"kernel": {"release": release}}})
        e = r.get("error", "ok")
        counts[e] = counts.get(e, 0) + 1
    print(json.dumps(counts))

elif attack == "deep":
    depth = int(args[0])
    body = b'{"method":"io.btfd.Status","parameters":{"x":' + b"[" * depth + b"]" * depth + b"}}\0"
    print(json.dumps(summary(call(body))))

elif attack == "slow-message":
    s = connect()
    send(s, b'{"method": "io.btfd.Sta')
    r = recv(s, timeout=float(args[0]))
    print(json.dumps({"closed": bool(r.get("closed") or r.get("error"))}))

else:
    sys.exit("unknown attack " + attack)

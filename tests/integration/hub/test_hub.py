#!/usr/bin/env python3
# Hub integration test: a real HTTP server on 127.0.0.1 serving the repo's btfhub
# fixtures (plus ../shared/btfhub-sample's kernels when it is there)
# and hostile archives built here; every case checks its specific error, that the
# output holds nothing, that no temp files are left and that memory stays bounded.
import hashlib, http.server, io, json, lzma, os, shutil, socket, subprocess, sys, tarfile
import tempfile, threading, time, gzip

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import check, failures, combined_hub_dir, hub_kernels

TOOL = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="btfd-hub-test-")
staging = os.path.join(tmp, "staging"); os.mkdir(staging)

# The mirror keeps the archive's directory symlink debian/buster -> 10.
mirror = combined_hub_dir(tmp)
check(os.path.islink(os.path.join(mirror, "debian", "buster")), "the fixtures keep debian/buster -> 10")
kernels = hub_kernels(mirror)

# Hostile payloads, keyed by URL path under /evil/x/1/x86_64/.
def tar_xz(entries, compress=True):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w") as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            if kind == "file":
                ti.size = len(data); t.addfile(ti, io.BytesIO(data))
            elif kind == "symlink":
                ti.type = tarfile.SYMTYPE; ti.linkname = data; t.addfile(ti)
            elif kind == "hardlink":
                ti.type = tarfile.LNKTYPE; ti.linkname = data; t.addfile(ti)
            elif kind == "dev":
                ti.type = tarfile.CHRTYPE; ti.devmajor = 1; ti.devminor = 3; t.addfile(ti)
    raw = bio.getvalue()
    return lzma.compress(raw) if compress else raw

good_btf = None
# a real BTF for the hostile archives: the smallest fixture kernel keeps them cheap
smallest = min(kernels, key=lambda k: os.path.getsize(os.path.join(mirror, k + ".btf.tar.xz")))
with tarfile.open(os.path.join(mirror, smallest + ".btf.tar.xz")) as t:
    m = [x for x in t.getmembers() if x.isfile()][0]
    good_btf = t.extractfile(m).read()

import functools
@functools.lru_cache(maxsize=None)
def make_evil(name, rel):
    b = rel + ".btf"
    return {
        "dotdot": lambda: tar_xz([("../" + b, "file", good_btf)]),
        "absolute": lambda: tar_xz([("/" + b, "file", good_btf)]),
        "symlink": lambda: tar_xz([(b, "symlink", "/etc/passwd")]),
        "hardlink": lambda: tar_xz([(b, "file", good_btf), ("x/" + b, "hardlink", b)]),
        "device": lambda: tar_xz([(b, "dev", None)]),
        "twofiles": lambda: tar_xz([(b, "file", good_btf), ("./" + b, "file", good_btf)]),
        "otherfile": lambda: tar_xz([("evil.sh", "file", b"#!/bin/sh\n")]),
        "empty": lambda: tar_xz([(b, "file", b"")]),
        "notbtf": lambda: tar_xz([(b, "file", b"\x7fELF" + bytes(100))]),
        "truncated": lambda: tar_xz([(b, "file", good_btf)])[:2000],
        "bomb": lambda: bomb(b),
        "dotslash": lambda: tar_xz([("./" + b, "file", good_btf)]),
        "gzip": lambda: gzip.compress(tar_xz([("./" + b, "file", good_btf)], compress=False)),
    }[name]()

def bomb(entry):
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w") as t:
        ti = tarfile.TarInfo(entry); ti.size = 16 << 20
        t.addfile(ti, io.BytesIO(bytes(16 << 20)))
    return lzma.compress(inner.getvalue())

state = {"flaky": 0}
# /overlap/: the archive's second half is held until the mirror's SHA256SUMS
# is asked for (5 s at most), so a try that asks for the list only after the
# archive shows as a wait, and "sums_during_archive" says which it was; then
# until the output holds unpacked bytes (5 s at most): a try that unpacks
# only a whole archive shows as "unpacked_during_archive" 0.
overlap = {"sums": threading.Event(), "sums_requests": 0, "sums_during_archive": None, "unpacked_during_archive": 0}

class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=mirror, **kw)
    def log_message(self, *a): pass
    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # clients that give up mid-body are part of the test
    def send_bytes(self, data, status=200):
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        p = self.path
        if p.startswith("/evil/"):
            rel = p.rsplit("/", 1)[1][: -len(".btf.tar.xz")]
            return self.send_bytes(make_evil(rel, rel))
        if p.startswith("/overlap/"):
            rest = p[len("/overlap"):]
            if rest == "/SHA256SUMS":
                overlap["sums_requests"] += 1
                overlap["sums"].set()
                self.path = rest
                return super().do_GET()
            f = os.path.join(mirror, rest.lstrip("/"))
            if not os.path.isfile(f):
                return self.send_bytes(b"not here", 404)
            data = open(f, "rb").read()
            self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
            self.wfile.write(data[: len(data) // 2]); self.wfile.flush()
            overlap["sums_during_archive"] = overlap["sums"].wait(5)
            # The first half is unpacked before the rest arrives.
            out = os.path.join(tmp, "out.btf")
            for _ in range(500):
                if os.path.exists(out) and os.path.getsize(out) > 0: break
                time.sleep(0.01)
            overlap["unpacked_during_archive"] = os.path.getsize(out) if os.path.exists(out) else 0
            self.wfile.write(data[len(data) // 2:])
            return
        if p.startswith("/flaky/"):
            state["flaky"] += 1
            if state["flaky"] <= 2:
                return self.send_bytes(b"busy", 503)
            self.path = p[len("/flaky"):]
            return super().do_GET()
        if p.startswith("/always500/"):
            return self.send_bytes(b"no", 500)
        if p.startswith("/redirect/"):
            self.send_response(302); self.send_header("Location", "file:///etc/passwd"); self.end_headers(); return
        if p.startswith("/stall/"):
            self.send_response(200); self.send_header("Content-Length", "1000000"); self.end_headers()
            self.wfile.write(b"\xfd7zXZ\x00"); self.wfile.flush(); time.sleep(8); return
        if p.startswith("/endless/") or p.startswith("/trailing/"):
            # Zeros without end; after a real archive for /trailing/.
            self.send_response(200); self.end_headers()
            state["endless_sent"] = 0
            try:
                if p.startswith("/trailing/"):
                    self.wfile.write(open(os.path.join(mirror, smallest + ".btf.tar.xz"), "rb").read())
                for _ in range(100000):
                    self.wfile.write(b"\0" * 65536)
                    state["endless_sent"] += 65536
            except (BrokenPipeError, ConnectionResetError): pass
            return
        if p.startswith("/empty-mirror/"):
            return self.send_bytes(b"not here", 404)
        # Error pages and redirects with bodies of many pieces: the unpacking
        # follows the download, and must be shown neither.
        if p.startswith("/big404/"):
            return self.send_bytes(b"<html>" + b"not found " * 30000 + b"</html>", 404)
        if p.startswith("/bigredirect/"):
            body = b"<html>" + b"moved " * 30000 + b"</html>"
            self.send_response(302); self.send_header("Location", p[len("/bigredirect"):])
            self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
            return
        return super().do_GET()

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
srv = Server(("127.0.0.1", 0), Handler)
port = srv.server_address[1]
threading.Thread(target=srv.serve_forever, daemon=True).start()
base = "http://127.0.0.1:%d" % port
closed = socket.socket(); closed.bind(("127.0.0.1", 0)); dead_port = closed.getsockname()[1]; closed.close()

def fetch(key, *mirrors, extra=()):
    out = os.path.join(tmp, "out.btf")
    p = subprocess.run([TOOL, out, key, "--temp-dir", staging, *extra, *mirrors],
                       capture_output=True, text=True, timeout=120)
    j = json.loads(p.stdout.strip().splitlines()[-1])
    data = open(out, "rb").read()
    check(os.listdir(staging) == [], "temp files left in staging after %s" % key)
    return j, data

# Every fixture kernel, over HTTP.
for k in kernels:
    j, data = fetch(k, base)
    check(j["ok"], "fetch %s: %s" % (k, j))
    if j["ok"]:
        check(hashlib.sha256(data).hexdigest() == j["sha256"], "digest of %s" % k)
        check(len(data) == j["size"] and data[:2] == b"\x9f\xeb", "size/magic of %s" % k)
        check(j["progress_calls"] > 0, "progress reported for %s" % k)
        check(j["checksum_verified"], "%s checked against the mirror's SHA256SUMS" % k)
print("fetched %d kernels over HTTP" % len(kernels))

# SHA256SUMS: a mirror without one is accepted unverified; one that lists the
# archive with another digest is refused (and the next mirror is tried).
def mirror_variant(name, sums):
    d = os.path.join(tmp, name)
    shutil.copytree(mirror, d, symlinks=True)
    os.unlink(os.path.join(d, "SHA256SUMS"))
    if sums is not None: open(os.path.join(d, "SHA256SUMS"), "w").write(sums)
    return d
real_sums = open(os.path.join(mirror, "SHA256SUMS")).read()
nosums = mirror_variant("mirror-nosums", None)
j, data = fetch(smallest, nosums)
check(j["ok"] and not j["checksum_verified"] and data[:2] == b"\x9f\xeb", "mirror without SHA256SUMS: %s" % j)
lines = [l for l in real_sums.splitlines() if l.endswith(smallest + ".btf.tar.xz")]
check(len(lines) == 1, "the fixtures' SHA256SUMS lists %s" % smallest)
tampered = mirror_variant("mirror-tampered", real_sums.replace(lines[0], "0" * 64 + lines[0][64:]))
j, data = fetch(smallest, tampered)
check(not j["ok"] and j["error"] == "corrupt" and "SHA256SUMS" in j["message"] and data == b"",
      "archive not matching SHA256SUMS refused: %s" % j)
j, data = fetch(smallest, tampered, nosums)
check(j["ok"] and j["mirrors"][0]["errors"] == 0 and data[:2] == b"\x9f\xeb", "next mirror after a checksum mismatch: %s" % j)
# The list is asked for and the archive unpacked while it downloads, not
# after; a mirror without the kernel is not asked for the list at all.
t0 = time.time()
j, data = fetch(smallest, base + "/overlap")
check(j["ok"] and j["checksum_verified"] and data[:2] == b"\x9f\xeb", "fetch from /overlap: %s" % j)
check(overlap["sums_during_archive"] is True and overlap["sums_requests"] == 1,
      "SHA256SUMS asked for while the archive was still downloading: %s" % overlap)
check(overlap["unpacked_during_archive"] > 0, "the archive unpacked as it arrived: %s" % overlap)
check(time.time() - t0 < 4, "no wait for the list or the unpacking after the archive (%.1f s)" % (time.time() - t0))
j, _ = fetch("ubuntu/20.04/x86_64/0.0.0-nope", base + "/overlap")
check(not j["ok"] and j["error"] == "not-in-hub" and overlap["sums_requests"] == 1,
      "a kernel the mirror lacks costs no SHA256SUMS request: %s %s" % (j, overlap))
j, _ = fetch(smallest, tampered, extra=("--no-checksums",))
check(j["ok"] and not j["checksum_verified"], "checksums can be turned off: %s" % j)

j, _ = fetch("debian/buster/x86_64/4.19.0-17-amd64", base)
check(j["ok"], "fetch through the debian/buster symlink: %s" % j)
j, _ = fetch(smallest, "file://" + mirror)
check(j["ok"], "file:// mirror: %s" % j)
j, _ = fetch(smallest, mirror)
check(j["ok"], "plain directory mirror: %s" % j)
j, _ = fetch(smallest, base + "/empty-mirror", base)
check(j["ok"] and j["mirrors"][0]["not_found"] == 1, "second mirror after a 404: %s" % j)
j, _ = fetch(smallest, "http://127.0.0.1:%d" % dead_port, base)
check(j["ok"] and j["mirrors"][0]["errors"] >= 1, "second mirror after a dead one: %s" % j)
for _ in range(3):
    j, _ = fetch(smallest, base + "/big404")
    check(not j["ok"] and j["error"] == "not-in-hub", "a 300 KB error page is not-in-hub, not a bad archive: %s" % j)
j, data = fetch(smallest, base + "/bigredirect")
check(j["ok"] and j["checksum_verified"] and data[:2] == b"\x9f\xeb", "a redirect's body is not unpacked: %s" % j)
j, _ = fetch("ubuntu/20.04/x86_64/0.0.0-nope", base, base + "/empty-mirror")
check(not j["ok"] and j["error"] == "not-in-hub", "404 everywhere is not-in-hub: %s" % j)
j, _ = fetch(smallest, "http://127.0.0.1:%d" % dead_port, extra=("--attempts", "2"))
check(not j["ok"] and j["error"] == "unreachable", "dead hub is unreachable: %s" % j)
check(j["mirrors"][0]["requests"] == 2, "transient errors are retried: %s" % j)
j, _ = fetch("ubuntu/20.04/x86_64/0.0.0-nope", base + "/empty-mirror", "http://127.0.0.1:%d" % dead_port)
check(not j["ok"] and j["error"] == "unreachable", "404 + dead mirror is not a miss: %s" % j)
state["flaky"] = 0
j, _ = fetch(smallest, base + "/flaky", extra=("--attempts", "3"))
check(j["ok"] and j["mirrors"][0]["requests"] == 3, "500s then success: %s" % j)
j, _ = fetch(smallest, base + "/always500", extra=("--attempts", "2"))
check(not j["ok"] and j["error"] == "unreachable" and j["mirrors"][0]["requests"] == 2, "500s exhaust retries: %s" % j)
j, _ = fetch("../../etc/x86_64/r", base)
check(not j["ok"] and j["error"] == "invalid-argument", "bad identity refused: %s" % j)

expect = {
    "dotdot": ("corrupt", "traversal"), "absolute": ("corrupt", "absolute"), "symlink": ("corrupt", "link"),
    "hardlink": ("corrupt", "link"), "device": ("corrupt", "regular file"),
    "twofiles": ("corrupt", "more than once"), "otherfile": ("corrupt", "expected"),
    "empty": ("corrupt", "empty"), "notbtf": ("corrupt", "magic"), "truncated": ("corrupt", ""),
    "bomb": ("too-large", "decompresses"),
}
for name, (code, words) in expect.items():
    j, data = fetch("evil/x/1/" + name, base, extra=("--max-output", str(8 << 20)))
    check(not j["ok"] and j["error"] == code and words in j["message"], "hostile %s: %s" % (name, j))
    check(data == b"", "hostile %s left output" % name)
    check(j["maxrss_kb"] < 64 * 1024, "hostile %s stayed within memory: %s" % (name, j["maxrss_kb"]))
for name in ("dotslash", "gzip"):
    j, data = fetch("evil/x/1/" + name, base)
    check(j["ok"] and data == good_btf, "benign %s archive accepted: %s" % (name, j))

j, data = fetch("x/1/x86_64/r", base + "/redirect")
check(not j["ok"] and j["error"] == "permission" and data == b"", "redirect to file:// refused: %s" % j)
t0 = time.time()
j, data = fetch("x/1/x86_64/r", base + "/stall", extra=("--timeout-ms", "1500", "--attempts", "1"))
check(not j["ok"] and j["error"] == "timeout" and time.time() - t0 < 7, "stalled server times out: %s" % j)
# A body is unpacked as it arrives: one that is no archive is refused
# without being downloaded to the cap (256 MB by default)...
j, data = fetch("x/1/x86_64/r", base + "/endless", extra=("--attempts", "1"))
check(not j["ok"] and j["error"] == "corrupt" and j["maxrss_kb"] < 200 * 1024, "endless junk refused: %s" % j)
time.sleep(0.5)  # the handler sees the closed connection at its next write
check(state["endless_sent"] < (64 << 20), "endless junk stopped early (%d bytes sent)" % state["endless_sent"])
# ... and a real archive followed by endless bytes is still held to the cap.
rel = smallest.rsplit("/", 1)[1]
j, data = fetch("x/1/x86_64/" + rel, base + "/trailing", extra=("--max-download", str(4 << 20), "--attempts", "1"))
check(not j["ok"] and j["error"] == "too-large" and j["maxrss_kb"] < 200 * 1024 and data == b"",
      "endless body after an archive capped: %s" % j)

srv.shutdown()
shutil.rmtree(tmp)
if failures:
    print("%d failure(s)" % len(failures)); sys.exit(1)
print("ok")

#!/usr/bin/env python3
# Hub benchmark (not a test): cold fetch of each sample kernel from a loopback
# HTTP server through btfd's hub code (download + SHA256SUMS check + unpack +
# validate + sha256), and end to end through a fresh btfd (`btfctl get` of a
# kernel not cached: btfd-fetch child, re-check, store with fsync), against
# `curl -s URL | xz -dc | tar -x` in the same run. Prints medians and ratios.
# usage: bench_hub.py BUILD_DIR [SHARED_DIR]
import http.server, os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time

build = os.path.abspath(sys.argv[1])
shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "../../../shared")
sample = os.path.join(shared, "btfhub-sample")
tool = os.path.join(build, "tests/integration/hub/hub-fetch-tool")
btfd, btfctl = os.path.join(build, "daemon/btfd"), os.path.join(build, "cli/btfctl")
if not os.path.isdir(sample):
    sys.exit("no btfhub-sample at " + sample)

class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw): super().__init__(*a, directory=sample, **kw)
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
base = "http://127.0.0.1:%d" % srv.server_address[1]
tmp = tempfile.mkdtemp()

def timed(cmd, shell=False):
    t = time.perf_counter()
    subprocess.run(cmd, shell=shell, check=True, stdout=subprocess.DEVNULL, cwd=tmp)
    return time.perf_counter() - t

def daemon_get(key):
    """Seconds for `btfctl get` of key through a btfd with an empty cache."""
    d, v, a, rel = key.split("/")
    cache, sock = tempfile.mkdtemp(dir=tmp), os.path.join(tmp, "btfd.sock")
    p = subprocess.Popen([btfd, "--socket", sock, "--cache-dir", cache, "--mirror", base, "--idle-exit", "0",
                          "--log-level", "warning"], stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                s = socket.socket(socket.AF_UNIX); s.connect(sock); s.close(); break
            except OSError: time.sleep(0.01)
        return timed([btfctl, "--socket", sock, "--quiet", "get", "--distro", d, "--distro-version", v,
                      "--arch", a, "--release", rel])
    finally:
        p.terminate(); p.wait()
        shutil.rmtree(cache)

print("%-42s %10s %10s %12s %8s %8s" % ("kernel", "hub code", "btfd get", "curl|xz|tar", "ratio", "btfd/ref"))
for root, _, files in sorted(os.walk(sample)):
    for f in sorted(files):
        if not f.endswith(".btf.tar.xz") or "buster" in root:
            continue
        key = os.path.relpath(os.path.join(root, f), sample)[: -len(".btf.tar.xz")]
        ours = [timed([tool, os.path.join(tmp, "out.btf"), key, "--temp-dir", tmp, "--no-digest", base]) for _ in range(3)]
        full = [daemon_get(key) for _ in range(3)]
        ref = [timed("curl -s %s/%s.btf.tar.xz | xz -dc | tar -x" % (base, key), shell=True) for _ in range(3)]
        o, g, r = statistics.median(ours), statistics.median(full), statistics.median(ref)
        print("%-42s %8.0fms %8.0fms %10.0fms %8.2f %8.2f" % (key, o * 1e3, g * 1e3, r * 1e3, o / r, g / r))
print("goal: <= 1.2x the curl|xz|tar baseline, validation included")
srv.shutdown()

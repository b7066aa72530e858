#!/usr/bin/env python3
# Hub benchmark (not a test): a cold fetch of each real archive from a loopback
# HTTP mirror, end to end through a fresh btfd (`btfctl get` of a kernel not
# cached: btfd-fetch child, download, SHA256SUMS check, unpack, validation,
# re-check, hashed and fsync'd store), against `curl -s URL | xz -dc | tar -x`
# of the same archive from the same mirror, in pairs (alternating order).
# Also times btfd's hub code alone (hub-fetch-tool: download + check + unpack +
# validate, no daemon, no store) for context. Prints per archive medians and
# issue #28's row (bench/common/pairs.hpp's format) over all pairs.
# usage: bench_hub.py BUILD_DIR [PAIRS [MIRROR_DIR]]   (default: tests/data/btfhub)
import http.server, os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time

here = os.path.dirname(os.path.abspath(__file__))
build = os.path.abspath(sys.argv[1])
pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 9
mirror = os.path.abspath(sys.argv[3] if len(sys.argv) > 3 else os.path.join(here, "../../tests/data/btfhub"))
tool = os.path.join(build, "tests/integration/hub/hub-fetch-tool")
btfd, btfctl = os.path.join(build, "daemon/btfd"), os.path.join(build, "cli/btfctl")

class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw): super().__init__(*a, directory=mirror, **kw)
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
    """Seconds for `btfctl get` of key through a btfd with an empty cache (its start is not timed)."""
    d, v, a, rel = key.split("/")
    cache, sock = tempfile.mkdtemp(dir=tmp), os.path.join(tmp, "btfd.sock")
    p = subprocess.Popen([btfd, "--socket", sock, "--cache-dir", cache, "--mirror", base, "--idle-exit", "0",
                          "--log-level", "warning"], stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            try:
                s = socket.socket(socket.AF_UNIX); s.connect(sock); s.close(); break
            except OSError: time.sleep(0.01)
        return timed([btfctl, "--socket", sock, "--quiet", "get", "--distro", d, "--distro-version", v,
                      "--arch", a, "--release", rel])
    finally:
        p.terminate(); p.wait()
        shutil.rmtree(cache)

def reference(key):
    return timed("curl -sf %s/%s.btf.tar.xz | xz -dc | tar -x" % (base, key), shell=True)

def spread(v):
    """Median and interquartile range by nearest rank, as pairs.hpp."""
    v = sorted(v)
    at = lambda q: v[int(q * (len(v) - 1) + 0.5)]
    return at(0.5), at(0.25), at(0.75)

def show(v, scale=1e3, unit="ms", decimals=0):
    m, lo, hi = spread(v)
    return "%.*f %s [%.*f–%.*f]" % (decimals, m * scale, unit, decimals, lo * scale, decimals, hi * scale)

def figure(name, ours, ref, goal):
    ratios = [o / r for o, r in zip(ours, ref)]
    m, lo, hi = spread(ratios)
    print("figure: %s: btfd %s, reference %s, ratio %.2f× [%.2f–%.2f] over %d pairs (goal ≤ %.2g×): %s" % (
        name, show(ours), show(ref), m, lo, hi, len(ratios), goal, "meets" if m <= goal else "misses"), flush=True)

keys = []
for root, _, files in sorted(os.walk(mirror)):
    for f in sorted(files):
        if f.endswith(".btf.tar.xz"):
            keys.append(os.path.relpath(os.path.join(root, f), mirror)[: -len(".btf.tar.xz")])
if not keys:
    sys.exit("no archives under " + mirror)
print("%-42s %14s %14s %14s %8s" % ("archive (medians)", "hub code", "btfd get", "curl|xz|tar", "btfd/ref"))
all_ours, all_ref = [], []
for key in keys:
    hub = [timed([tool, os.path.join(tmp, "out.btf"), key, "--temp-dir", tmp, "--no-digest", base])
           for _ in range(max(3, pairs // 3))]
    ours, ref = [], []
    for i in range(pairs):
        if i % 2 == 0:
            ours.append(daemon_get(key)); ref.append(reference(key))
        else:
            ref.append(reference(key)); ours.append(daemon_get(key))
    all_ours += ours; all_ref += ref
    print("%-42s %12.0fms %12.0fms %12.0fms %8.2f" % (key, statistics.median(hub) * 1e3, statistics.median(ours) * 1e3,
                                                     statistics.median(ref) * 1e3,
                                                     statistics.median([o / r for o, r in zip(ours, ref)])), flush=True)
figure("hub fetch end to end (fresh btfd, btfctl get) vs curl|xz -d|tar -x, %d archive(s) of %s" % (
    len(keys), os.path.relpath(mirror, os.path.join(here, "../.."))), all_ours, all_ref, 1.2)
srv.shutdown()
shutil.rmtree(tmp)

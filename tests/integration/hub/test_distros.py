#!/usr/bin/env python3
# Distros btfd serves from the hub, end to end: a real btfd whose host root has
# RHEL 8.4's os-release, two loopback mirrors laid out like btfhub-archive (the
# second standing for the DataDog archive behind aquasecurity's), kernels put
# at the paths the real archive uses (rhel/8, ol/7/arm64, amzn/1, sles/15.1,
# debian/10 + buster). Checks the exact paths asked for, "exact", one cache entry
# per kernel, the "not in hub" rules and mirror validation and health.
import io, json, hashlib, http.server, lzma, os, shutil, signal, subprocess, sys, tarfile, tempfile, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check, failures, finish, hub_dir, source_root

btfd, btfctl = sys.argv[1:3]
tmp = tempfile.mkdtemp(prefix="btfd-distros-test-")
sock, cache = os.path.join(tmp, "btfd.sock"), os.path.join(tmp, "cache")

# One real kernel BTF (the smallest fixture), repacked under each release name.
fixture = os.path.join(hub_dir(), "debian", "10", "x86_64", "4.19.0-17-amd64.btf.tar.xz")
with tarfile.open(fixture) as t:
    member = [m for m in t.getmembers() if m.isfile()][0]
    btf = t.extractfile(member).read()

def put(mirror, path):
    """An archive at <mirror>/<path>.btf.tar.xz holding <release>.btf, listed in SHA256SUMS."""
    release = os.path.basename(path)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        ti = tarfile.TarInfo(release + ".btf"); ti.size = len(btf); t.addfile(ti, io.BytesIO(btf))
    data = lzma.compress(raw.getvalue(), preset=0)
    dst = os.path.join(mirror, path + ".btf.tar.xz")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    open(dst + ".tmp", "wb").write(data); os.rename(dst + ".tmp", dst)
    with open(os.path.join(mirror, "SHA256SUMS"), "a") as s:
        s.write("%s  %s.btf.tar.xz\n" % (hashlib.sha256(data).hexdigest(), path))

aqua, datadog = os.path.join(tmp, "aqua"), os.path.join(tmp, "datadog")
for m in (aqua, datadog): os.makedirs(m)
for path in ("rhel/8/x86_64/4.18.0-305.el8.x86_64", "ol/7/arm64/4.14.35-1902.el7uek.aarch64",
             "sles/15.1/x86_64/4.12.14-197.4-default"):
    put(aqua, path)
os.makedirs(os.path.join(aqua, "debian", "10", "x86_64"))
shutil.copy(fixture, os.path.join(aqua, "debian", "10", "x86_64"))
os.symlink("10", os.path.join(aqua, "debian", "buster"))  # as in the archive
put(datadog, "amzn/1/x86_64/4.14.106-79.86.amzn1.x86_64")

asked = {"aqua": [], "datadog": []}
def serve(name, directory):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw): super().__init__(*a, directory=directory, **kw)
        def log_message(self, *a): pass
        def do_GET(self):
            if self.path.endswith(".btf.tar.xz"): asked[name].append(self.path)
            return super().do_GET()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return "http://127.0.0.1:%d" % srv.server_address[1]
aqua_url, datadog_url = serve("aqua", aqua), serve("datadog", datadog)

hostroot = os.path.join(tmp, "hostroot")
os.makedirs(os.path.join(hostroot, "etc"))
shutil.copy(os.path.join(source_root(), "tests", "data", "os-release", "rhel-8.4"), os.path.join(hostroot, "etc", "os-release"))
empty_conf = os.path.join(tmp, "empty.conf"); open(empty_conf, "w").close()

def start(mirrors, config=empty_conf):
    args = [btfd, "--config", config, "--socket", sock, "--cache-dir", cache, "--idle-exit", "0",
            "--host-root", hostroot, "--connect-timeout", "1000", "--timeout", "20000", "--log-level", "debug"]
    for m in mirrors: args += ["--mirror", m]
    p = subprocess.Popen(args, stderr=open(os.path.join(tmp, "btfd.log"), "a"))
    varlink.wait_for_socket(sock, p)
    return p

def stop(p):
    p.send_signal(signal.SIGTERM); p.wait(timeout=20)

def call(method, params=None):
    c = varlink.Conn(sock); r, fds = c.call(method, params or {}); c.close()
    for f in fds: os.close(f)
    return r

def get(distro, version, arch, release):
    return call("io.btfd.GetBtf", {"kernel": {"distro": distro, "version": version, "arch": arch, "release": release}})

def ctl(*args):
    out = subprocess.run([btfctl, "--socket", sock, "--json", *args], capture_output=True, text=True)
    return out.returncode, (json.loads(out.stdout) if out.stdout.strip().startswith("{") else {}), out.stderr

def kernel(r):
    k = r.get("parameters", {}).get("kernel", {})
    return "%s/%s/%s/%s" % (k.get("distro"), k.get("version"), k.get("arch"), k.get("release"))

def negative_rows():
    return call("io.btfd.Status")["parameters"]["status"]["cache"]["negative"]

# Start-up refuses what can never be a mirror, before touching anything.
for bad, says in (("ftp://mirror.example.com/hub", "unsupported scheme"), ("htps://typo.example.com", "unsupported scheme"),
                  (os.path.join(tmp, "no-such-dir"), "does not exist")):
    p = subprocess.run([btfd, "--config", empty_conf, "--socket", sock, "--cache-dir", cache, "--mirror", bad],
                       capture_output=True, text=True, timeout=20)
    check(p.returncode != 0 and says in p.stderr and bad in p.stderr, "start-up refuses mirror %s: %s %s" % (bad, p.returncode, p.stderr))
check(not os.path.exists(sock), "a refused configuration binds no socket")

d = start([aqua_url, datadog_url])
try:
    st = call("io.btfd.Status")["parameters"]["status"]
    check(st["host"]["distro"] == "rhel" and st["host"]["version"] == "8" and st["host_exact"],
          "RHEL 8.4's os-release is the archive's rhel/8: %s" % st["host"])
    check([m["healthy"] for m in st["mirrors"]] == [True, True], "both mirrors healthy: %s" % st["mirrors"])

    # Every family at the archive's exact path, from the os-release values.
    for (distro, version, arch, release), want, mirror in (
            (("rhel", "8.4", "x86_64", "4.18.0-305.el8.x86_64"), "rhel/8/x86_64/4.18.0-305.el8.x86_64", "aqua"),
            (("ol", "7.9", "aarch64", "4.14.35-1902.el7uek.aarch64"), "ol/7/arm64/4.14.35-1902.el7uek.aarch64", "aqua"),
            (("sles", "15.1", "x86_64", "4.12.14-197.4-default"), "sles/15.1/x86_64/4.12.14-197.4-default", "aqua"),
            (("amzn", "2018.03", "x86_64", "4.14.106-79.86.amzn1.x86_64"), "amzn/1/x86_64/4.14.106-79.86.amzn1.x86_64", "datadog")):
        r = get(distro, version, arch, release)
        p = r.get("parameters", {})
        check("error" not in r and kernel(r) == want and p.get("exact") is True and p.get("source") == "hub",
              "%s %s -> %s: %s" % (distro, version, want, r))
        check("/" + want + ".btf.tar.xz" in asked[mirror], "%s asked for /%s.btf.tar.xz: %s" % (mirror, want, asked[mirror]))
    # The first mirror was asked first for amzn/1 and said 404; the second had it.
    check("/amzn/1/x86_64/4.14.106-79.86.amzn1.x86_64.btf.tar.xz" in asked["aqua"], "mirrors tried in order")

    # The host's own distro by default: {"release"} alone is rhel 8.4 -> rhel/8, now cached.
    r = call("io.btfd.GetBtf", {"kernel": {"arch": "x86_64", "release": "4.18.0-305.el8.x86_64"}})
    check("error" not in r and r["parameters"]["cached"] and kernel(r) == "rhel/8/x86_64/4.18.0-305.el8.x86_64",
          "host defaults map the same way: %s" % r)

    # debian/buster and debian/10: one kernel, one cache entry, one download.
    a = get("debian", "10", "x86_64", "4.19.0-17-amd64"); b = get("debian", "buster", "x86_64", "4.19.0-17-amd64")
    check("error" not in a and "error" not in b and a["parameters"]["sha256"] == b["parameters"]["sha256"]
          and b["parameters"]["cached"] and kernel(b) == "debian/10/x86_64/4.19.0-17-amd64", "buster is 10: %s %s" % (a, b))
    kernels = call("io.btfd.ListKernels")["parameters"]["kernels"]
    check(sum(1 for k in kernels if k["kernel"]["distro"] == "debian") == 1, "one debian entry: %s" % kernels)
    check(len([p for p in asked["aqua"] if "4.19.0-17-amd64" in p]) == 1, "debian fetched once")

    # Without an alias, rocky is its own distro: asked verbatim, not in this hub.
    r = get("rocky", "8.4", "x86_64", "4.18.0-305.el8.x86_64")
    check(r.get("error") == "io.btfd.KernelNotInHub", "rocky without an alias: %s" % r)
    check("/rocky/8.4/x86_64/4.18.0-305.el8.x86_64.btf.tar.xz" in asked["aqua"], "rocky asked verbatim")

    # "Not in hub" is remembered (no second request) until someone asks explicitly.
    missing = "4.18.0-348.el8.x86_64"
    path = "/rhel/8/x86_64/%s.btf.tar.xz" % missing
    r1 = get("rhel", "8.4", "x86_64", missing); r2 = get("rhel", "8.4", "x86_64", missing)
    check(r1.get("error") == r2.get("error") == "io.btfd.KernelNotInHub", "not in hub: %s %s" % (r1, r2))
    check(asked["aqua"].count(path) == 1 and asked["datadog"].count(path) == 1, "the second answer was cached")
    put(aqua, "rhel/8/x86_64/" + missing)  # the hub publishes it
    check(get("rhel", "8.4", "x86_64", missing).get("error") == "io.btfd.KernelNotInHub", "still cached for a plain get")
    rc, out, err = ctl("get", "--refresh", "--distro", "rhel", "--distro-version", "8.4", "--arch", "x86_64", "--release", missing)
    check(rc == 0 and out.get("source") == "hub" and out.get("exact") is True and asked["aqua"].count(path) == 2,
          "get --refresh asks the hub again: %s %s %s" % (rc, out, err))
    rc, out, err = ctl("get", "--distro", "rhel", "--distro-version", "8.4", "--arch", "x86_64", "--release", missing)
    check(rc == 0 and out.get("cached"), "and then it is cached: %s %s" % (out, err))

    # prefetch asks again too; gc forgets every "not in hub".
    later = "4.18.0-372.el8.x86_64"
    check(get("rhel", "8.4", "x86_64", later).get("error") == "io.btfd.KernelNotInHub", "not in hub yet")
    put(aqua, "rhel/8/x86_64/" + later)
    rc, out, err = ctl("prefetch", "--no-pin", "--distro", "rhel", "--distro-version", "8.4", "--arch", "x86_64", "--release", later)
    check(rc == 0 and out.get("fetched") and out["kernel"]["version"] == "8", "prefetch asks the hub again: %s %s" % (out, err))
    gone = "4.18.0-400.el8.x86_64"
    check(get("rhel", "8.4", "x86_64", gone).get("error") == "io.btfd.KernelNotInHub", "not in hub")
    check(negative_rows() >= 1, "a negative row is kept")
    rc, out, err = ctl("gc")
    check(rc == 0 and out.get("forgotten_not_in_hub", 0) >= 1 and negative_rows() == 0, "gc forgets: %s %s" % (out, err))
    put(aqua, "rhel/8/x86_64/" + gone)
    check("error" not in get("rhel", "8.4", "x86_64", gone), "after gc the hub is asked again")

    # A negative answer from one mirror list is no answer for another.
    moved = "4.18.0-425.el8.x86_64"
    check(get("rhel", "8.4", "x86_64", moved).get("error") == "io.btfd.KernelNotInHub", "not in this list's mirrors")
finally:
    stop(d)

# A pinned row as an older btfd stored it, under os-release's spelling: nothing
# asks for rhel/8.4 any more, so releasing pins (at start-up, on kernel
# upgrades, by refresh) releases its pin.
import sqlite3
db = sqlite3.connect(os.path.join(cache, "index.sqlite"))
db.execute("INSERT INTO kernels SELECT distro, '8.4', arch, release, source, origin, digest, fetched_at, last_used, 1 "
           "FROM kernels WHERE distro='rhel' AND version='8' AND release='4.18.0-305.el8.x86_64'")
db.commit(); db.close()

local = os.path.join(tmp, "local-mirror")
put(local, "rhel/8/x86_64/4.18.0-425.el8.x86_64")
d = start([aqua_url, local])
try:
    old = [k for k in call("io.btfd.ListKernels")["parameters"]["kernels"] if k["kernel"]["version"] == "8.4"]
    check(len(old) == 1 and not old[0]["pinned"], "a row stored under os-release's spelling is unpinned: %s" % old)
    check(call("io.btfd.GarbageCollect").get("error") is None, "gc")
    r = get("rhel", "8.4", "x86_64", "4.18.0-425.el8.x86_64")
    check("error" not in r and r["parameters"]["source"] == "hub", "another mirror list asks again at once: %s" % r)
    st = call("io.btfd.Status")["parameters"]["status"]
    check(st["mirrors"][1]["base"] == "file://" + local and st["mirrors"][1]["healthy"], "local mirror healthy: %s" % st["mirrors"])
    # The directory disappears: unhealthy with the reason, and never "not in hub".
    shutil.rmtree(local)
    st = call("io.btfd.Status")["parameters"]["status"]
    m = st["mirrors"][1]
    check(not m["healthy"] and "does not exist" in m.get("problem", ""), "a missing directory is unhealthy: %s" % m)
    out = subprocess.run([btfctl, "--socket", sock, "status"], capture_output=True, text=True).stdout
    check("file://%s  unhealthy: directory" % local in out, "btfctl status says why: %s" % out)
    before = negative_rows()
    r = get("rhel", "8.4", "x86_64", "4.18.0-999.el8.x86_64")
    check(r.get("error") == "io.btfd.HubUnreachable" and negative_rows() == before,
          "a broken mirror is not \"not in hub\": %s" % r)
finally:
    stop(d)

# A site alias: rocky served as rhel, marked inexact, from the same cache entry.
conf = os.path.join(tmp, "alias.conf")
open(conf, "w").write("[Distro]\nAlias=rocky rhel\n")
d = start([aqua_url, datadog_url], conf)
try:
    r = get("rocky", "8.4", "x86_64", "4.18.0-305.el8.x86_64")
    p = r.get("parameters", {})
    check("error" not in r and p.get("exact") is False and p.get("cached") and kernel(r) == "rhel/8/x86_64/4.18.0-305.el8.x86_64",
          "alias answer: %s" % r)
    r = get("rhel", "8.4", "x86_64", "4.18.0-305.el8.x86_64")
    check(r.get("parameters", {}).get("exact") is True, "rhel itself stays exact: %s" % r)
finally:
    stop(d)

if failures:
    sys.stdout.write(open(os.path.join(tmp, "btfd.log")).read()[-4000:])
shutil.rmtree(tmp, ignore_errors=True)
finish()

#!/usr/bin/env python3
# btfctl mirror sync / export, end to end: a site mirror built from a loopback
# HTTP archive and from a directory; a second run copies nothing; a changed
# archive is copied again; a hostile or tampered archive is refused and named
# (nothing of it in the tree); a run killed half-way resumes without fetching
# again what it had; the tree works as btfd's file:// mirror and served by
# python's http.server (an alias included, checked against its SHA256SUMS);
# export writes btfd's cached kernels the same way and a fresh btfd gets them.
import hashlib, http.server, io, json, lzma, os, shutil, signal, subprocess, sys, tarfile, tempfile, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check, fatal, finish, hub_dir, serve_dir, source_root

btfd, btfctl, sample_obj = sys.argv[1:4]
tmp = tempfile.mkdtemp(prefix="btfd-mirror-test-")
src = os.path.join(tmp, "src")
U54, U511, D10 = ("ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz", "ubuntu/20.04/x86_64/5.11.0-1028-gcp.btf.tar.xz",
                  "debian/10/x86_64/4.19.0-17-amd64.btf.tar.xz")
for rel in (U54, U511, D10):
    os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
    shutil.copy(os.path.join(hub_dir(), rel), os.path.join(src, rel))
os.symlink("10", os.path.join(src, "debian", "buster"))  # as in btfhub-archive

def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()

def write_sums(root):
    lines = []
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".btf.tar.xz") and not f.startswith("."):
                rel = os.path.relpath(os.path.join(d, f), root)
                lines.append("%s  ./%s\n" % (sha(os.path.join(root, rel)), rel))
    open(os.path.join(root, "SHA256SUMS"), "w").write("".join(sorted(lines)))
write_sums(src)

def btf_of(archive_path):
    with tarfile.open(archive_path) as t:
        m = [m for m in t.getmembers() if m.isfile()][0]
        return m.name, t.extractfile(m).read()
_, fixture_btf = btf_of(os.path.join(src, D10))

def pack(release, btf, name=None, preset=0):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        ti = tarfile.TarInfo(name or release + ".btf"); ti.size = len(btf); t.addfile(ti, io.BytesIO(btf))
    return lzma.compress(raw.getvalue(), preset=preset)

# The archive over HTTP, counting requests; optionally slow (the resume test).
requests, delay = [], [0.0]
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        requests.append(self.path)
        if self.path.endswith(".btf.tar.xz"): time.sleep(delay[0])
        return super().do_GET()
srv, src_url = serve_dir(src, handler_base=Handler)

def sync(source, dest, *extra, timeout=300):
    p = subprocess.run([btfctl, "--json", "mirror", "sync", source, dest, *extra], capture_output=True, text=True, timeout=timeout)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        out = {}
    return p.returncode, out, p.stderr

def archives(path):
    return [r for r in requests if r.endswith(".btf.tar.xz") and path in r]

def visible_files(root):
    out = []
    for d, dirs, files in os.walk(root):
        out += [os.path.relpath(os.path.join(d, f), root) for f in files if not f.startswith(".")]
    return sorted(out)

# 1. From the HTTP archive: everything copied, byte for byte, listed in SHA256SUMS.
dest = os.path.join(tmp, "site")
rc, out, err = sync(src_url, dest)
check(rc == 0 and sorted(out.get("copied", [])) == sorted([U54, U511, D10]) and out.get("refused") == [],
      "first sync copies the three kernels: %s %s %s" % (rc, out, err))
for rel in (U54, U511, D10):
    check(os.path.isfile(os.path.join(dest, rel)) and sha(os.path.join(dest, rel)) == sha(os.path.join(src, rel)), "%s copied exactly" % rel)
sums = open(os.path.join(dest, "SHA256SUMS")).read()
for rel in (U54, U511, D10):
    check("%s  ./%s\n" % (sha(os.path.join(src, rel)), rel) in sums, "SHA256SUMS lists %s: %s" % (rel, sums))

# 2. Incremental: a second run copies nothing and downloads no archive.
n = len([r for r in requests if r.endswith(".btf.tar.xz")])
rc, out, err = sync(src_url, dest)
check(rc == 0 and out.get("copied") == [] and out.get("unchanged") == 3, "second sync copies nothing: %s %s" % (out, err))
check(len([r for r in requests if r.endswith(".btf.tar.xz")]) == n, "no archive downloaded again: %s" % requests[-5:])

# 3. A changed archive (repacked, listed anew) is copied again, alone.
_, btf511 = btf_of(os.path.join(src, U511))
open(os.path.join(src, U511), "wb").write(pack("5.11.0-1028-gcp", btf511, preset=1))
write_sums(src)
rc, out, err = sync(src_url, dest)
check(rc == 0 and out.get("copied") == [U511] and out.get("unchanged") == 2, "only the changed archive is copied: %s %s" % (out, err))
check(sha(os.path.join(dest, U511)) == sha(os.path.join(src, U511)), "the new bytes are in place")

# 4. Hostile and tampered archives are refused, named, and leave nothing behind.
EVIL = "ubuntu/20.04/x86_64/6.0.0-evil.btf.tar.xz"
open(os.path.join(src, EVIL), "wb").write(pack("6.0.0-evil", fixture_btf, name="../../../evil.btf"))
JUNK = "ubuntu/20.04/x86_64/6.0.1-junk.btf.tar.xz"
open(os.path.join(src, JUNK), "wb").write(lzma.compress(b"not a tar at all" * 100))
write_sums(src)
TAMPERED = "ubuntu/20.04/x86_64/6.0.2-tampered.btf.tar.xz"
open(os.path.join(src, TAMPERED), "wb").write(pack("6.0.2-tampered", fixture_btf))
with open(os.path.join(src, "SHA256SUMS"), "a") as f:
    f.write("%s  ./%s\n" % ("0" * 64, TAMPERED))
for source in (src_url, src):
    rc, out, err = sync(source, dest)
    refused = {r["path"]: r["error"] for r in out.get("refused", [])}
    check(rc == 1 and set(refused) == {EVIL, JUNK, TAMPERED}, "hostile archives refused from %s: %s %s" % (source, out, err))
    check("SHA256SUMS" in refused.get(TAMPERED, ""), "the tampered one fails the checksum: %s" % refused.get(TAMPERED))
    check(EVIL in refused and refused[EVIL], "the traversal is named: %s" % refused.get(EVIL))
    for rel in (EVIL, JUNK, TAMPERED):
        check(not os.path.exists(os.path.join(dest, rel)), "%s not in the tree" % rel)
check(not os.path.exists(os.path.join(tmp, "evil.btf")) and not os.path.exists(os.path.join(dest, "evil.btf")), "nothing written outside")
check(visible_files(dest) == sorted(["SHA256SUMS", U54, U511, D10]), "only good archives in the tree: %s" % visible_files(dest))
p = subprocess.run([btfctl, "mirror", "sync", src, dest], capture_output=True, text=True)
check(p.returncode == 1 and EVIL in p.stderr and "refused" in p.stderr, "text mode names the refused archive: %s" % p.stderr)
for rel in (EVIL, JUNK, TAMPERED):
    os.unlink(os.path.join(src, rel))
write_sums(src)

# 5. A directory source without SHA256SUMS, filtered: compared by content; the alias comes along.
bare = os.path.join(tmp, "bare")
shutil.copytree(src, bare, symlinks=True)
os.unlink(os.path.join(bare, "SHA256SUMS"))
dest2 = os.path.join(tmp, "site2")
rc, out, err = sync(bare, dest2, "--distro", "debian")
check(rc == 0 and out.get("copied") == [D10], "filtered directory sync: %s %s" % (out, err))
check(os.path.islink(os.path.join(dest2, "debian", "buster")) and os.readlink(os.path.join(dest2, "debian", "buster")) == "10",
      "the alias debian/buster -> 10 is kept")
check("./debian/buster/x86_64/4.19.0-17-amd64.btf.tar.xz" in open(os.path.join(dest2, "SHA256SUMS")).read(),
      "the alias's path is listed too")
rc, out, err = sync(bare, dest2, "--distro", "debian")
check(rc == 0 and out.get("unchanged") == 1 and out.get("copied") == [], "again: unchanged: %s" % out)
rc, out, err = sync(src_url, os.path.join(tmp, "x"), "--release-glob", "5.4*")
check(rc == 0 and out.get("copied") == [U54], "--release-glob: %s" % out)

# 6. Killed half-way, the next run resumes: what was in place is not fetched again.
big = os.path.join(tmp, "big")
releases = ["4.19.0-%d-amd64" % i for i in range(100, 116)]
os.makedirs(os.path.join(big, "debian", "10", "x86_64"))
for r in releases:
    open(os.path.join(big, "debian", "10", "x86_64", r + ".btf.tar.xz"), "wb").write(pack(r, fixture_btf))
write_sums(big)
bsrv, big_url = serve_dir(big, handler_base=Handler)
delay[0] = 0.25
dest3 = os.path.join(tmp, "site3")
proc = subprocess.Popen([btfctl, "--json", "mirror", "sync", big_url, dest3], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = time.time() + 60
while time.time() < deadline and len([f for f in visible_files(dest3) if f.endswith(".btf.tar.xz")]) < 5:
    time.sleep(0.05)
proc.send_signal(signal.SIGKILL); proc.wait()
had = [f for f in visible_files(dest3) if f.endswith(".btf.tar.xz")]
check(5 <= len(had) < len(releases), "killed part-way: %d of %d in place" % (len(had), len(releases)))
for f in had:
    check(btf_of(os.path.join(dest3, f))[1] == fixture_btf, "%s complete" % f)
delay[0] = 0.0
before = list(requests)
rc, out, err = sync(big_url, dest3)
check(rc == 0 and out.get("refused") == [] and len(out.get("copied", [])) == len(releases) - len(had) and out.get("unchanged") == len(had),
      "the second run copies only the rest: %d had, %s" % (len(had), out))
again = [r for r in requests[len(before):] if r.endswith(".btf.tar.xz")]
check(not [r for r in again if r.lstrip("/") in had], "nothing in place was downloaded again: %s" % again)
check(len(visible_files(dest3)) == len(releases) + 1 and sorted(open(os.path.join(dest3, "SHA256SUMS")).read().splitlines())
      == sorted(open(os.path.join(big, "SHA256SUMS")).read().splitlines()), "resumed tree complete with SHA256SUMS")

# 7. The tree as btfd's mirror: file:// and over HTTP (python's http.server, the alias through its symlink).
hostroot = os.path.join(tmp, "hostroot")
os.makedirs(os.path.join(hostroot, "etc"))
shutil.copy(os.path.join(source_root(), "tests", "data", "os-release", "ubuntu-20.04"), os.path.join(hostroot, "etc", "os-release"))
sock, log = os.path.join(tmp, "btfd.sock"), os.path.join(tmp, "btfd.log")
def start(mirror, cache):
    conf = os.path.join(tmp, "btfd.conf"); open(conf, "w").write("[Hub]\nMirrors=%s\n" % mirror)
    p = subprocess.Popen([btfd, "--config", conf, "--socket", sock, "--cache-dir", cache, "--idle-exit", "0",
                          "--host-root", hostroot, "--log-level", "debug"], stderr=open(log, "a"))
    varlink.wait_for_socket(sock, p)
    return p
def stop(p):
    p.send_signal(signal.SIGTERM); p.wait(timeout=20)
def get(distro, version, release):
    c = varlink.Conn(sock)
    r, fds = c.call("io.btfd.GetBtf", {"kernel": {"distro": distro, "version": version, "arch": "x86_64", "release": release}})
    c.close()
    data = os.pread(fds[0], 1 << 28, 0) if fds else b""
    for f in fds: os.close(f)
    return r, data

_, btf54 = btf_of(os.path.join(src, U54))
_, btf419 = btf_of(os.path.join(src, D10))
site_srv, site_url = serve_dir(dest)
cache = os.path.join(tmp, "cache")
for mirror in ("file://" + dest, site_url):
    shutil.rmtree(cache, ignore_errors=True)
    open(log, "w").close()
    p = start(mirror, cache)
    try:
        r, data = get("ubuntu", "20.04", "5.4.0-26-generic")
        check("error" not in r and r["parameters"]["source"] == "hub" and data == btf54, "btfd gets 5.4 from %s: %s" % (mirror, r))
        r, data = get("debian", "buster", "4.19.0-17-amd64")
        check("error" not in r and data == btf419, "btfd gets 4.19 through the buster alias from %s: %s" % (mirror, r))
    finally:
        stop(p)
    check(open(log).read().count("matches the mirror's SHA256SUMS") >= 2, "btfd checked both against the tree's SHA256SUMS (%s)" % mirror)

# 8. Export: btfd's cache (the two kernels just fetched) into a tree; a fresh btfd serves from it.
exported = os.path.join(tmp, "exported")
p = start(site_url, cache)
try:
    e = subprocess.run([btfctl, "--socket", sock, "--json", "mirror", "export", exported], capture_output=True, text=True, timeout=120)
    out = json.loads(e.stdout) if e.stdout.strip().startswith("{") else {}
    check(e.returncode == 0 and sorted(out.get("copied", [])) == sorted([U54, "debian/10/x86_64/4.19.0-17-amd64.btf.tar.xz"]),
          "export writes the cached kernels: %s %s" % (out, e.stderr))
    e2 = subprocess.run([btfctl, "--socket", sock, "--json", "mirror", "export", exported], capture_output=True, text=True, timeout=120)
    out2 = json.loads(e2.stdout) if e2.stdout.strip().startswith("{") else {}
    check(e2.returncode == 0 and out2.get("copied") == [] and out2.get("unchanged") == 2, "a second export changes nothing: %s" % out2)
finally:
    stop(p)
name, data = btf_of(os.path.join(exported, U54))
check(name == "5.4.0-26-generic.btf" and data == btf54, "exported archive holds the BTF under its release name")
cache2 = os.path.join(tmp, "cache2")
p = start("file://" + exported, cache2)
try:
    r, data = get("ubuntu", "20.04", "5.4.0-26-generic")
    check("error" not in r and data == btf54, "a fresh btfd gets 5.4 from the exported tree: %s" % r)
finally:
    stop(p)

# Exit codes of the commands that never talk to btfd: a filter matching nothing
# and a mirror that cannot be reached are failures (1); 3 means "btfd
# unreachable" only.
rc, out, err = sync(src_url, os.path.join(tmp, "none"), "--distro", "no-such-distro")
check(rc == 1 and "matches" in json.dumps(out), "a sync matching nothing exits 1: %s %s" % (rc, out))
rc, out, err = sync("http://127.0.0.1:9/", os.path.join(tmp, "down"))
check(rc == 1, "a sync from a mirror that cannot be reached exits 1, not 3: %s %s" % (rc, out))
rc, out, err = sync(src_url, os.path.join(tmp, "aliased"), "--distro", "ubuntu", "--version", "20.04")
rc2, out2, err2 = sync(src_url, os.path.join(tmp, "spelled"), "--distro", "ubuntu", "--distro-version", "20.04")
check(rc == 0 and rc2 == 0 and out.get("kernels") == out2.get("kernels") and out.get("kernels"),
      "--version is --distro-version in mirror sync: %s / %s" % (out, out2))
for cmd in (["check", sample_obj, "--from", "http://127.0.0.1:9/"],
            ["gen", sample_obj, "--from", "http://127.0.0.1:9/", "-o", os.path.join(tmp, "gen-down")]):
    p = subprocess.run([btfctl, *cmd], capture_output=True, text=True, timeout=120)
    check(p.returncode == 1, "%s from a mirror that cannot be reached exits 1: %d %s" % (cmd[0], p.returncode, p.stderr))

srv.shutdown(); bsrv.shutdown(); site_srv.shutdown()
shutil.rmtree(tmp, ignore_errors=True)
finish()

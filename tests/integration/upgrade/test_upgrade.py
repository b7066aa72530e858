#!/usr/bin/env python3
# Kernel upgrades: with a host-root fixture (ubuntu 20.04) and a loopback hub,
# creating <root>/lib/modules/<release>/ makes btfd fetch that kernel's BTF,
# pin it and pre-minimize it for the objects requested before. The install hook
# then socket-activates a stopped btfd, and exits 0 with a reason when btfd is
# unreachable.
import json, os, shutil, signal, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check, finish, serve_dir, shared_hub_dir

btfd, btfctl, hook, sample_obj = sys.argv[1:5]
hubdir = shared_hub_dir()

tmp = tempfile.mkdtemp(prefix="btfd-upgrade-test-")
root = os.path.join(tmp, "root")
os.makedirs(os.path.join(root, "etc")); os.makedirs(os.path.join(root, "lib/modules")); os.makedirs(os.path.join(root, "boot"))
open(os.path.join(root, "etc/os-release"), "w").write('ID=ubuntu\nVERSION_ID="20.04"\n')
srv, mirror = serve_dir(hubdir)
sock, cache = os.path.join(tmp, "s"), os.path.join(tmp, "cache")
common = ["--cache-dir", cache, "--mirror", mirror, "--host-root", root]
d = subprocess.Popen([btfd, "--socket", sock, "--idle-exit", "0", *common], stderr=open(os.path.join(tmp, "log"), "w"))
try:
    varlink.wait_for_socket(sock, d)
    c = varlink.Conn(sock)
    fd = os.open(sample_obj, os.O_RDONLY)
    r, fds = c.call("io.btfd.GetBtf", {"kernel": {"release": "5.4.0-26-generic"}, "objects": [0]}, fds=[fd])
    check("error" not in r, "object requested for the running kernel: %s" % r)
    before = len(c.call("io.btfd.ListKernels")[0]["parameters"]["minimized"])
    release = "5.11.0-1028-gcp"
    os.makedirs(os.path.join(root, "lib/modules", release, "kernel"))  # what a package install does
    deadline, entry, minimized = time.time() + 30, None, 0
    while time.time() < deadline:
        p = c.call("io.btfd.ListKernels")[0]["parameters"]
        entry = next((k for k in p["kernels"] if k["kernel"]["release"] == release), None)
        if entry:
            minimized = sum(1 for m in p["minimized"] if m["kernel_sha256"] == entry["sha256"])
            if minimized: break
        time.sleep(0.1)
    check(entry is not None and entry["kernel"]["distro"] == "ubuntu", "new kernel fetched: %s" % entry)
    check(entry is not None and entry["pinned"], "new kernel pinned")
    check(minimized >= 1, "pre-minimized for the remembered object (%d)" % minimized)
    st = c.call("io.btfd.Status")[0]["parameters"]["status"]
    check(st["prefetch"]["kernels_seen"] >= 1 and st["prefetch"]["runs"] >= 1, "status shows prefetch activity: %s" % st["prefetch"])
    c.close()
finally:
    d.send_signal(signal.SIGTERM); d.wait(timeout=30)

# Booting past it releases the pin: the running kernel's modules dir is newer.
running = os.path.join(root, "lib/modules", os.uname().release)
os.makedirs(running, exist_ok=True)
t = time.time() + 60
os.utime(running, (t, t))
d = subprocess.Popen([btfd, "--socket", sock, "--idle-exit", "0", *common], stderr=open(os.path.join(tmp, "log"), "a"))
try:
    varlink.wait_for_socket(sock, d)
    deadline, pinned = time.time() + 10, True
    c = varlink.Conn(sock)
    while time.time() < deadline and pinned:
        p = c.call("io.btfd.ListKernels")[0]["parameters"]
        pinned = any(k["pinned"] for k in p["kernels"] if k["kernel"]["release"] == "5.11.0-1028-gcp")
        time.sleep(0.1)
    c.close()
    check(not pinned, "pin released once a later kernel runs")
finally:
    d.send_signal(signal.SIGTERM); d.wait(timeout=30)

env = dict(os.environ, BTFCTL=btfctl, BTFD_HOOK_TIMEOUT="20")
# Daemon unreachable: exit 0, say why.
env["BTFD_SOCKET"] = os.path.join(tmp, "nobody-listens")
p = subprocess.run(["sh", hook, "5.4.0-26-generic"], env=env, capture_output=True, text=True, timeout=60)
check(p.returncode == 0 and "could not prefetch" in p.stderr, "hook with btfd unreachable: rc=%d %s" % (p.returncode, p.stderr))
# Daemon stopped but socket-activatable: the hook starts it and the entry appears.
sa = shutil.which("systemd-socket-activate")
if sa:
    asock = os.path.join(tmp, "activated")
    fresh = ["--cache-dir", os.path.join(tmp, "cache2"), "--mirror", mirror, "--host-root", root]
    act = subprocess.Popen([sa, "-l", asock, btfd, "--idle-exit", "3", *fresh], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(asock): break
        time.sleep(0.05)
    env["BTFD_SOCKET"] = asock
    p = subprocess.run(["sh", hook, "5.11.0-1028-gcp"], env=env, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and p.stderr == "", "hook with socket activation: %s" % p.stderr)
    out = subprocess.run([btfctl, "--socket", asock, "--json", "list"], capture_output=True, text=True)
    releases = [k["kernel"]["release"] for k in json.loads(out.stdout)["kernels"]] if out.returncode == 0 else []
    check("5.11.0-1028-gcp" in releases, "entry appears after the hook: %s" % out.stdout[:300])
    act.send_signal(signal.SIGTERM); act.wait(timeout=30)
srv.shutdown()
shutil.rmtree(tmp)
finish()

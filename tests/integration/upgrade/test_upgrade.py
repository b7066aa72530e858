#!/usr/bin/env python3
# Kernel upgrades: with a host-root fixture (ubuntu 20.04) and a loopback hub,
# creating <root>/lib/modules/<release>/ makes btfd fetch that kernel's BTF,
# pin it and pre-minimize it for the objects requested before; a kernel carrying
# its own BTF is not fetched; a prefetch that fails while the hub is down is
# retried and succeeds once it is back. The install hook
# then socket-activates a stopped btfd, and exits 0 with a reason when btfd is
# unreachable.
import json, os, shutil, signal, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check, finish, serve_dir, hub_dir

btfd, btfctl, hook, sample_obj = sys.argv[1:5]
hubdir = hub_dir()

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

    # A kernel whose vmlinux carries .BTF needs nothing from the hub: it is
    # seen, not fetched. (Any BPF object is an ELF file with a .BTF section.)
    native = "5.15.0-1-native"
    staged = os.path.join(tmp, native)
    os.makedirs(staged)
    shutil.copy(sample_obj, os.path.join(staged, "vmlinux"))
    seen, runs = st["prefetch"]["kernels_seen"], st["prefetch"]["runs"]
    os.rename(staged, os.path.join(root, "lib/modules", native))  # appears whole, vmlinux included
    deadline = time.time() + 15
    while time.time() < deadline and st["prefetch"]["kernels_seen"] == seen:
        time.sleep(0.1)
        st = c.call("io.btfd.Status")[0]["parameters"]["status"]
    time.sleep(0.5)
    st = c.call("io.btfd.Status")[0]["parameters"]["status"]
    kernels = c.call("io.btfd.ListKernels")[0]["parameters"]["kernels"]
    check(st["prefetch"]["kernels_seen"] == seen + 1, "kernel with its own BTF seen: %s" % st["prefetch"])
    check(st["prefetch"]["runs"] == runs and not any(k["kernel"]["release"] == native for k in kernels),
          "kernel with its own BTF not fetched: %s" % st["prefetch"])
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

# Hub down when a kernel is installed: the prefetch is retried from a timer
# (RetrySec=1 here: 1 s, then 2 s, ...) and succeeds once the hub is back.
root2 = os.path.join(tmp, "root2")
for sub in ("etc", "lib/modules", "boot"): os.makedirs(os.path.join(root2, sub))
shutil.copy(os.path.join(root, "etc/os-release"), os.path.join(root2, "etc/os-release"))
# The running kernel has its own BTF here, so the only prefetch is the new kernel's.
os.makedirs(os.path.join(root2, "sys/kernel/btf"))
open(os.path.join(root2, "sys/kernel/btf/vmlinux"), "w").write("placeholder: never read in this test\n")
conf = os.path.join(tmp, "retry.conf")
open(conf, "w").write("[Upgrade]\nRetrySec=1\n")
port = srv.server_address[1]
srv.shutdown(); srv.server_close()
sock3 = os.path.join(tmp, "s3")
d = subprocess.Popen([btfd, "--config", conf, "--socket", sock3, "--idle-exit", "0", "--cache-dir", os.path.join(tmp, "cache3"),
                      "--mirror", mirror, "--host-root", root2, "--connect-timeout", "500"],
                     stderr=open(os.path.join(tmp, "log"), "a"))
try:
    varlink.wait_for_socket(sock3, d)
    c = varlink.Conn(sock3)
    release = "5.11.0-1028-gcp"
    os.makedirs(os.path.join(root2, "lib/modules", release))
    deadline, failures_seen = time.time() + 20, 0
    while time.time() < deadline and not failures_seen:
        time.sleep(0.1)
        failures_seen = c.call("io.btfd.Status")[0]["parameters"]["status"]["prefetch"]["failures"]
    check(failures_seen >= 1, "prefetch failed while the hub was down")
    srv, _ = serve_dir(hubdir, port)
    deadline, entry = time.time() + 30, None
    while time.time() < deadline and not entry:
        time.sleep(0.2)
        kernels = c.call("io.btfd.ListKernels")[0]["parameters"]["kernels"]
        entry = next((k for k in kernels if k["kernel"]["release"] == release), None)
    check(entry is not None and entry["pinned"], "retried prefetch succeeded once the hub was back: %s" % entry)
    c.close()
finally:
    d.send_signal(signal.SIGTERM); d.wait(timeout=30)

# Refresh (what btfd-refresh.timer runs): a kernel the hub did not have at
# install time is fetched once the hub publishes it, despite the cached "not in
# hub"; kernels with their own BTF and missing ones are reported as such.
late = "5.11.0-1028-gcp"
hub2 = os.path.join(tmp, "hub2")
for dirpath, _, files in os.walk(hubdir):
    rel = os.path.relpath(dirpath, hubdir)
    os.makedirs(os.path.join(hub2, rel), exist_ok=True)
    for f in files:
        if f != late + ".btf.tar.xz":
            os.symlink(os.path.realpath(os.path.join(dirpath, f)), os.path.join(hub2, rel, f))
srv2, mirror2 = serve_dir(hub2)
root3 = os.path.join(tmp, "root3")
for sub in ("etc", "boot", "sys/kernel/btf", "lib/modules/" + late, "lib/modules/0.0.0-missing", "lib/modules/5.15.0-3-native"):
    os.makedirs(os.path.join(root3, sub))
shutil.copy(os.path.join(root, "etc/os-release"), os.path.join(root3, "etc/os-release"))
open(os.path.join(root3, "sys/kernel/btf/vmlinux"), "w").write("placeholder: never read in this test\n")
shutil.copy(sample_obj, os.path.join(root3, "lib/modules/5.15.0-3-native/vmlinux"))
sock4 = os.path.join(tmp, "s4")
d = subprocess.Popen([btfd, "--socket", sock4, "--idle-exit", "0", "--cache-dir", os.path.join(tmp, "cache4"),
                      "--mirror", mirror2, "--host-root", root3], stderr=open(os.path.join(tmp, "log"), "a"))
try:
    varlink.wait_for_socket(sock4, d)
    c = varlink.Conn(sock4)
    r, _ = c.call("io.btfd.GetBtf", {"kernel": {"release": late}})
    check(r.get("error") == "io.btfd.KernelNotInHub", "not in the hub yet: %s" % r)
    c.close()
    os.symlink(os.path.realpath(os.path.join(hubdir, "ubuntu/20.04/x86_64", late + ".btf.tar.xz")),
               os.path.join(hub2, "ubuntu/20.04/x86_64", late + ".btf.tar.xz"))  # the hub catches up
    def refresh():
        p = subprocess.run([btfctl, "--socket", sock4, "--json", "refresh"], capture_output=True, text=True, timeout=120)
        out = json.loads(p.stdout) if p.stdout.strip() else {}
        return p.returncode, {k["kernel"]["release"]: k["outcome"] for k in out.get("kernels", [])}
    rc, outcomes = refresh()
    check(rc == 0 and outcomes.get(late) == "fetched", "refresh fetches what the hub now has: %d %s" % (rc, outcomes))
    check(outcomes.get("0.0.0-missing") == "not-in-hub", "refresh reports a kernel the hub lacks: %s" % outcomes)
    check(outcomes.get("5.15.0-3-native") == "native" and outcomes.get(os.uname().release) == "native",
          "kernels with their own BTF are left alone: %s" % outcomes)
    rc, outcomes = refresh()
    check(rc == 0 and outcomes.get(late) == "cached", "a second refresh finds it cached: %s" % outcomes)
finally:
    d.send_signal(signal.SIGTERM); d.wait(timeout=30)
    srv2.shutdown()

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

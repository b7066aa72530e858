#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Transparent mode on a simulated BTF-less host (btfless.py: this kernel with
# /sys/kernel/btf hidden, ubuntu 20.04's os-release, a loopback mirror holding
# this kernel's real BTF), with real programs and a real CO-RE object:
#  1. an unmodified libbpf program fails to load the object, and cilium/ebpf's
#     LoadKernelSpec finds nothing;
#  2. the kernel "upgrade": the kernel's modules directory appears and the
#     postinst hook runs (prefetch, then btfctl transparent install), with
#     [Transparent] Enable=yes; off, the hook installs nothing;
#  3. "reboot": btfd stopped, the mirror gone: the unmodified program loads the
#     object with the BTF found at /lib/modules/R/vmlinux-R, and cilium/ebpf
#     finds that file (0.9.1 cannot parse BTF of kernels >= 6.0, kind 19: then
#     its error is a parse error, not "no BTF found"; step 7 shows it parses
#     btfd's file when the BTF is one it knows); then the upgrade to a NEW
#     release N: installed and prefetched while R runs, then a real reboot
#     into N (uname -r says N: btfless.py's booted()), where libbpf,
#     cilium/ebpf and a fresh btfd without a mirror find N's BTF already there;
#  4. the postrm hook removes btfd's file; the same object then loads through
#     libbtfd's helper with BTF minimized for it, from btfd's cache, no file;
#  5. a foreign file at the path is left alone by install and remove, named;
#  6. btfd-transparent.service's command (--all) installs for every installed
#     kernel from btfd's cache (a second kernel btfd's watcher prefetched), and
#     the postrm hook removes a kernel's directory once btfd's file (and a
#     killed install's temp file) was all that was left in it; a run deletes
#     a killed run's temp file and nothing else; btfctl status lists the files;
#  7. cilium/ebpf parses btfd's file when it holds a pre-6.0 kernel's BTF.
import hashlib, json, os, shutil, subprocess, sys, tarfile, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btfless
from btfless import BtflessHost, stop
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check, finish, fatal, skip_no_bpf, source_root

btfd, btfctl, plain_loader, libbtfd_loader, obj, gotool, go_work, hooks = sys.argv[1:9]
postinst, postrm = os.path.join(hooks, "btfd-prefetch.sh"), os.path.join(hooks, "btfd-kernel-removed.sh")


def run(args, env=None, timeout=120):
    p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


# bpf(2) first, on the real host (native BTF there): the loader must load it.
rc, out = run([plain_loader, obj])
if rc != 0:
    if "Operation not permitted" in out or "(-1)" in out:
        skip_no_bpf("loading %s: %s" % (obj, out.strip()[-200:]))
    fatal("the unmodified loader fails even with native BTF: %s" % out)

# cilium/ebpf 0.9.1 through Debian's Go (clients/go/gotool.sh), built before
# the namespace hides anything.
tmp = tempfile.mkdtemp(prefix="btfd-btfless-")
cilium_find = os.path.join(tmp, "cilium-find")
rc, out = run([gotool, go_work, "build", "-o", cilium_find,
               os.path.join(os.path.dirname(os.path.abspath(__file__)), "cilium_find.go")], timeout=600)
if rc != 0:
    fatal("building cilium_find.go: %s" % out)

host = BtflessHost(tmp, "ubuntu-20.04").enter()
R = host.release
R2 = R + "-next"  # a second kernel, prefetched by btfd's watcher (step 6)
N = host.booted_release()  # the kernel the host is upgraded to and "reboots" into (step 3)
real = host.real_btf()
sha = hashlib.sha256(real).hexdigest()
path = "/lib/modules/%s/vmlinux-%s" % (R, R)  # where libbpf and cilium/ebpf look
check(not os.path.exists(btfless.NATIVE_BTF), "native BTF hidden in the namespace")
mirror_dir = host.make_mirror("hub", {R: real, R2: real, N: real})
srv, mirror = host.serve(mirror_dir)
conf_on, conf_off = os.path.join(tmp, "on.conf"), os.path.join(tmp, "off.conf")
open(conf_on, "w").write("[Transparent]\nEnable=yes\n")
open(conf_off, "w").write("[Transparent]\nEnable=no\n")
sock, cache = os.path.join(tmp, "btfd.sock"), os.path.join(tmp, "cache")
env = dict(os.environ, BTFD_SOCKET=sock, BTFCTL=btfctl, BTFD_HOOK_TIMEOUT="60")
ctl = [btfctl, "--socket", sock]
d = None


def status_of(release, conf=conf_on):
    rc, out = run(ctl + ["--json", "transparent", "status", "--release", release, "--config", conf])
    check(rc == 0, "transparent status %s: %s" % (release, out))
    try:
        return json.loads(out)["kernels"][0]
    except (ValueError, KeyError, IndexError):
        check(False, "transparent status JSON: %s" % out)
        return {}


try:
    d = host.start_btfd(btfd, sock, cache, mirror)

    # 1. Before btfd: nothing for an unmodified program to find.
    rc, out = run([plain_loader, obj])
    check(rc == 1 and "load: failed" in out, "unmodified libbpf cannot load the CO-RE object before btfd: %s" % out)
    rc, out = run([cilium_find])
    check(rc == 1 and "no BTF found for kernel version " + R in out, "cilium/ebpf finds no BTF before btfd: %s" % out)
    st = status_of(R)
    check(st.get("state") == "absent" and st.get("native_btf") is False and st.get("path") == path,
          "status before: no file, no native BTF: %s" % st)
    rc, out = run(host.booted([plain_loader, obj]))
    check(rc == 1 and "load: failed" in out, "booted into %s before its upgrade: libbpf finds nothing: %s" % (N, out))

    # 2. The kernel upgrade, first with transparent mode off: prefetch only.
    host.install_kernel(R)
    rc, out = run(["sh", postinst, R], env=dict(env, BTFD_CONFIG=conf_off))
    check(rc == 0 and not os.path.exists(path), "mode off: the hook installs no file (%d): %s" % (rc, out))
    rc, out = run(ctl + ["transparent", "install", "--if-enabled", "--release", R, "--config", conf_off])
    check(rc == 0 and "transparent mode is off" in out and not os.path.exists(path), "--if-enabled when off: %s" % out)
    # ... and on: the hook installs btfd's file before the "reboot".
    rc, out = run(["sh", postinst, R], env=dict(env, BTFD_CONFIG=conf_on))
    check(rc == 0 and out == "", "postinst hook with the mode on: quiet, exit 0 (%d): %s" % (rc, out))
    st = status_of(R)
    check(st.get("state") == "installed" and st.get("btf_sha256") == sha,
          "btfd's file holds this kernel's BTF: %s" % st)
    check(oct(os.stat(path).st_mode & 0o7777) == "0o644" and os.stat(path).st_uid == 0, "root's file, mode 0644")
    leftovers = [f for f in os.listdir(os.path.dirname(path)) if f not in ("modules.dep", os.path.basename(path))]
    check(not leftovers, "no temporary files left: %s" % leftovers)
    # btfctl status (the daemon's status plus the files on this host).
    rc, out = run(ctl + ["--json", "status"])
    files = json.loads(out).get("transparent", []) if rc == 0 else []
    check(any(f.get("release") == R and f.get("path") == path for f in files), "btfctl status lists the file: %s" % out)
    rc, out = run(ctl + ["status"])
    check(rc == 0 and ("transparent: %s at %s" % (R, path)) in out, "btfctl status says it: %s" % out)
    # A second kernel appears: btfd's watcher prefetches it (used in step 6).
    host.install_kernel(R2, files=())
    deadline, seen = time.time() + 30, False
    c = varlink.Conn(sock)
    while time.time() < deadline and not seen:
        seen = any(k["kernel"]["release"] == R2 for k in c.call("io.btfd.ListKernels")[0]["parameters"]["kernels"])
        time.sleep(0.1)
    c.close()
    check(seen, "btfd's watcher prefetched the second kernel")
    # The upgrade to N, the kernel the host reboots into in step 3: its package
    # lands while R runs, the hook prefetches and installs N's file.
    pathN = "/lib/modules/%s/vmlinux-%s" % (N, N)
    host.install_kernel(N)
    rc, out = run(["sh", postinst, N], env=dict(env, BTFD_CONFIG=conf_on))
    check(rc == 0 and status_of(N).get("state") == "installed" and status_of(N).get("btf_sha256") == sha,
          "the upgrade hook installed %s before the reboot (%d): %s" % (pathN, rc, out))

    # 3. "Reboot": btfd stopped and the mirror gone; the file is what is left.
    stop(d); d = None
    srv.shutdown(); srv.server_close()
    rc, out = run([plain_loader, obj])
    check(rc == 0 and "load: ok" in out, "unmodified libbpf loads the CO-RE object after the upgrade: %s" % out)
    check(("loading kernel BTF '%s': 0" % path) in out, "libbpf took the BTF from btfd's file: %s" % out)
    rc, out = run([cilium_find])
    found = rc == 0 or ("no BTF found" not in out and "unknown kind" in out)
    check(found, "cilium/ebpf finds btfd's file (0.9.1 parses kernels < 6.0 only): %s" % out)
    print("cilium/ebpf 0.9.1 on this kernel's BTF:", out.strip())
    # The reboot into N: uname -r says N now, for the programs and for btfd.
    rc, out = run(host.booted(["uname", "-r"]))
    check(out.strip() == N, "after the reboot the running kernel is %s: %s" % (N, out))
    rc, out = run(host.booted([plain_loader, obj]))
    check(rc == 0 and ("loading kernel BTF '%s': 0" % pathN) in out,
          "booted into %s: unmodified libbpf loads with the BTF installed before the reboot: %s" % (N, out))
    rc, out = run(host.booted([cilium_find]))
    check(rc == 0 or ("no BTF found" not in out and "unknown kind" in out),
          "booted into %s: cilium/ebpf finds the file: %s" % (N, out))
    d = host.start_btfd(btfd, sock, cache, mirror, booted=True)  # the mirror is still gone
    rc, out = run(host.booted(ctl + ["--json", "get"]))
    j = json.loads(out) if rc == 0 and out.startswith("{") else {}
    check(j.get("cached") is True, "booted into %s: btfd serves the running kernel from its cache, no mirror: %s" % (N, out))
    rc, out = run(host.booted(ctl + ["--json", "transparent", "status", "--config", conf_on]))
    k = json.loads(out).get("kernels", [{}])[0] if rc == 0 else {}
    check(k.get("release") == N and k.get("state") == "installed" and k.get("path") == pathN,
          "booted: transparent status is about the running kernel %s: %s" % (N, out))
    stop(d); d = None

    # 4. The kernel removal hook takes btfd's file; libbtfd's helper still
    # loads the object, with BTF minimized for it from btfd's cache.
    d = host.start_btfd(btfd, sock, cache, mirror)
    rc, out = run(["sh", postrm, R], env=dict(env, BTFD_CONFIG=conf_off))
    check(rc == 0 and not os.path.exists(path), "postrm hook removes btfd's file even with the mode off: %s" % out)
    check(os.path.isdir(os.path.dirname(path)), "the kernel's directory, still holding its files, stays")
    host.remove_kernel_files(N)
    rc, out = run(["sh", postrm, N], env=dict(env, BTFD_CONFIG=conf_on))
    check(rc == 0 and not os.path.exists(os.path.dirname(pathN)), "N removed: its file and directory go: %s" % out)
    rc, out = run([plain_loader, obj])
    check(rc == 1 and "load: failed" in out, "without the file the unmodified program fails again: %s" % out)
    c = varlink.Conn(sock)
    minimized_before = len(c.call("io.btfd.ListKernels")[0]["parameters"]["minimized"])
    rc, out = run([libbtfd_loader, obj], env=env)
    check(rc == 0 and "load: ok" in out and "btf: /proc/self/fd/" in out,
          "libbtfd's helper loads the object with btfd's minimized BTF: %s" % out)
    minimized_after = len(c.call("io.btfd.ListKernels")[0]["parameters"]["minimized"])
    c.close()
    check(minimized_after == minimized_before + 1, "btfd minimized for the object (%d -> %d)" % (minimized_before, minimized_after))
    check(not os.path.exists(path), "no transparent file was involved")

    # 5. A foreign file at the path (a real vmlinux, say: an ELF with .BTF) is
    # left alone by install and remove, each saying why.
    shutil.copyfile(obj, path)
    before = open(path, "rb").read()
    rc, out = run(ctl + ["transparent", "install", "--release", R, "--config", conf_on])
    check(rc == 1 and "is not btfd's file" in out and "left alone" in out, "install refuses a foreign file: %s" % out)
    rc, out = run(ctl + ["--json", "transparent", "remove", "--release", R, "--config", conf_on])
    check(rc == 1 and json.loads(out).get("error", {}).get("code") == "permission", "remove refuses it (JSON): %s" % out)
    rc, out = run(["sh", postrm, R], env=env)
    check(rc == 0 and "left alone" in out, "the postrm hook reports it and exits 0: %s" % out)
    check(open(path, "rb").read() == before, "the foreign file is unchanged")
    st = status_of(R)
    check(st.get("state") == "foreign" and "real vmlinux" in st.get("reason", ""), "status names it foreign: %s" % st)
    os.unlink(path)

    # 6. The timer's oneshot (btfd-transparent.service): every installed kernel,
    # from btfd's cache (the mirror is still gone).
    rc, out = run(ctl + ["--json", "transparent", "install", "--all", "--if-enabled", "--config", conf_on])
    outcomes = {k["release"]: k["outcome"] for k in json.loads(out).get("kernels", [])} if rc == 0 else {}
    check(outcomes == {R: "installed", R2: "installed"}, "--all installs every kernel from the cache (%d): %s" % (rc, out))
    # A run killed mid-write (the hook's timeout, a stopped oneshot) left its
    # temp file; the next run deletes it, and only it: not a similar name, not
    # a link with its name (nor the link's target).
    mods = os.path.dirname(path)
    leftover = path + ".tmp.3735928559"
    open(leftover, "wb").write(b"\0" * (1 << 20))
    similar = [path + ".tmp.keep", path + ".tmp.123456789012", os.path.join(mods, "vmlinux.tmp.1")]
    for f in similar:
        open(f, "w").write("someone else's\n")
    os.symlink(similar[0], path + ".tmp.77")
    rc, out = run(ctl + ["--json", "transparent", "install", "--all", "--if-enabled", "--config", conf_on])
    outcomes = {k["release"]: k["outcome"] for k in json.loads(out).get("kernels", [])} if rc == 0 else {}
    check(outcomes == {R: "unchanged", R2: "unchanged"}, "a second run leaves current files alone: %s" % out)
    check(not os.path.exists(leftover), "the killed run's temp file is gone")
    check(all(open(f).read() == "someone else's\n" for f in similar), "files with similar names stay")
    check(os.path.islink(path + ".tmp.77"), "a link with a temp file's name stays")
    for f in similar + [path + ".tmp.77"]:
        os.unlink(f)
    path2 = "/lib/modules/%s/vmlinux-%s" % (R2, R2)
    check(status_of(R2).get("btf_sha256") == sha, "the second kernel's file")
    rc, out = run(ctl + ["--json", "status"])
    files = json.loads(out).get("transparent", []) if rc == 0 else []
    check(sorted(f.get("release") for f in files) == sorted([R, R2]), "btfctl status lists both: %s" % files)
    # Removing the second kernel: its package's files go, then the hook; btfd's
    # file (and a killed install's temp file beside it) was all that kept the
    # directory, so it goes too.
    open(path2 + ".tmp.42", "wb").write(b"\0" * 4096)
    rc, out = run(["sh", postrm, R2], env=dict(env, BTFD_CONFIG=conf_on))
    check(rc == 0 and not os.path.exists(os.path.dirname(path2)), "postrm removes the file and the emptied directory: %s" % out)
    rc, out = run(ctl + ["transparent", "remove", "--release", R, "--config", conf_on])
    check(rc == 0 and not os.path.exists(path) and os.path.isdir(os.path.dirname(path)), "btfctl transparent remove: %s" % out)
    rc, out = run(ctl + ["transparent", "remove", "--release", R, "--config", conf_on])
    check(rc == 0 and "absent" in out, "removing again: nothing there: %s" % out)
    stop(d); d = None

    # 7. cilium/ebpf 0.9.1 parses btfd's ELF when the BTF is one it knows: a
    # mirror serving a 5.11 kernel's BTF (the repo's fixture) under this
    # release, a fresh btfd, btfctl transparent install.
    src = os.path.join(source_root(), "tests/data/btfhub/ubuntu/20.04/x86_64/5.11.0-1028-gcp.btf.tar.xz")
    with tarfile.open(src) as t:
        old = t.extractfile("5.11.0-1028-gcp.btf").read()
    srv, mirror = host.serve(host.make_mirror("hub-5.11", {R: old}))
    d = host.start_btfd(btfd, sock, os.path.join(tmp, "cache-5.11"), mirror)
    rc, out = run(ctl + ["transparent", "install", "--config", conf_on])
    check(rc == 0 and "installed" in out and path in out, "install for the running kernel: %s" % out)
    rc, out = run([cilium_find])
    n = int(out.split()[1]) if rc == 0 and out.startswith("spec: ") else 0
    check(n > 10000, "cilium/ebpf's LoadKernelSpec parses btfd's file: %s" % out)
    rc, out = run(ctl + ["transparent", "remove", "--config", conf_on])
    check(rc == 0 and not os.path.exists(path), "removed: %s" % out)
finally:
    stop(d)
    srv.shutdown()
    host.cleanup()
finish()

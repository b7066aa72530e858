# SPDX-License-Identifier: GPL-2.0-or-later
"""A simulated BTF-less host for end-to-end tests (see README.md here).

BtflessHost(tmp).enter() moves this process (and every child it starts later)
into a private mount namespace where:
  - /sys/kernel/btf is an empty tmpfs: no native BTF, for the kernel or modules;
  - /etc/os-release is a real distro's (tests/data/os-release/<name>);
  - /boot, /usr/lib/debug and the modules directory (/lib/modules is
    /usr/lib/modules here) are empty tmpfs, so no vmlinux libbpf or cilium/ebpf
    could find is left; install_kernel() makes a release "installed";
  - where a mount point is missing on the real host, /usr/lib (or its nearest
    existing ancestor) is overlaid with a tmpfs upper layer first.
Nothing on the real host changes: every mount lives in the namespace, which
ends with the process. Before hiding it, this kernel's real BTF is copied to
tmp, and make_mirror() packs it as a btfhub-archive layout mirror (.btf.tar.xz
per release, SHA256SUMS) that serve() puts on 127.0.0.1.
"""
import ctypes, errno, hashlib, io, os, shutil, subprocess, sys, tarfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib, varlink

CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE, MNT_DETACH = 0x1000, 0x4000, 0x40000, 2
NATIVE_BTF = "/sys/kernel/btf/vmlinux"

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype, flags, data=None):
    if _libc.mount(source.encode() if source else None, target.encode(), fstype.encode() if fstype else None,
                   ctypes.c_ulong(flags), data.encode() if data else None) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "mount %s on %s: %s" % (fstype or source, target, os.strerror(e)))


def os_release_file(name):
    """tests/data/os-release/<name>: a real distro's os-release."""
    path = os.path.join(testlib.source_root(), "tests", "data", "os-release", name)
    if not os.path.isfile(path):
        testlib.fatal("no os-release fixture %s" % path)
    return path


def parse_os_release(path):
    out = {}
    for line in open(path):
        line = line.strip()
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k] = v.strip().strip('"').strip("'")
    return out


def archive_arch():
    m = os.uname().machine
    return {"aarch64": "arm64", "amd64": "x86_64"}.get(m, m)


class BtflessHost:
    def __init__(self, tmp, os_release="ubuntu-20.04"):
        self.tmp = tmp
        self.release = os.uname().release
        self.os_release_path = os_release_file(os_release)
        osr = parse_os_release(self.os_release_path)
        # The archive directory btfd asks for (ID/VERSION_ID verbatim for ubuntu,
        # sles, fedora; see common/kernel/distros.conf for the others).
        self.distro, self.version, self.arch = osr["ID"], osr.get("VERSION_ID", "rolling"), archive_arch()
        self.btf_path = os.path.join(tmp, "kernel.btf")  # this kernel's real BTF, copied before hiding
        self.modules_dir = "/lib/modules"
        self.entered = False

    # -- entering ---------------------------------------------------------
    def enter(self):
        """Copies the real BTF, then unshares the mount namespace and hides it.
        Exits 77 ("SKIP: not root") without the privilege; a host that has no
        BTF to copy is a failure (the mirror needs this kernel's real BTF)."""
        if os.geteuid() != 0:
            testlib.skip_not_root("mount namespaces need root")
        if not os.path.exists(NATIVE_BTF):
            testlib.fatal("%s is missing: the fixture needs this kernel's real BTF to serve" % NATIVE_BTF)
        shutil.copyfile(NATIVE_BTF, self.btf_path)
        if _libc.unshare(CLONE_NEWNS) != 0:
            e = ctypes.get_errno()
            if e in (errno.EPERM, errno.EACCES):
                testlib.skip_not_root("unshare(CLONE_NEWNS): %s" % os.strerror(e))
            raise OSError(e, "unshare: " + os.strerror(e))
        _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing propagates back to the host
        scratch = os.path.join(self.tmp, "ns")
        os.makedirs(scratch, exist_ok=True)
        _mount("btfless", scratch, "tmpfs", 0, "mode=0755")
        self._scratch = scratch
        self._hide("/sys/kernel/btf")
        # /lib/modules is /usr/lib/modules on a merged-/usr host.
        self.modules_dir = os.path.realpath("/lib/modules") if os.path.lexists("/lib") else "/lib/modules"
        for d in ("/boot", "/usr/lib/debug", self.modules_dir):
            self._hide(d)
        # os-release: a bind mount of the fixture's copy over the real file
        # (a link such as /etc/os-release -> ../usr/lib/os-release is followed).
        fake = os.path.join(scratch, "os-release")
        shutil.copyfile(self.os_release_path, fake)
        _mount(fake, os.path.realpath("/etc/os-release"), None, MS_BIND)
        self.entered = True
        return self

    def _hide(self, path):
        """An empty tmpfs over path, creating the mount point in an overlay
        when the real host has none there."""
        if not os.path.isdir(path):
            self._make_mount_point(path)
        _mount("btfless", path, "tmpfs", 0, "mode=0755")

    def _make_mount_point(self, path):
        parent = os.path.dirname(path)
        while not os.path.isdir(parent):
            parent = os.path.dirname(parent)
        n = len(os.listdir(self._scratch))
        upper, work = os.path.join(self._scratch, "upper%d" % n), os.path.join(self._scratch, "work%d" % n)
        os.makedirs(upper); os.makedirs(work)
        _mount("btfless", parent, "overlay", 0, "lowerdir=%s,upperdir=%s,workdir=%s" % (parent, upper, work))
        os.makedirs(path, exist_ok=True)

    # -- the host's kernels -----------------------------------------------
    def install_kernel(self, release, files=("modules.dep",)):
        """What a kernel package leaves behind: its modules directory (with
        files, so that removing btfd's file alone does not empty it)."""
        d = os.path.join(self.modules_dir, release)
        os.makedirs(d, exist_ok=True)
        for f in files:
            open(os.path.join(d, f), "w").close()
        return d

    def remove_kernel_files(self, release, files=("modules.dep",)):
        """What a package removal does before the postrm hook: its own files go."""
        for f in files:
            p = os.path.join(self.modules_dir, release, f)
            if os.path.exists(p):
                os.unlink(p)

    # -- booting another release -------------------------------------------
    # uname(2) ignores mount and UTS namespaces for the release, but the
    # kernel's UNAME26 personality (setarch --uname-2.6) makes it report
    # "2.6.<60 + minor><rest>" to a process and everything it starts (Go's
    # raw syscall included). Run under it, a program is on a host whose
    # running kernel is that other release: the simulated "reboot" into a
    # kernel that was installed (and prefetched) while this one ran.
    def booted_release(self):
        """The release a program started by booted() sees (setarch(8) asks
        the kernel, so no formula is assumed here)."""
        out = subprocess.run(self.booted(["uname", "-r"]), capture_output=True, text=True, check=True).stdout.strip()
        if not out or out == self.release:
            testlib.fatal("setarch --uname-2.6 left the release at %r" % out)
        return out

    @staticmethod
    def booted(argv):
        """argv, run as on the host booted into booted_release()."""
        return ["setarch", os.uname().machine, "--uname-2.6"] + list(argv)

    # -- the mirror --------------------------------------------------------
    def hub_path(self, release):
        return "%s/%s/%s/%s.btf.tar.xz" % (self.distro, self.version, self.arch, release)

    def make_mirror(self, name, kernels):
        """A btfhub-archive layout under tmp/name: kernels maps a release to the
        raw BTF bytes its archive holds (<release>.btf inside, as btfhub packs
        it), with SHA256SUMS. Returns the directory."""
        root = os.path.join(self.tmp, name)
        sums = []
        for release, btf in sorted(kernels.items()):
            rel = self.hub_path(release)
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with tarfile.open(path, "w:xz", preset=1) as tar:
                info = tarfile.TarInfo(release + ".btf")
                info.size, info.mode, info.mtime = len(btf), 0o644, int(time.time())
                tar.addfile(info, io.BytesIO(btf))
            sums.append("%s  ./%s\n" % (hashlib.sha256(open(path, "rb").read()).hexdigest(), rel))
        open(os.path.join(root, "SHA256SUMS"), "w").write("".join(sums))
        return root

    def real_btf(self):
        return open(self.btf_path, "rb").read()

    @staticmethod
    def serve(directory):
        """(server, URL) of a loopback HTTP mirror; server.shutdown() stops it."""
        return testlib.serve_dir(directory)

    # -- btfd ----------------------------------------------------------------
    def start_btfd(self, btfd, sock, cache, mirror, config=None, log=None, booted=False):
        """btfd on sock as the simulated host sees itself (no --host-root: the
        namespace is the host); booted: after the reboot into
        booted_release(). Returns the process once the socket answers."""
        args = [btfd, "--socket", sock, "--idle-exit", "0", "--cache-dir", cache, "--mirror", mirror]
        if config:
            args[1:1] = ["--config", config]
        if booted:
            args = self.booted(args)
        p = subprocess.Popen(args, stderr=open(log or os.path.join(self.tmp, "btfd.log"), "a"))
        varlink.wait_for_socket(sock, p)
        return p


    def cleanup(self):
        """Detaches the fixture's scratch tmpfs and removes tmp (the namespace's
        other mounts end with the process)."""
        if self.entered:
            _libc.umount2(self._scratch.encode(), MNT_DETACH)
        shutil.rmtree(self.tmp, ignore_errors=True)


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill(); proc.wait()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs a command on the simulated BTF-less host (btfless.py; README.md here):

  run.py [--os-release NAME] [--btfd PATH] -- COMMAND [ARG...]

as root. The command runs in the private mount namespace (no
/sys/kernel/btf/vmlinux, tests/data/os-release/NAME as /etc/os-release, empty
/boot, /usr/lib/debug and modules directory but for this kernel's, which is
"installed"), with $BTFLESS_MIRROR the loopback mirror holding this kernel's
real BTF and $BTFLESS_RELEASE the release. With --btfd, a btfd using that
mirror listens on $BTFD_SOCKET. Exits with the command's status (77 with
"SKIP: not root" without the privilege)."""
import argparse, os, subprocess, sys, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from btfless import BtflessHost, stop

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--os-release", default="ubuntu-20.04", help="a file name in tests/data/os-release")
ap.add_argument("--btfd", help="start this btfd on the simulated host")
ap.add_argument("command", nargs="+")
a = ap.parse_args()
host = BtflessHost(tempfile.mkdtemp(prefix="btfd-btfless-"), a.os_release).enter()
srv, mirror = host.serve(host.make_mirror("hub", {host.release: host.real_btf()}))
host.install_kernel(host.release)
env = dict(os.environ, BTFLESS_MIRROR=mirror, BTFLESS_RELEASE=host.release)
d = None
try:
    if a.btfd:
        env["BTFD_SOCKET"] = os.path.join(host.tmp, "btfd.sock")
        d = host.start_btfd(a.btfd, env["BTFD_SOCKET"], os.path.join(host.tmp, "cache"), mirror)
    rc = subprocess.call(a.command, env=env)
finally:
    stop(d)
    srv.shutdown()
    host.cleanup()
sys.exit(rc)

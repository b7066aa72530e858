#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Prefetches the BTF of a kernel that is being installed, by asking btfd (which
# systemd socket-activates). Installed as /etc/kernel/postinst.d/btfd (Debian,
# Ubuntu: called with the version as $1) and, through 50-btfd.install, as a
# kernel-install plugin. It must never fail a kernel installation: it is bounded
# in time, always exits 0 and only reports on failure. With transparent mode on,
# it then installs the kernel's BTF file (btfctl transparent install).
release=$1
[ -n "$release" ] || exit 0
btfctl=${BTFCTL:-btfctl}
limit=${BTFD_HOOK_TIMEOUT:-120}
if ! command -v "$btfctl" >/dev/null 2>&1; then
	echo "btfd: $btfctl not found; BTF for $release not prefetched" >&2
	exit 0
fi
if ! out=$(timeout "$limit" "$btfctl" --quiet prefetch --release "$release" 2>&1); then
	echo "btfd: could not prefetch BTF for $release: ${out:-timed out after ${limit}s}" >&2
	command -v logger >/dev/null 2>&1 && logger -t btfd "could not prefetch BTF for $release: $out"
	exit 0
fi
# Transparent mode (btfd.conf [Transparent] Enable=yes; off by default): the
# BTF just prefetched goes where unmodified libbpf and cilium/ebpf look, before
# the first boot of the new kernel. Root writes it here; btfd cannot.
# $BTFD_CONFIG names another btfd.conf (tests).
if ! out=$(timeout "$limit" "$btfctl" --quiet transparent install --if-enabled --release "$release" \
		${BTFD_CONFIG:+--config "$BTFD_CONFIG"} 2>&1); then
	echo "btfd: could not install the transparent BTF file for $release: ${out:-timed out after ${limit}s}" >&2
	command -v logger >/dev/null 2>&1 && logger -t btfd "could not install the transparent BTF file for $release: $out"
fi
exit 0

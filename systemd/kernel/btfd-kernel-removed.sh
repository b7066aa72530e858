#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Removes btfd's transparent BTF file of a kernel that is being removed
# (btfctl transparent remove: only btfd's own file, never a real vmlinux).
# Installed as /etc/kernel/postrm.d/btfd (Debian, Ubuntu: called with the
# version as $1) and, through 50-btfd.install, as a kernel-install plugin. It
# must never fail a kernel removal: it is bounded in time, always exits 0 and
# only reports on failure. It runs whether transparent mode is on or not: a file
# installed while it was on still goes with its kernel.
release=$1
[ -n "$release" ] || exit 0
btfctl=${BTFCTL:-btfctl}
limit=${BTFD_HOOK_TIMEOUT:-30}
if ! command -v "$btfctl" >/dev/null 2>&1; then
	echo "btfd: $btfctl not found; transparent BTF file of $release not checked" >&2
	exit 0
fi
if out=$(timeout "$limit" "$btfctl" --quiet transparent remove --release "$release" \
		${BTFD_CONFIG:+--config "$BTFD_CONFIG"} 2>&1); then
	exit 0
fi
echo "btfd: could not remove the transparent BTF file of $release: ${out:-timed out after ${limit}s}" >&2
command -v logger >/dev/null 2>&1 && logger -t btfd "could not remove the transparent BTF file of $release: $out"
exit 0

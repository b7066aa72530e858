#!/bin/sh
# Writes vmlinux.h for the BPF test objects: from this machine's kernel BTF when
# it has one, else the checked-in header, which names every type the objects use
# (so the objects, and the tests using them, exist on every host).
# usage: gen-vmlinux-h.sh OUT FALLBACK [KERNEL_BTF]
# KERNEL_BTF (default /sys/kernel/btf/vmlinux; BTFD_VMLINUX_BTF overrides) lets
# a build check the fallback path: point it at a file that does not exist.
set -eu
out=$1 fallback=$2
btf=${3:-${BTFD_VMLINUX_BTF:-/sys/kernel/btf/vmlinux}}
if [ -r "$btf" ] && command -v bpftool >/dev/null 2>&1 &&
   bpftool btf dump file "$btf" format c >"$out.tmp" 2>/dev/null; then
  mv "$out.tmp" "$out"
else
  rm -f "$out.tmp"
  cp "$fallback" "$out"
fi

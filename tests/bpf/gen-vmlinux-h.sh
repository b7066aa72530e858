#!/bin/sh
# Writes vmlinux.h for the BPF test objects: from this machine's kernel BTF when
# it has one, else the small checked-in header (enough for the test programs).
set -eu
out=$1 fallback=$2
if [ -r /sys/kernel/btf/vmlinux ] && command -v bpftool >/dev/null 2>&1 &&
   bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$out.tmp" 2>/dev/null; then
  mv "$out.tmp" "$out"
else
  rm -f "$out.tmp"
  cp "$fallback" "$out"
fi

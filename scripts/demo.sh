#!/bin/bash
# README command 1: install what is missing, build, start a private btfd (own
# socket and cache directory), and get this machine's kernel BTF plus a BTF
# minimized for a sample BPF object built from the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

work=$(mktemp -d /tmp/btfd-demo.XXXXXX)
sock=$work/btfd.sock
build/daemon/btfd --socket "$sock" --cache-dir "$work/cache" --idle-exit 0 --log-level warning &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done

btfctl() { build/cli/btfctl --socket "$sock" "$@"; }
echo "== this host"
build/cli/btfctl host
echo
echo "== btfctl get (this kernel's BTF)"
btfctl get -o "$work/vmlinux.btf"
echo
echo "== btfctl get --object build/tests/bpf/sample.bpf.o (minimized for it)"
btfctl get --object build/tests/bpf/sample.bpf.o -o "$work/sample.min.btf"
echo
echo "== again: now from the cache"
btfctl get --object build/tests/bpf/sample.bpf.o | grep -E '^(size|source)'
if command -v bpftool >/dev/null; then
  echo
  echo "== the minimized BTF, as bpftool sees it"
  bpftool btf dump file "$work/sample.min.btf"
fi
echo
btfctl status
echo
echo "(the files above live in $work and are removed when this script exits)"

#!/bin/bash
# Runs the minimizer benchmark on this kernel's BTF and every kernel in
# ../shared/btfhub-sample (unpacked to a temp dir), with all BPF test objects.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
kernels=()
[ -r /sys/kernel/btf/vmlinux ] && kernels+=(/sys/kernel/btf/vmlinux)
if [ -d "$root/../shared/btfhub-sample" ]; then
  while IFS= read -r f; do
    tar -xJf "$f" -C "$tmp"
  done < <(find "$root/../shared/btfhub-sample" -name '*.btf.tar.xz' | sort)
  kernels+=("$tmp"/*.btf)
fi
objs=("$build"/tests/bpf/sample.bpf.o)
for o in kinds match_void_tm exists_void norelo; do
  [ -f "$build/tests/bpf/$o.bpf.o" ] && objs+=("$build/tests/bpf/$o.bpf.o")
done
"$build/bench/btf/bench-minimize" "$build/cli/btfctl" "${kernels[@]}" -- "${objs[@]}"

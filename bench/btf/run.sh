#!/bin/bash
# Runs the minimizer benchmark (cold btfctl minimize vs bpftool gen
# min_core_btf, in pairs) on every real btfhub kernel at hand (tests/data, plus
# ../shared/btfhub-sample when present), with one object (sample.bpf.o) and
# with all objects: the BPF test objects and the 50 tools of bench/gen/tools.
# usage: bench/btf/run.sh BUILD [PAIRS]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
pairs=${2:-15}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/../common/lib.sh"
mapfile -t kernels < <(unpack_kernels "$tmp/kernels")
mapfile -t tools < <(compile_tools "$tmp/tools")
objs=("$build"/tests/bpf/sample.bpf.o)
for o in kinds match_void_tm exists_void norelo check_progs guarded; do
  [ -f "$build/tests/bpf/$o.bpf.o" ] && objs+=("$build/tests/bpf/$o.bpf.o")
done
echo "minimize: ${#kernels[@]} kernels, ${#objs[@]} test objects + ${#tools[@]} tools, $pairs pairs, load $(load_now)"
"$build/bench/btf/bench-minimize" --pairs "$pairs" "$build/cli/btfctl" "${kernels[@]}" -- "${objs[@]}" "${tools[@]}"
echo "load after: $(load_now)"

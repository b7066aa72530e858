#!/bin/bash
# Starts a private btfd and times a warm btfd_ensure_core_btf_for_file with a
# real BPF object of ~700 KB (the largest of bench/gen/tools, compiled here)
# against SHA-256 of the object's bytes in the same process (bench-ensure).
# usage: bench/client/run.sh BUILD [PAIRS [OBJECT]]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
pairs=${2:-200}
tmp=$(mktemp -d)
btfd_pid=
trap 'kill $btfd_pid 2>/dev/null; rm -rf "$tmp"' EXIT
source "$(dirname "$0")/../common/lib.sh"
object=${3:-}
[ -n "$object" ] || object=$(compile_tools "$tmp/tools" | head -1)
start_btfd "$build"
echo "ensure: $object, $pairs pairs, load $(load_now)"
LD_LIBRARY_PATH="$build/libclient" "$build/bench/client/bench-ensure" "$tmp/btfd.sock" "$object" "$pairs"
echo "load after: $(load_now)"

#!/bin/bash
# Starts a private btfd, warms its cache with this host's BTF, and a bare
# server (bench-bare-server) that hands out the same file; then measures
# cache-hit GetBtf against both with the same client in the same run, 1 and 16
# clients (bench-daemon), and btfd's RSS: after the load, with a parsed kernel
# hot in memory (a minimizing request; the 44 MB sample kernel when ../shared
# is there), and once that hot data is dropped.
# usage: bench/daemon/run.sh BUILD [PAIRS [SECONDS]]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
pairs=${2:-15}
seconds=${3:-0.5}
tmp=$(mktemp -d)
btfd_pid= bare_pid=
trap 'kill $btfd_pid $bare_pid 2>/dev/null; rm -rf "$tmp"' EXIT
source "$(dirname "$0")/../common/lib.sh"
printf '[Cache]\nHotKernelIdleSec=2\n' > "$tmp/btfd.conf"
mirror=()
sample=$root/../shared/btfhub-sample
[ -d "$sample" ] && mirror=(--mirror "$sample")
start_btfd "$build" --config "$tmp/btfd.conf" "${mirror[@]}"
served=$("$build/cli/btfctl" --socket "$tmp/btfd.sock" --json get | python3 -c 'import json,sys; print(json.load(sys.stdin)["path"] or "")')
[ -r "$served" ] || served=/sys/kernel/btf/vmlinux
"$build/bench/daemon/bench-bare-server" "$tmp/bare.sock" "$served" &
bare_pid=$!
for _ in $(seq 100); do [ -S "$tmp/bare.sock" ] && break; sleep 0.05; done
rss() { awk '/VmRSS/ {printf "%.1f MB", $2 / 1024}' /proc/$btfd_pid/status; }
echo "cache hit: btfd and the bare server hand out $served; $pairs pairs of ${seconds}s, load $(load_now)"
echo "btfd RSS after warm-up: $(rss)"
"$build/bench/daemon/bench-daemon" "$tmp/btfd.sock" "$tmp/bare.sock" "$pairs" "$seconds"
echo "load after: $(load_now)"
echo "btfd RSS after load: $(rss)"
kernel=()
[ -d "$sample" ] && kernel=(--distro centos --distro-version 8 --arch x86_64 --release 4.18.0-147.el8.x86_64)
"$build/cli/btfctl" --socket "$tmp/btfd.sock" --quiet get "${kernel[@]}" --object "$build/tests/bpf/sample.bpf.o" \
  -o "$tmp/min.btf" >/dev/null
echo "btfd RSS with a kernel hot (${kernel[*]:-this host}): $(rss)"
sleep 4
echo "btfd RSS after hot data is dropped: $(rss)"
echo "absolute goals: median <= 100 us, p99 <= 1 ms, >= 20000 req/s, RSS <= 15 MB after hot data is dropped"

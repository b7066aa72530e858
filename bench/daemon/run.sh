#!/bin/bash
# Starts a private btfd, warms its cache with this host's BTF, then measures
# cache-hit GetBtf with 1 and 16 concurrent clients, and the daemon's RSS: after
# the load, with a parsed kernel hot in memory (a minimizing request; the 44 MB
# sample kernel when ../shared is there), and once that hot data is dropped.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
printf '[Cache]\nHotKernelIdleSec=2\n' > "$tmp/btfd.conf"
mirror=()
sample=$root/../shared/btfhub-sample
[ -d "$sample" ] && mirror=(--mirror "$sample")
"$build/daemon/btfd" --config "$tmp/btfd.conf" --socket "$tmp/s" --cache-dir "$tmp/c" --idle-exit 0 \
  --log-level warning "${mirror[@]}" &
pid=$!
for _ in $(seq 100); do [ -S "$tmp/s" ] && break; sleep 0.05; done
"$build/cli/btfctl" --socket "$tmp/s" --quiet get >/dev/null
rss() { awk '/VmRSS/ {printf "%.1f MB", $2 / 1024}' /proc/$pid/status; }
echo "btfd RSS after warm-up: $(rss)"
"$build/bench/daemon/bench-daemon" "$tmp/s" 1 3
"$build/bench/daemon/bench-daemon" "$tmp/s" 16 3
echo "btfd RSS after load: $(rss)"
kernel=()
[ -d "$sample" ] && kernel=(--distro centos --distro-version 8 --arch x86_64 --release 4.18.0-147.el8.x86_64)
"$build/cli/btfctl" --socket "$tmp/s" --quiet get "${kernel[@]}" --object "$build/tests/bpf/sample.bpf.o" \
  -o "$tmp/min.btf" >/dev/null
echo "btfd RSS with a kernel hot (${kernel[*]:-this host}): $(rss)"
sleep 4
echo "btfd RSS after hot data is dropped: $(rss)"
echo "goals: median <= 100 us, p99 <= 1 ms, >= 20000 req/s, RSS <= 15 MB after hot data is dropped"

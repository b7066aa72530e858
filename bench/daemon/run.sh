#!/bin/bash
# Starts a private btfd, warms its cache with this host's BTF, then measures
# cache-hit GetBtf with 1 and 16 concurrent clients, and the daemon's RSS.
set -euo pipefail
build=${1:-build}
tmp=$(mktemp -d); trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
"$build/daemon/btfd" --socket "$tmp/s" --cache-dir "$tmp/c" --idle-exit 0 --log-level warning &
pid=$!
for _ in $(seq 100); do [ -S "$tmp/s" ] && break; sleep 0.05; done
"$build/cli/btfctl" --socket "$tmp/s" --quiet get >/dev/null
rss() { awk '/VmRSS/ {print $2 / 1024 " MB"}' /proc/$pid/status; }
echo "btfd RSS after warm-up: $(rss)"
"$build/bench/daemon/bench-daemon" "$tmp/s" 1 3
"$build/bench/daemon/bench-daemon" "$tmp/s" 16 3
echo "btfd RSS after load: $(rss)"
echo "goals: median <= 100 us, p99 <= 1 ms, >= 20000 req/s, RSS <= 15 MB after hot data is dropped"

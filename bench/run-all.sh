#!/bin/bash
# Every row of issue #28, each against its reference in the same run, in
# pairs; prints each program's details, then the rows:
#   figure: NAME: btfd X [p25–p75], reference Y [..], ratio Z× [..] over N pairs (goal G): meets|misses
# Figures on a machine running other work are noisy: the load average is
# printed before and after each program. No row fails the run.
# usage: bench/run-all.sh BUILD [PAIRS]
# Needs: btfd, btfctl, btfd-fetch, libbtfd, tests/bpf objects, bench programs
# and hub-fetch-tool built in BUILD; bpftool, clang, curl, xz on PATH.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
pairs=${2:-15}
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp); trap 'rm -f "$log"' EXIT
echo "bench/run-all.sh: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $pairs pairs, $(date -u +%FT%TZ)"
{
  "$here/btf/run.sh" "$build" "$pairs"
  "$here/daemon/run.sh" "$build" "$pairs"
  "$here/client/run.sh" "$build" $((pairs * 20))
  "$here/hub/bench_hub.py" "$build" "$pairs"
} 2>&1 | tee "$log"
echo
echo "== issue #28's rows (medians, [interquartile range]); load now $(cut -d' ' -f1-3 /proc/loadavg)"
grep '^figure: ' "$log"

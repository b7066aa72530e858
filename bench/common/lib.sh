# Shared by the bench scripts (sourced, not run): kernels, objects and a
# private btfd. Every function works under `set -euo pipefail`; $tmp must be a
# temporary directory the caller removes.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Prints the BTF files of every real btfhub kernel at hand, unpacked into $1:
# tests/data's, then ../shared/btfhub-sample's (optional) that tests/data lacks.
unpack_kernels() {
  local out=$1 f name
  mkdir -p "$out"
  while IFS= read -r f; do
    name=$(basename "$f" .tar.xz)
    [ -e "$out/$name" ] && continue
    tar -xJf "$f" -C "$out"
    echo "$out/$name"
  done < <(find "$root/tests/data/btfhub" "$root/../shared/btfhub-sample" -name '*.btf.tar.xz' 2>/dev/null | sort)
}

# Compiles bench/gen/tools (50 tracing tools of libbpf-tools' size) into $1 as
# bench/gen/bench_gen.py does, against a vmlinux.h of the 5.11 fixture kernel
# whatever the host runs; prints the objects, largest first.
compile_tools() {
  local out=$1 c
  mkdir -p "$out"
  tar -xJf "$root/tests/data/btfhub/ubuntu/20.04/x86_64/5.11.0-1028-gcp.btf.tar.xz" -C "$out"
  bpftool btf dump file "$out/5.11.0-1028-gcp.btf" format c > "$out/vmlinux.h"
  rm "$out/5.11.0-1028-gcp.btf"
  for c in "$root"/bench/gen/tools/*.bpf.c; do
    clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Wno-unused-value -Wno-unused-function \
      -I"$out" -I"$root/bench/gen/tools" -c "$c" -o "$out/$(basename "$c" .c).o"
  done
  ls -S "$out"/*.bpf.o
}

# Starts btfd on $tmp/btfd.sock with a cache in $tmp/cache and waits until it
# answers; extra arguments go to btfd. Sets btfd_pid.
start_btfd() {
  local build=$1
  shift
  "$build/daemon/btfd" --socket "$tmp/btfd.sock" --cache-dir "$tmp/cache" --idle-exit 0 --log-level warning "$@" &
  btfd_pid=$!
  for _ in $(seq 200); do
    "$build/cli/btfctl" --socket "$tmp/btfd.sock" --quiet status >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "btfd did not start" >&2
  return 1
}

# The load average over the last minute, for the record: figures taken while
# other work runs on the same cores are noisy.
load_now() { cut -d' ' -f1 /proc/loadavg; }

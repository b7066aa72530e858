#!/bin/bash
# The symbols libbtfd.so exports are exactly those its checked-in map lists.
set -euo pipefail
lib=$1 map=$2
exported=$(nm -D --defined-only "$lib" | awk '$3 !~ /^LIBBTFD_/ {sub(/@.*/, "", $3); print $3}' | sort)
listed=$(sed -n 's/^[[:space:]]*\(btfd_[a-z_0-9]*\);/\1/p' "$map" | sort)
if [ "$exported" != "$listed" ]; then
  diff <(echo "$listed") <(echo "$exported") || true
  echo "exported symbols differ from $map"; exit 1
fi
[ -n "$exported" ] || { echo "no symbols exported"; exit 1; }
objdump -p "$lib" | grep -q 'SONAME.*libbtfd.so.1' || { echo "soname is not libbtfd.so.1"; exit 1; }
echo "ok: $(echo "$exported" | wc -l) symbols"

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
# Each symbol keeps the version node the map gives it (a 1.0 symbol moved to a
# later node would break every program linked against 1.0).
versioned=$(nm -D --defined-only "$lib" | awk '$3 ~ /@@LIBBTFD_/ {split($3, a, "@@"); print a[1], a[2]}' | sort)
mapped=$(awk '/^LIBBTFD_[0-9.]+ *\{/ {node=$1} /^[[:space:]]*btfd_[a-z_0-9]*;/ {gsub(/[[:space:];]/, ""); print $0, node}' "$map" | sort)
if [ "$versioned" != "$mapped" ]; then
  diff <(echo "$mapped") <(echo "$versioned") || true
  echo "symbol versions differ from $map"; exit 1
fi
objdump -p "$lib" | grep -q 'SONAME.*libbtfd.so.1' || { echo "soname is not libbtfd.so.1"; exit 1; }
# One version everywhere: the newest node of the map (LIBBTFD_1.3) is the
# library's file version (libbtfd.so.1.3.0) and pkg-config's --modversion.
newest=$(sed -n 's/^LIBBTFD_\([0-9.]*\) *{.*/\1/p' "$map" | sort -V | tail -1)
pc=$(dirname "$lib")/../meson-private/libbtfd.pc
modversion=$(sed -n 's/^Version: *//p' "$pc")
[ "$modversion" = "$newest.0" ] || { echo "libbtfd.pc says $modversion, the map's newest node is $newest"; exit 1; }
[ -e "$(dirname "$lib")/libbtfd.so.$newest.0" ] || { echo "no libbtfd.so.$newest.0 next to $lib"; exit 1; }
echo "ok: $(echo "$exported" | wc -l) symbols"

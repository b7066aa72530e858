#!/bin/bash
# README command 1: install what is missing, build, and run the main job on this
# machine: this kernel's identity and where its BTF comes from.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
build/cli/btfctl host

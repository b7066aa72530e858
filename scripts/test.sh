#!/bin/bash
# README command 2: install what is missing, build, run the whole test suite.
# BUILD_DIR and MESON_ARGS select a variant (e.g. the ASan+UBSan build).
# The run fails when a test fails, when an expected test is not registered, or
# when a test skipped for anything but privileges (scripts/check-tests.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
build=${BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  # shellcheck disable=SC2086
  meson setup "$build" ${MESON_ARGS:-}
fi
ninja -C "$build"
rc=0
meson test -C "$build" --print-errorlogs --num-processes "${TEST_JOBS:-2}" "$@" || rc=$?
scripts/check-tests.sh "$build" || rc=1
exit $rc

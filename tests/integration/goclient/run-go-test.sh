#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds a Go package's test binary offline (clients/go/gotool.sh) and runs it,
# so that its exit status (77: skipped for privileges) is the test's.
#   run-go-test.sh [--race] GOTOOL WORKDIR IMPORT-PATH [VAR=VALUE...]
# --race builds with the race detector (cgo, gcc).
set -eu
race=
if [ "$1" = --race ]; then race=-race; shift; fi
gotool=$1 work=$2 pkg=$3
shift 3
bin="$work/$(basename "$pkg")$race.test"
"$gotool" "$work" vet "$pkg"
if [ -n "$race" ]; then
  CGO_ENABLED=1 "$gotool" "$work" test -c -race -o "$bin" "$pkg"
else
  "$gotool" "$work" test -c -o "$bin" "$pkg"
fi
# As `go test` does: the binary runs in the package's directory.
cd "$("$gotool" "$work" list -f '{{.Dir}}' "$pkg")"
exec env "$@" "$bin" -test.v -test.count=1 -test.timeout=240s

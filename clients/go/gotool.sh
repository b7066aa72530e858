#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the go tool on this module offline, in GOPATH mode, against the Debian
# packages' sources: golang-go (Go 1.19) and golang-github-cilium-ebpf-dev
# (cilium/ebpf 0.9.1 and golang.org/x/sys under /usr/share/gocode/src). No
# module proxy, no downloads, nothing written to the source tree.
#   clients/go/gotool.sh WORKDIR GO-ARGS...   e.g. WORKDIR test github.com/btfd/btfd/clients/go/btfd
# WORKDIR holds the GOPATH (a symlink to this directory under its import
# path) and the build cache. Builds are pure Go (CGO_ENABLED=0) unless
# CGO_ENABLED=1 is set, as -race needs.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: gotool.sh WORKDIR GO-ARGS...}
shift
mkdir -p "$work/gopath/src/github.com/btfd/btfd/clients" "$work/cache"
work=$(cd "$work" && pwd)
link="$work/gopath/src/github.com/btfd/btfd/clients/go"
if [ "$(readlink "$link" 2>/dev/null || true)" != "$src" ]; then
  # Atomic: tests that run this in parallel never see the link missing.
  ln -sfn "$src" "$link.tmp.$$"
  mv -Tf "$link.tmp.$$" "$link"
fi
export GO111MODULE=off GOPATH="$work/gopath:/usr/share/gocode" GOCACHE="$work/cache" \
  GOPROXY=off GOFLAGS= GOENV=off GOTOOLCHAIN=local CGO_ENABLED="${CGO_ENABLED:-0}"
cd "$work"
exec go "$@"

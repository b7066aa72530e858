#!/bin/bash
# Installs every Debian 12 package btfd needs to build, test and package itself.
# Only calls apt-get when something is missing (or when --update is given).
# The list is the single source of truth; .ci/run and the README use it.
set -euo pipefail

packages=(
  # build
  meson ninja-build pkg-config g++ cmake
  libbpf-dev libelf-dev libcurl4-openssl-dev libssl-dev libarchive-dev libsqlite3-dev
  libsystemd-dev nlohmann-json3-dev doctest-dev scdoc
  # tests: BPF objects, references, loopback hub, archive tools, socket activation
  clang llvm libclang-rt-14-dev bpftool pahole python3 xz-utils gzip tar curl systemd
  python3-yaml  # checks docs/examples/daemonset.yaml
  iproute2 util-linux
  openssl  # the hub-network test makes its CA and certificates at test time
  # the Go client (clients/go): Go 1.19 and cilium/ebpf 0.9.1, built offline
  golang-go golang-github-cilium-ebpf-dev
  # packaging: .deb and .rpm builds, lintian
  debhelper dpkg-dev fakeroot lintian rpm
  # the installed packages under a real systemd, in a container
  debootstrap systemd-container
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${1:-}" = "--update" ] || [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages: ${missing[*]}; run as root (sudo) to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${packages[@]}"
fi

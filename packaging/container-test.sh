#!/bin/bash
# The .debs as a user gets them: installed in a fresh Debian 12 container that
# boots a real systemd (PID 1 on the CI machine is not systemd), then checked
# through the installed units, sandbox and access rules:
# - the package creates the btfd-admin group and enables both sockets;
# - btfd starts by socket activation under its hardening (DynamicUser, no
#   capabilities, LimitNOFILE) and serves this kernel and a hub kernel;
# - a plain user may get BTF but not GarbageCollect; a member of btfd-admin may
#   (through the admin socket), and a non-member cannot even connect there.
# Needs root, debootstrap and systemd-nspawn; ROOT_CACHE reuses a bootstrap.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/packaging/out
[ "$(id -u)" -eq 0 ] || { echo "container-test: needs root"; exit 1; }
work=$(mktemp -d /var/tmp/btfd-container.XXXXXX)
machine=$work/root
cleanup() {
  [ -n "${nspawn_pid:-}" ] && kill "$nspawn_pid" 2>/dev/null && wait "$nspawn_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
if [ -n "${ROOT_CACHE:-}" ] && [ -d "$ROOT_CACHE" ]; then
  cp -a "$ROOT_CACHE" "$machine"
else
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$machine" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log"; exit 1; }
fi
cp "$out"/btfd_*.deb "$out"/libbtfd1_*.deb "$machine/root/"
mkdir -p "$machine/srv/hub/ubuntu/20.04/x86_64"
cp "$root/tests/data/btfhub/ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz" "$machine/srv/hub/ubuntu/20.04/x86_64/"
# Install with the package manager, offline-resolvable dependencies from the
# container's apt; then configure a file:// mirror.
systemd-nspawn --register=no --keep-unit -q -D "$machine" /bin/sh -ec '
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q /root/libbtfd1_*.deb /root/btfd_*.deb >/root/apt.log 2>&1 || { tail -20 /root/apt.log; exit 1; }
  useradd -m alice
  useradd -m -G btfd-admin bob
  # A drop-in, as sites should configure btfd (the shipped btfd.conf stays as it is).
  printf "[Hub]\nMirrors=file:///srv/hub\n" >/etc/btfd/btfd.conf.d/50-test.conf
' || { echo "container-test: install failed"; exit 1; }
systemd-nspawn --register=no --keep-unit -q -b -D "$machine" >"$work/boot.log" 2>&1 &
nspawn_pid=$!
leader=""
for _ in $(seq 100); do
  leader=$(pgrep -P "$nspawn_pid" | head -1 || true)
  [ -n "$leader" ] && nsenter -t "$leader" -a systemctl is-system-running --wait >/dev/null 2>&1 && break
  sleep 0.2
done
[ -n "$leader" ] || { cat "$work/boot.log"; echo "container-test: the container did not boot"; exit 1; }
fail=0
in_ct() { nsenter -t "$leader" -a "$@"; }
check() {  # check WHAT CMD...: CMD must succeed inside the container
  local what=$1; shift
  if in_ct "$@" >"$work/out" 2>&1; then echo "ok: $what"; else echo "FAIL: $what"; cat "$work/out"; fail=1; fi
}
check "btfd.socket and btfd-admin.socket are active after install" systemctl is-active btfd.socket btfd-admin.socket
check "the admin socket is 0660, group btfd-admin" sh -c '[ "$(stat -c %a:%G /run/btfd/admin.sock)" = 660:btfd-admin ]'
check "root gets this kernel's BTF" btfctl get
check "a plain user gets a kernel from the hub" runuser -u alice -- btfctl get --distro ubuntu --distro-version 20.04 \
  --arch x86_64 --release 5.4.0-26-generic
check "btfd runs unprivileged with no capabilities and LimitNOFILE=8192" sh -c '
  pid=$(systemctl show -p MainPID --value btfd.service)
  [ "$pid" -gt 0 ] && ! grep -q "^Uid:.*\b0\b" /proc/$pid/status && grep -q "^CapEff:.*0000000000000000" /proc/$pid/status &&
  grep -q "^Max open files *8192" /proc/$pid/limits'
check "a plain user may not GarbageCollect" sh -c 'runuser -u alice -- btfctl gc 2>&1 | grep -q PermissionDenied'
check "a btfd-admin member may, through the admin socket" runuser -u bob -- btfctl gc
check "a non-member cannot connect to the admin socket" sh -c '! runuser -u alice -- btfctl --socket /run/btfd/admin.sock status'
check "verify re-hashes the installed cache" runuser -u bob -- btfctl verify
check "the shipped btfd.conf is installed unmodified, as a conffile" sh -c '
  dpkg-query -W -f="\${Conffiles}" btfd | grep -q "/etc/btfd/btfd.conf [0-9a-f]" && dpkg --verify btfd'
check "a file:// mirror under /tmp is refused at start-up, naming PrivateTmp=" sh -c '
  printf "[Hub]\nMirrors=file:///tmp/hub\n" >/etc/btfd/btfd.conf.d/90-tmp.conf
  systemctl stop btfd.service
  btfctl status >/dev/null 2>&1 || true
  for i in $(seq 50); do
    journalctl -u btfd.service --no-pager | grep -q "which btfd.service hides (PrivateTmp=yes)" && ok=1 && break
    sleep 0.1
  done
  rm /etc/btfd/btfd.conf.d/90-tmp.conf
  systemctl reset-failed btfd.service btfd.socket; systemctl restart btfd.socket
  [ "${ok:-}" = 1 ]'
check "btfd serves again once the drop-in is gone" btfctl get
[ $fail -eq 0 ] || { in_ct journalctl -u btfd.service --no-pager | tail -20; exit 1; }
echo "container test: ok"

#!/bin/bash
# The .debs as a user gets them: installed in a fresh Debian 12 container that
# boots a real systemd (PID 1 on the CI machine is not systemd), then checked
# through the installed units, sandbox and access rules:
# - the package creates the btfd-admin group and enables both sockets;
# - btfd starts by socket activation under its hardening (DynamicUser, no
#   capabilities, LimitNOFILE) and serves this kernel and a hub kernel;
# - a plain user may get BTF but not GarbageCollect; a member of btfd-admin may
#   (through the admin socket), and a non-member cannot even connect there;
# - per-UID budgets are per real uid: with MaxConnectionsPerUser=3, alice's 4th
#   connection gets Busy naming her uid while carol still gets BTF, the journal
#   names alice's uid, and AllowGroup= recognizes a member on the public socket;
#   the same checks fail with the old unit's PrivateUsers=yes (as a drop-in),
#   under which btfd saw every peer but root as nobody (65534);
# - btfd runs under the unit's MemoryHigh=, MemoryMax= and TasksMax=.
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
  useradd -m carol
  # A drop-in, as sites should configure btfd (the shipped btfd.conf stays as it is).
  printf "[Hub]\nMirrors=file:///srv/hub\n" >/etc/btfd/btfd.conf.d/50-test.conf
  # A small per-user budget, to see whose it is; the btfd-admin group may call
  # privileged methods on the public socket too.
  printf "[Limits]\nMaxConnectionsPerUser=3\n[Access]\nAllowGroup=btfd-admin\n" >/etc/btfd/btfd.conf.d/60-per-uid.conf
' || { echo "container-test: install failed"; exit 1; }
# hold-connections N FLAG: N connections to btfd's socket, each answered (Status),
# then held until FLAG exists (60 s at most). Perl: minbase has no python or socat.
cat >"$machine/usr/local/bin/hold-connections" <<'PERL'
#!/usr/bin/perl
use strict; use warnings; use IO::Socket::UNIX; use Socket;
my ($n, $flag) = @ARGV;
my @held;
$| = 1;
for my $i (1 .. $n) {
  my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => "/run/btfd/btfd.sock") or die "connection $i: $!\n";
  print $s qq({"method":"io.btfd.Status","parameters":{}}\0);
  local $/ = "\0";
  my $r = <$s>;
  die "connection $i: no reply\n" unless defined $r;
  die "connection $i: $r\n" if $r =~ /"error"/;
  push @held, $s;
}
print "held $n\n";
for (1 .. 600) { last if -e $flag; select(undef, undef, undef, 0.1); }
close $_ for @held;
print "released\n";
PERL
chmod 755 "$machine/usr/local/bin/hold-connections"
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

# Per-UID budgets are per real uid.
alice=$(in_ct id -u alice) carol=$(in_ct id -u carol)
expect() {  # expect pass|fail WHAT CMD...: CMD inside the container must succeed, or fail
  local want=$1 what=$2 got=fail
  shift 2
  in_ct "$@" >"$work/out" 2>&1 && got=pass
  if [ "$got" = "$want" ] && [ "$want" = pass ]; then
    echo "ok: $what"
  elif [ "$got" = "$want" ]; then
    echo "ok: fails under PrivateUsers=yes: $what ($(tail -1 "$work/out"))"
  else
    echo "FAIL: $what (expected to $want)"; cat "$work/out"; fail=1
  fi
}
per_uid_checks() {  # per_uid_checks pass|fail
  local want=$1
  in_ct sh -c 'rm -f /tmp/held /tmp/release; runuser -u alice -- hold-connections 3 /tmp/release >/tmp/held 2>&1 &'
  for _ in $(seq 100); do in_ct grep -q "held 3" /tmp/held && break; sleep 0.1; done
  expect pass "alice holds 3 connections (MaxConnectionsPerUser=3)" grep -q "held 3" /tmp/held
  expect "$want" "alice's 4th connection gets Busy naming her uid, $alice" sh -c "
    runuser -u alice -- btfctl status 2>&1 | tee /dev/stderr | grep Busy | grep -q 'uid $alice '"
  expect "$want" "carol (uid $carol) gets BTF meanwhile" runuser -u carol -- btfctl get
  # Released, and btfd has seen it: alice may connect again.
  in_ct sh -c 'touch /tmp/release; for i in $(seq 50); do
    grep -q released /tmp/held && runuser -u alice -- btfctl status >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1'
  expect "$want" "the journal names alice's uid, $alice, for her failed request" sh -c "
    runuser -u alice -- btfctl get --distro ubuntu --distro-version 20.04 --arch x86_64 --release 9.9.9-$want >/dev/null 2>&1
    for i in \$(seq 50); do
      line=\$(journalctl -u btfd.service --no-pager -o cat | grep 'failed: .*9\.9\.9-$want' | tail -1)
      [ -n \"\$line\" ] && break
      sleep 0.1
    done
    echo \"\$line\"
    case \"\$line\" in *'(uid $alice) failed'*) exit 0 ;; esac
    exit 1"
  expect "$want" "a btfd-admin member may GarbageCollect through the public socket (AllowGroup=)" \
    runuser -u bob -- btfctl --socket /run/btfd/btfd.sock gc
}
check "btfd is in no user namespace of its own" sh -c '
  pid=$(systemctl show -p MainPID --value btfd.service); [ "$pid" -gt 0 ] &&
  [ "$(readlink /proc/$pid/ns/user)" = "$(readlink /proc/1/ns/user)" ]'
per_uid_checks pass
# The same with the old unit's PrivateUsers=yes, which showed btfd alice and
# carol as one user, 65534, and no one's groups: the checks must fail.
old=/etc/systemd/system/btfd.service.d/90-old-unit.conf
check "the old unit's PrivateUsers=yes (a drop-in) puts btfd in a user namespace of its own" sh -c "
  mkdir -p ${old%/*} && printf '[Service]\nPrivateUsers=yes\n' >$old && systemctl daemon-reload &&
  systemctl stop btfd.service && btfctl status >/dev/null && pid=\$(systemctl show -p MainPID --value btfd.service) &&
  [ \"\$pid\" -gt 0 ] && [ \"\$(readlink /proc/\$pid/ns/user)\" != \"\$(readlink /proc/1/ns/user)\" ]"
per_uid_checks fail
check "btfd serves as shipped again without the drop-in" sh -c "
  rm $old && systemctl daemon-reload && systemctl stop btfd.service && btfctl get"

# Resource limits: what the installed unit sets is in effect.
declare -A lim
for key in MemoryHigh MemoryMax TasksMax; do
  v=$(sed -n "s/^$key=//p" "$machine/lib/systemd/system/btfd.service")
  [ -n "$v" ] || { echo "FAIL: the installed btfd.service sets no $key="; fail=1; }
  lim[$key]=$(numfmt --from=iec "${v:-0}")
done
want="MemoryHigh=${lim[MemoryHigh]} MemoryMax=${lim[MemoryMax]} TasksMax=${lim[TasksMax]}"
check "systemctl show btfd.service: $want" sh -c "
  [ \"\$(systemctl show -p MemoryHigh -p MemoryMax -p TasksMax btfd.service | sort | tr '\n' ' ')\" = '$want ' ]"
# btfd's own cgroup carries them where the container has the controllers (cgroup
# v2, or v1's memory and pids hierarchies); a host that mounts the v1 controllers
# read-only into containers leaves them configured but not enforced.
limits=$(in_ct sh -c '
  pid=$(systemctl show -p MainPID --value btfd.service)
  v2=$(sed -n "s/^0:://p" /proc/$pid/cgroup) mem=$(sed -n "s/^[0-9]*:memory://p" /proc/$pid/cgroup)
  pids=$(sed -n "s/^[0-9]*:pids://p" /proc/$pid/cgroup)
  if [ -f "/sys/fs/cgroup$v2/memory.max" ]; then
    echo "MemoryHigh=$(cat /sys/fs/cgroup$v2/memory.high) MemoryMax=$(cat /sys/fs/cgroup$v2/memory.max) TasksMax=$(cat /sys/fs/cgroup$v2/pids.max)"
  elif [ "$mem" != / ] && [ -f "/sys/fs/cgroup/memory$mem/memory.limit_in_bytes" ]; then
    echo "v1 MemoryMax=$(cat /sys/fs/cgroup/memory$mem/memory.limit_in_bytes) TasksMax=$(cat /sys/fs/cgroup/pids$pids/pids.max)"
  fi')
case "$limits" in
  "$want" | "v1 MemoryMax=${lim[MemoryMax]} TasksMax=${lim[TasksMax]}") echo "ok: btfd runs under them (its cgroup: $limits)" ;;
  "") echo "note: no writable memory/pids controller in this container (the host's /sys/fs/cgroup is $(stat -f -c %T /sys/fs/cgroup)): the limits are set, not enforced here" ;;
  *) echo "FAIL: btfd's cgroup does not carry the unit's limits: $limits (want $want)"; fail=1 ;;
esac
[ $fail -eq 0 ] || { in_ct journalctl -u btfd.service --no-pager | tail -20; exit 1; }
echo "container test: ok"

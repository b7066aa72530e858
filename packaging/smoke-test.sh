#!/bin/bash
# Installs the built .debs on this machine and checks the installed files work:
# btfctl get through a btfd started from the installed files by
# systemd-socket-activate (PID 1 need not be systemd), and libbtfd's pkg-config.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/packaging/out
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "$out"/btfd_*.deb "$out"/libbtfd1_*.deb "$out"/libbtfd-dev_*.deb >/dev/null
for f in /usr/sbin/btfd /usr/bin/btfctl /lib/systemd/system/btfd.socket /etc/kernel/postinst.d/btfd; do
  [ -e "$f" ] || { echo "not installed: $f"; exit 1; }
done
tmp=$(mktemp -d)
systemd-socket-activate -l "$tmp/btfd.sock" /usr/sbin/btfd --cache-dir "$tmp/cache" --idle-exit 5 >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -S "$tmp/btfd.sock" ] && break; sleep 0.05; done
/usr/bin/btfctl --socket "$tmp/btfd.sock" get
/usr/bin/btfctl --socket "$tmp/btfd.sock" --json get | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["size"] > 0, j'
pkg-config --exists libbtfd
[ -s /usr/share/man/man1/btfctl.1.gz ] || { echo "btfctl(1) not installed"; exit 1; }
echo "installed-package smoke test: ok"

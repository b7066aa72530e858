#!/bin/bash
# Installs the built .debs on this machine and checks the installed files work:
# btfctl get through a btfd started from the installed files by
# systemd-socket-activate (PID 1 need not be systemd), a hub get through the
# installed btfd-fetch, what the package's scripts set up, and libbtfd's
# pkg-config. packaging/container-test.sh checks the same under a real systemd.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/packaging/out
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "$out"/btfd_*.deb "$out"/libbtfd1_*.deb "$out"/libbtfd-dev_*.deb >/dev/null
for f in /usr/sbin/btfd /usr/bin/btfctl /usr/libexec/btfd/btfd-fetch /usr/libexec/btfd/btfctl-archive /lib/systemd/system/btfd.socket \
         /lib/systemd/system/btfd-admin.socket /etc/kernel/postinst.d/btfd /etc/kernel/postrm.d/btfd \
         /lib/systemd/system/btfd-transparent.service; do
  [ -e "$f" ] || { echo "not installed: $f"; exit 1; }
done
# Enabled on install, as the packaging promises (the kernel hooks and the
# refresh timer need the socket).
for u in sockets.target.wants/btfd.socket sockets.target.wants/btfd-admin.socket timers.target.wants/btfd-refresh.timer; do
  [ -L "/etc/systemd/system/$u" ] || { echo "${u#*/} is not enabled after install"; exit 1; }
done
# The shipped configuration: installed, every key at its default (uncommented
# or not, the same configuration), with the drop-in directory beside it.
[ -f /etc/btfd/btfd.conf ] && [ -d /etc/btfd/btfd.conf.d ] || { echo "/etc/btfd/btfd.conf(.d) not installed"; exit 1; }
empty=$(mktemp)
diff <(/usr/sbin/btfd --dump-config) <(/usr/sbin/btfd --config "$empty" --dump-config) ||
  { echo "the shipped btfd.conf is not the defaults"; exit 1; }
sed 's/^#\([A-Z][A-Za-z]*=\)/\1/' /etc/btfd/btfd.conf > "$empty.uncommented"
# (--dump-config names the file and line that set a key: compare the values.)
diff <(/usr/sbin/btfd --config "$empty.uncommented" --dump-config | grep -v '^# set by ') \
     <(/usr/sbin/btfd --config "$empty" --dump-config) ||
  { echo "the shipped btfd.conf, uncommented, is not the defaults"; exit 1; }
rm -f "$empty" "$empty.uncommented"
# The admin socket's group exists (postinst), so btfd-admin.socket can start.
getent group btfd-admin >/dev/null || { echo "the btfd-admin group was not created"; exit 1; }
tmp=$(mktemp -d)
systemd-socket-activate -l "$tmp/btfd.sock" /usr/sbin/btfd --cache-dir "$tmp/cache" --idle-exit 5 \
  --mirror "$root/tests/data/btfhub" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -S "$tmp/btfd.sock" ] && break; sleep 0.05; done
/usr/bin/btfctl --socket "$tmp/btfd.sock" get
/usr/bin/btfctl --socket "$tmp/btfd.sock" --json get | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["size"] > 0, j'
# The repo's test hub as a plain-directory mirror: this runs the installed btfd-fetch.
/usr/bin/btfctl --socket "$tmp/btfd.sock" --json get --distro ubuntu --distro-version 20.04 --arch x86_64 \
  --release 5.4.0-26-generic | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["source"] == "hub" and j["size"] > 0, j'
# btfctl's archive commands run in the installed btfctl-archive (btfctl itself
# links neither libcurl nor libarchive).
! ldd /usr/bin/btfctl | grep -q -e libcurl -e libarchive || { echo "btfctl links libcurl or libarchive"; exit 1; }
# libcrypto is loaded at the first digest, not linked: the packages name it.
! ldd /usr/bin/btfctl | grep -q libcrypto || { echo "btfctl links libcrypto"; exit 1; }
for p in btfd libbtfd1; do
  dpkg-query -W -f '${Depends}\n' "$p" | grep -q libssl3 || { echo "$p does not depend on libssl3"; exit 1; }
done
/usr/bin/btfctl --json mirror sync "$root/tests/data/btfhub" "$tmp/site" --distro ubuntu |
  python3 -c 'import json,sys; j=json.load(sys.stdin); assert len(j["copied"]) > 0, j'
pkg-config --exists libbtfd
[ -s /usr/share/man/man1/btfctl.1.gz ] || { echo "btfctl(1) not installed"; exit 1; }
echo "installed-package smoke test: ok"

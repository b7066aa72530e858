#!/bin/bash
# Builds the Debian packages from a copy of the tree (debian/ placed at the top,
# outside the source tree) into packaging/out/, runs lintian and checks the file
# lists.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/packaging/out
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$out" "$work/btfd-0.1.0"
git -C "$root" ls-files -z | (cd "$root" && xargs -0 cp --parents -t "$work/btfd-0.1.0")
cp -r "$root/packaging/debian" "$work/btfd-0.1.0/debian"
(cd "$work/btfd-0.1.0" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) ||
  { tail -50 "$work/build.log"; exit 1; }
mv "$work"/*.deb "$out"/
for pkg in "$out"/*.deb; do echo "== $(basename "$pkg")"; dpkg-deb -c "$pkg" | awk '{print $6}' | grep -v '/$'; done > "$out/filelist.txt"
for f in ./usr/sbin/btfd ./usr/bin/btfctl ./lib/systemd/system/btfd.socket ./lib/systemd/system/btfd.service \
         ./lib/systemd/system/btfd-admin.socket ./usr/lib/sysusers.d/btfd.conf \
         ./lib/systemd/system/btfd-refresh.timer ./usr/libexec/btfd/btfd-fetch ./usr/libexec/btfd/btfctl-archive \
         ./etc/kernel/postinst.d/btfd ./etc/kernel/postrm.d/btfd ./usr/libexec/btfd/btfd-kernel-removed \
         ./lib/systemd/system/btfd-transparent.service ./usr/share/man/man8/btfd.8.gz ./usr/include/btfd/libbtfd.h \
         ./usr/lib/systemd/system-preset/90-btfd.preset ./usr/share/doc/libbtfd-dev/examples/agent.c \
         ./etc/btfd/btfd.conf; do
  grep -q "^$f" "$out/filelist.txt" || { echo "missing from the packages: $f"; exit 1; }
done
grep -q 'libbtfd.so.1' "$out/filelist.txt"
# The shipped configuration is a conffile: a site's edits survive upgrades.
dpkg-deb --ctrl-tarfile "$out"/btfd_*.deb | tar -xO ./conffiles | grep -qx /etc/btfd/btfd.conf ||
  { echo "/etc/btfd/btfd.conf is not a conffile"; exit 1; }
if command -v lintian >/dev/null; then
  lintian --fail-on error --suppress-tags bad-distribution-in-changes-file "$out"/*.deb
fi
echo "built: $(ls "$out"/*.deb | xargs -n1 basename | tr '\n' ' ')"

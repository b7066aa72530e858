#!/bin/bash
# Builds the RPMs with rpmbuild into packaging/out/ and checks their file lists.
# On Debian, --nodeps: the BuildRequires are rpm package names Debian cannot check.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/packaging/out
top=$(mktemp -d); trap 'rm -rf "$top"' EXIT
mkdir -p "$out" "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
git -C "$root" archive --prefix=btfd-0.1.0/ -o "$top/SOURCES/btfd-0.1.0.tar.gz" HEAD
nodeps=()
[ -f /etc/debian_version ] && nodeps=(--nodeps)
rpmbuild -bb "${nodeps[@]}" --define "_topdir $top" --define "_smp_mflags -j2" \
  --define "debug_package %{nil}" "$root/packaging/rpm/btfd.spec" >"$top/build.log" 2>&1 ||
  { tail -40 "$top/build.log"; exit 1; }
find "$top/RPMS" -name '*.rpm' -exec cp {} "$out"/ \;
for r in "$out"/*.rpm; do echo "== $(basename "$r")"; rpm -qlp "$r" 2>/dev/null; done > "$out/rpm-filelist.txt"
for f in /usr/sbin/btfd /usr/bin/btfctl btfd.socket btfd-admin.socket sysusers.d/btfd.conf 90-btfd.preset btfd-refresh.timer /usr/libexec/btfd/btfd-fetch /usr/libexec/btfd/btfctl-archive \
         /usr/lib/kernel/install.d/50-btfd.install libbtfd.so.1 libbtfd.pc; do
  grep -q "$f" "$out/rpm-filelist.txt" || { echo "missing from the RPMs: $f"; exit 1; }
done
for r in "$out"/btfd-0*.rpm "$out"/libbtfd1-*.rpm; do
  rpm -qp --requires "$r" 2>/dev/null | grep -q '^libcrypto.so.3' || { echo "$(basename "$r") does not require libcrypto.so.3"; exit 1; }
done
rpm -qp --scripts "$out"/btfd-0*.rpm 2>/dev/null | grep -q 'systemctl' || { echo "no systemd scriptlets"; exit 1; }
echo "built: $(ls "$out"/*.rpm | xargs -n1 basename | tr '\n' ' ')"

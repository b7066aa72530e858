#!/bin/bash
# btfctl host: text and JSON output agree with uname and os-release; a bad host
# root gives one clear error line naming os-release and a non-zero exit (a JSON
# error with --json); an unknown command exits 2.
set -euo pipefail
btfctl=${BTFD_BTFCTL:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/root/etc"
printf 'ID=ubuntu\nVERSION_ID="20.04"\n' >"$tmp/root/etc/os-release"
out=$("$btfctl" host --host-root "$tmp/root")
grep -q "^kernel: *ubuntu/20.04/$(uname -m)/$(uname -r)\$" <<<"$out" || { echo "bad text: $out"; exit 1; }
grep -q '^BTF source: *hub' <<<"$out" || { echo "expected hub source: $out"; exit 1; }

json=$("$btfctl" --json host --host-root "$tmp/root")
python3 - "$json" <<'PY'
import json, os, sys
j = json.loads(sys.argv[1])
assert j["host"]["distro"] == "ubuntu" and j["host"]["version"] == "20.04", j
assert j["os_release"] == {"distro": "ubuntu", "version": "20.04"}, j
assert j["host"]["release"] == os.uname().release, j
assert j["native_btf"] is False and j["native_btf_path"] is None and j["host_exact"] is True, j
PY

# The hub path is the archive's, not os-release's: RHEL 8.4 is rhel/8 (tests/data/os-release).
arch=$(uname -m); [ "$arch" = aarch64 ] && arch=arm64
src=${BTFD_SOURCE_ROOT:-$(dirname "$0")/../../..}
mkdir -p "$tmp/rhel/etc" "$tmp/rocky/etc"
cp "$src/tests/data/os-release/rhel-8.4" "$tmp/rhel/etc/os-release"
out=$("$btfctl" host --host-root "$tmp/rhel" --config "$tmp/none.conf" 2>&1 || true)
grep -q 'none.conf' <<<"$out" || { echo "a named config that is missing is an error: $out"; exit 1; }
: >"$tmp/empty.conf"
out=$("$btfctl" host --host-root "$tmp/rhel" --config "$tmp/empty.conf")
grep -q "^BTF source: *hub (rhel/8/$arch/$(uname -r).btf.tar.xz)\$" <<<"$out" || { echo "rhel 8.4 not mapped: $out"; exit 1; }
printf 'ID="rocky"\nVERSION_ID="8.4"\nID_LIKE="rhel centos fedora"\n' >"$tmp/rocky/etc/os-release"
printf '[Distro]\nAlias=rocky rhel\n' >"$tmp/alias.conf"
json=$("$btfctl" --json host --host-root "$tmp/rocky" --config "$tmp/alias.conf")
python3 - "$json" "$arch" <<'PY'
import json, os, sys
j = json.loads(sys.argv[1])
assert j["hub_path"] == "rhel/8/%s/%s.btf.tar.xz" % (sys.argv[2], os.uname().release), j
assert j["host_exact"] is False and j["os_release"]["distro"] == "rocky" and j["host"]["distro"] == "rhel", j
PY

if "$btfctl" host --host-root "$tmp/missing" 2>"$tmp/err"; then echo "expected failure"; exit 1; fi
[ "$(wc -l <"$tmp/err")" -eq 1 ] || { cat "$tmp/err"; exit 1; }
grep -q 'os-release' "$tmp/err" || { echo "error does not name os-release: $(cat "$tmp/err")"; exit 1; }

rc=0; err=$("$btfctl" --json host --host-root "$tmp/missing") || rc=$?
[ "$rc" -ne 0 ] || { echo "--json host on a missing root exited 0"; exit 1; }
[ "$rc" -eq 1 ] || { echo "a missing host root is a local error: exit 1, got $rc"; exit 1; }
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["error"]["code"]=="io" and "missing" in j["error"]["message"], j' "$err"

# An unknown command is a usage error: exit 2 (btfctl(1), EXIT STATUS).
rc=0; "$btfctl" nosuchcommand 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] || { echo "unknown command: expected exit 2, got $rc"; exit 1; }
grep -q 'unknown command "nosuchcommand"' "$tmp/err" || { echo "unknown command message: $(cat "$tmp/err")"; exit 1; }
rc=0; "$btfctl" hots 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "did you mean 'host'?" "$tmp/err" || { echo "typo: rc=$rc $(cat "$tmp/err")"; exit 1; }
"$btfctl" help | grep -q '^  host' || { echo "help does not list host"; exit 1; }
echo "ok"

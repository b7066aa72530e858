#!/bin/bash
# btfctl host: text and JSON output agree with uname and os-release, and a bad
# host root gives one clear error line and a non-zero exit.
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
assert j["distro_id"] == "ubuntu" and j["distro_version"] == "20.04", j
assert j["release"] == os.uname().release, j
assert j["native_btf"] is None, j
PY

if "$btfctl" host --host-root "$tmp/missing" 2>"$tmp/err"; then echo "expected failure"; exit 1; fi
[ "$(wc -l <"$tmp/err")" -eq 1 ] || { cat "$tmp/err"; exit 1; }
grep -q 'os-release' "$tmp/err"

err=$("$btfctl" --json host --host-root "$tmp/missing" || true)
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["error"]["code"]=="not-found", j' "$err"

"$btfctl" nosuchcommand 2>/dev/null && { echo "unknown command accepted"; exit 1; }
[ $? -eq 0 ] || true
"$btfctl" help | grep -q '^  host'
echo "ok"

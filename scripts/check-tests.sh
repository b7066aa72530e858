#!/bin/bash
# Fails the test run when a test is missing or skipped for a reason other than
# privileges, so a suite that only passes by skipping cannot look green.
#   scripts/check-tests.sh BUILD_DIR            tests: registration and skips
#   scripts/check-tests.sh --fuzzers BUILD_DIR  libFuzzer targets: all built
# 1. Every name in scripts/expected-tests.txt (fuzz-* aside) is registered in
#    `meson test --list`.
# 2. Every SKIP (exit 77) in BUILD_DIR/meson-logs/testlog.json printed one of the
#    allowed reasons, as tests/integration/testlib.py prints them:
#      "SKIP: not root"             only when the suite did not run as root
#      "SKIP: bpf(2) not permitted" the kernel or a sandbox refused bpf(2)
#    (the store-enospc test's "...; needs root" counts as "not root").
set -euo pipefail
cd "$(dirname "$0")/.."
expected=scripts/expected-tests.txt

if [ "${1:-}" = "--fuzzers" ]; then
  build=${2:?usage: check-tests.sh --fuzzers BUILD_DIR}
  built=$(ninja -C "$build" -t targets all | grep -oE '^tests/fuzz/fuzz-[a-z0-9-]+' | sed 's#.*/##' | sort -u)
  missing=$(grep -E '^fuzz-' "$expected" | sort -u | comm -23 - <(echo "$built"))
  if [ -n "$missing" ]; then
    echo "check-tests: fuzz targets not built (listed in $expected):" $missing >&2
    exit 1
  fi
  exit 0
fi

build=${1:?usage: check-tests.sh BUILD_DIR}
status=0
registered=$(meson test -C "$build" --list 2>/dev/null | sed -E 's#^.* / ##' | sort -u)
missing=$(grep -vE '^(#|$|fuzz-)' "$expected" | sort -u | comm -23 - <(echo "$registered"))
if [ -n "$missing" ]; then
  echo "check-tests: tests not registered on this host (listed in $expected):" $missing >&2
  status=1
fi

python3 - "$build/meson-logs/testlog.json" "$(id -u)" <<'PY' || status=1
import json, re, sys
log, uid = sys.argv[1], int(sys.argv[2])
allowed = [r"^SKIP: bpf\(2\) not permitted"]
if uid != 0:
    allowed += [r"^SKIP: not root", r"^SKIP: .*needs root$"]
bad = skipped = 0
for line in open(log):
    t = json.loads(line)
    if t["result"] != "SKIP":
        continue
    skipped += 1
    out = (t.get("stdout") or "") + (t.get("stderr") or "")
    reasons = [l for l in out.splitlines() if l.startswith("SKIP")]
    if not any(re.search(p, l) for p in allowed for l in reasons):
        bad += 1
        print("check-tests: %s skipped for a reason that is not a privilege one%s: %s"
              % (t["name"], " (running as root)" if uid == 0 else "", reasons or "(no SKIP line)"), file=sys.stderr)
    else:
        print("check-tests: %s skipped: %s" % (t["name"], reasons[0]))
if bad:
    sys.exit(1)
print("check-tests: %d skipped, all for privileges" % skipped if skipped else "check-tests: nothing skipped")
PY
exit $status

#!/bin/bash
# Every man page was generated, is troff, and documents what the binaries offer.
set -euo pipefail
dir=$1 btfctl=$2
for page in btfctl.1 btfd.8 btfd.conf.5 libbtfd.3; do
  [ -s "$dir/$page" ] || { echo "missing $page"; exit 1; }
  grep -q '^\.TH' "$dir/$page" || { echo "$page is not troff"; exit 1; }
done
# Every btfctl command appears in btfctl(1).
for cmd in $("$btfctl" help | awk '/^Commands:/ {on=1; next} on && !NF {exit} on {print $1}'); do
  grep -q "^\\\\fB$cmd\\\\fR" "$dir/btfctl.1" || { echo "btfctl(1) does not document '$cmd'"; exit 1; }
done
bash -n "$(dirname "$0")/../../../cli/completion/btfctl.bash"
echo ok

#!/bin/bash
# The generated units: systemd-analyze's offline exposure score is at most 1.5,
# the socket/service pair is wired as documented, btfd sees its peers' real uids
# (no PrivateUsers=), memory and tasks are bounded, and the sandbox leaves readable
# what btfd must read (/sys/kernel/btf, /etc/os-release, /boot, modules dirs);
# the refresh timer's client unit is sandboxed tighter still.
set -euo pipefail
dir=${1:?unit dir}
service=$dir/btfd.service socket=$dir/btfd.socket
if ! command -v systemd-analyze >/dev/null; then echo "SKIP: systemd-analyze missing"; exit 77; fi
# exposure UNIT_FILE MAX: systemd-analyze's offline score for the unit is at most MAX.
exposure() {
  local name score
  name=$(basename "$1")
  score=$(systemd-analyze security --offline=yes "$1" 2>/dev/null | sed -n "s/.*Overall exposure level for $name: \([0-9.]*\).*/\1/p")
  [ -n "$score" ] || { echo "no exposure score for $name"; exit 1; }
  echo "$name exposure: $score"
  python3 -c "import sys; sys.exit(0 if float('$score') <= $2 else 1)" || { echo "$name exposure $score > $2"; exit 1; }
}
exposure "$service" 1.5
grep -qx 'Type=notify' "$service"
grep -qx 'Requires=btfd.socket' "$service"
grep -qx 'Also=btfd.socket' "$service"
grep -q '^WatchdogSec=' "$service"
grep -qx 'ListenStream=/run/btfd/btfd.sock' "$socket"
grep -qx 'RemoveOnStop=yes' "$socket"
grep -qx 'WantedBy=sockets.target' "$socket"
grep -q '^ExecStart=/.*/btfd$' "$service"
# Descriptors: the budgets in btfd.conf [Limits] fit this table.
grep -qx 'LimitNOFILE=8192' "$service"
# The admin socket is group btfd-admin's, checked by the kernel at connect(), and
# handed to btfd by name.
admin=$dir/btfd-admin.socket
grep -qx 'Sockets=btfd.socket btfd-admin.socket' "$service"
# Per-UID budgets and AllowGroup= need the peers' real credentials: no private
# user namespace (it shows btfd every peer but root as nobody), a commented
# relaxation, and the namespaces btfd gets instead.
if grep -q '^PrivateUsers=' "$service"; then echo "PrivateUsers= hides the peers' uids from btfd"; exit 1; fi
grep -q '^# Relaxation: no PrivateUsers=' "$service"
grep -qx 'PrivateMounts=yes' "$service"
grep -qx 'PrivateIPC=yes' "$service"
grep -qx 'UMask=0077' "$service"
# Memory and tasks are bounded, and the sizing is explained above the keys.
for key in MemoryHigh MemoryMax TasksMax; do
  grep -qE "^$key=[0-9]+[KMG]?$" "$service" || { echo "btfd.service sets no $key="; exit 1; }
done
grep -B1 '^MemoryHigh=' "$service" | grep -q '^#'
grep -B1 '^TasksMax=' "$service" | grep -q '^#'
high=$(sed -n 's/^MemoryHigh=//p' "$service" | numfmt --from=iec) max=$(sed -n 's/^MemoryMax=//p' "$service" | numfmt --from=iec)
[ "$high" -lt "$max" ] || { echo "MemoryHigh= must be below MemoryMax="; exit 1; }
# systemd-analyze verify takes the service and its sockets without a word (its
# ExecStart= pointed at a binary that exists: the build's is not installed).
verify=$(mktemp -d)
trap 'rm -rf "$verify"' EXIT
cp "$service" "$socket" "$dir/btfd-admin.socket" "$verify/"
sed -i 's|^ExecStart=.*|ExecStart=/bin/true|' "$verify/btfd.service"
said=$(cd "$verify" && systemd-analyze verify --man=no ./btfd.service ./btfd.socket ./btfd-admin.socket 2>&1) &&
  [ -z "$said" ] || { echo "systemd-analyze verify: $said"; exit 1; }
grep -qx 'FileDescriptorName=btfd' "$socket"
grep -qx 'ListenStream=/run/btfd/admin.sock' "$admin"
grep -qx 'SocketMode=0660' "$admin"
grep -qx 'SocketGroup=btfd-admin' "$admin"
grep -qx 'FileDescriptorName=admin' "$admin"
grep -qx 'Service=btfd.service' "$admin"
# Nothing may hide the inputs btfd reads; ProtectSystem=strict keeps them readable.
if grep -qE '^(InaccessiblePaths|TemporaryFileSystem|BindPaths)=' "$service"; then
  echo "the sandbox hides paths btfd must read"; exit 1
fi
grep -qx 'ProtectSystem=strict' "$service"
grep -qx 'CacheDirectory=btfd' "$service"
# Every relaxation carries its reason.
grep -B1 '^RestrictAddressFamilies=.*AF_INET' "$service" | grep -q '^#'

# The daily refresh: a sandboxed oneshot client and a persistent, randomized timer.
refresh=$dir/btfd-refresh.service timer=$dir/btfd-refresh.timer
exposure "$refresh" 1.0
grep -qx 'Type=oneshot' "$refresh"
grep -q '^ExecStart=/.*/btfctl --quiet refresh$' "$refresh"
grep -qx 'RestrictAddressFamilies=AF_UNIX' "$refresh"
grep -qx 'OnCalendar=daily' "$timer"
grep -qx 'Persistent=true' "$timer"
grep -q '^RandomizedDelaySec=' "$timer"
grep -qx 'WantedBy=timers.target' "$timer"
# Transparent mode's root oneshot: after each refresh, writing only the modules
# directories (btfd.service itself stays read-only on the system).
transparent=$dir/btfd-transparent.service
exposure "$transparent" 1.5
grep -qx 'Type=oneshot' "$transparent"
grep -q '^ExecStart=/.*/btfctl --quiet transparent install --all --if-enabled$' "$transparent"
grep -qx 'ProtectSystem=strict' "$transparent"
grep -qx 'ReadWritePaths=-/lib/modules -/usr/lib/modules' "$transparent"
# Bounded: a oneshot's default start timeout is infinity (the reason is commented).
grep -qx 'TimeoutStartSec=5min' "$transparent"
grep -B1 '^TimeoutStartSec=' "$transparent" | grep -q '^#'
grep -qx 'Wants=btfd-transparent.service' "$refresh"
if grep -qE '^ReadWritePaths=' "$service"; then echo "btfd.service must not write outside its cache"; exit 1; fi
echo ok

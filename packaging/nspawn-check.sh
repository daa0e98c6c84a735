#!/usr/bin/env bash
# Checks the .deb under a real systemd as PID 1: boots a minimal Debian in a
# systemd-nspawn container (private network, so port 5005 is free), installs
# the package and checks that `systemctl enable --now` returns once READY=1
# arrives, that `sparkq status` reports systemd, that a crash restarts the
# daemon and `sparkq stop` does not, what the sandbox lets a task script do,
# that it starts at boot, and that a purge stops and unregisters it.
#
#   go run ./packaging --targets linux/amd64 --formats deb
#   sudo packaging/nspawn-check.sh dist/sparkq_*_amd64.deb
#
# Not part of CI: it needs root and downloads a Debian base system (about
# 260 MB, a minute) into $SPARKQ_NSPAWN_ROOT (default /var/tmp/sparkq-nspawn),
# which later runs reuse.
set -euo pipefail
deb="$(realpath "${1:?usage: packaging/nspawn-check.sh dist/sparkq_VERSION_amd64.deb}")"
root="${SPARKQ_NSPAWN_ROOT:-/var/tmp/sparkq-nspawn}"
fail() { echo "nspawn-check: FAIL: $*"; exit 1; }

if ! command -v debootstrap >/dev/null || ! command -v systemd-nspawn >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap systemd-container </dev/null
fi
if [ ! -x "$root/usr/lib/systemd/systemd" ]; then
  # The Debian mirror this machine's apt already uses.
  mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null ||
    awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list)"
  [ -n "$mirror" ] || fail "no Debian mirror found in the apt sources"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,libpam-systemd,sudo \
    bookworm "$root" "$mirror" >/dev/null
fi
cp "$deb" "$root/root/sparkq.deb"

boot() {
  # --keep-unit and --register=no: the host need not run systemd itself.
  setsid systemd-nspawn -q -D "$root" -b --console=passive --private-network \
    --register=no --keep-unit >/dev/null 2>&1 &
  nspawn=$!
  # The container's PID 1 is nspawn's child once it has exec'd systemd.
  leader=""
  for _ in $(seq 100); do
    leader="$(ps -o pid=,comm= --ppid "$nspawn" | awk '$2 == "systemd" {print $1}' || true)"
    [ -n "$leader" ] && break
    sleep 0.1
  done
  [ -n "$leader" ] || fail "the container did not start"
  # "degraded" is fine: a minimal container has units that fail.
  until_ 'ct systemctl is-system-running --wait >/dev/null 2>&1; s="$(ct systemctl is-system-running 2>/dev/null)"; [ "$s" = running ] || [ "$s" = degraded ]'
}
halt() {
  [ -n "${nspawn:-}" ] || return 0
  # Powering off resets systemctl's connection: its exit status means nothing.
  [ -z "$leader" ] || ct systemctl poweroff >/dev/null 2>&1 || true
  for _ in $(seq 300); do
    kill -0 "$nspawn" 2>/dev/null || break
    sleep 0.1
  done
  kill "$nspawn" 2>/dev/null || true # nspawn shuts the container down on SIGTERM
  wait "$nspawn" 2>/dev/null || true
  nspawn=""
}
ct() { nsenter -t "$leader" -m -u -i -n -p -r -w /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
prop() { ct systemctl show -p "$1" --value sparkq; }
# until CONDITION: poll a state systemd reaches asynchronously (bounded).
until_() { for _ in $(seq 100); do eval "$1" && return 0; sleep 0.1; done; fail "never: $1"; }

boot
trap halt EXIT
echo "--- install, enable --now (returns after READY=1)"
ct dpkg -i /root/sparkq.deb
ct systemctl enable --now sparkq
[ "$(prop ActiveState)" = active ] || fail "not active after enable --now"
ct journalctl -u sparkq -o cat --no-pager | tail -3
if ct test -x /usr/bin/sparkq; then
  status="$(ct sudo -u sparkq sparkq --config /etc/sparkq/sparkq.yml status 2>/dev/null)"
  echo "$status"
  grep -q 'Service: *systemd' <<<"$status" || fail "sparkq status does not report systemd"
fi

echo "--- a crash restarts it"
pid="$(prop MainPID)"
ct sh -c "kill -SEGV $pid"
until_ '[ "$(prop NRestarts)" = 1 ] && [ "$(prop ActiveState)" = active ]'
echo "restarted: PID $pid -> $(prop MainPID)"

echo "--- what a task script may do inside the sandbox"
ct mkdir -p /etc/systemd/system/sparkq.service.d
ct sh -c 'cat > /etc/systemd/system/sparkq.service.d/probe.conf' <<'EOF'
[Service]
ExecStartPost=/bin/sh -c 'cd /var/lib/sparkq && printf "#!/bin/sh\\necho script ran as $(id -un) in $(pwd)\\n" > probe.sh && chmod +x probe.sh && ./probe.sh > probe.out; (touch /etc/probe 2>/dev/null && echo /etc WRITABLE || echo /etc read-only) >> probe.out; (ls /home >/dev/null 2>&1 && echo /home VISIBLE || echo /home hidden) >> probe.out; (touch /var/log/sparkq/probe && echo /var/log/sparkq writable) >> probe.out; rm -f probe.sh /var/log/sparkq/probe'
EOF
ct systemctl daemon-reload
ct systemctl restart sparkq
ct cat /var/lib/sparkq/probe.out
ct grep -q 'script ran as sparkq' /var/lib/sparkq/probe.out || fail "a script in the working directory did not run"
! ct grep -q 'WRITABLE\|VISIBLE' /var/lib/sparkq/probe.out || fail "the sandbox is weaker than systemd/sparkq.service says"
ct rm -rf /etc/systemd/system/sparkq.service.d /var/lib/sparkq/probe.out
ct systemctl daemon-reload

echo "--- sparkq stop is a clean exit: not restarted"
if ct test -x /usr/bin/sparkq; then
  restarts="$(prop NRestarts)"
  ct sudo -u sparkq sparkq --config /etc/sparkq/sparkq.yml stop 2>/dev/null
  until_ '[ "$(prop ActiveState)" = inactive ]'
  [ "$(prop NRestarts)" = "$restarts" ] || fail "restarted after sparkq stop"
fi

echo "--- starts at boot"
halt
boot
[ "$(prop ActiveState)" = active ] || fail "not active after boot"
ct systemd-analyze blame --no-pager | grep sparkq

echo "--- purge stops and unregisters it"
ct dpkg --purge sparkq
[ "$(prop LoadState)" = not-found ] || fail "unit still loaded after purge"
echo "nspawn-check: all checks passed"

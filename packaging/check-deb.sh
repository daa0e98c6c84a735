#!/usr/bin/env bash
# Builds the linux/amd64 .deb and checks it: control file without
# dependencies, the expected files and maintainer scripts, an install into
# a scratch root (dpkg --root) that leaves a working `sparkqd --version` /
# `sparkq version`, `systemd-analyze verify` on the unit as installed, a
# clean purge, and a second build with identical bytes. Run as root (dpkg
# --root writes a dpkg database), from .ci/run or by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "check-deb: run as root: dpkg --root writes a dpkg database and root-owned files"; exit 1; }
for tool in dpkg dpkg-deb systemd-analyze; do
  command -v "$tool" >/dev/null || { echo "check-deb: $tool is missing (Debian packages dpkg, systemd)"; exit 1; }
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-deb: FAIL: $*"; exit 1; }

echo "--- build the .deb (go run ./packaging --targets linux/amd64 --formats deb)"
go run ./packaging --targets linux/amd64 --formats deb --out "$tmp/a"
deb="$(ls "$tmp"/a/sparkq_*_amd64.deb)"
version="$(dpkg-deb --field "$deb" Version)"

echo "--- dpkg-deb --info"
dpkg-deb --info "$deb"
for field in Depends Pre-Depends Recommends; do
  [ -z "$(dpkg-deb --field "$deb" "$field")" ] || fail "control file has $field"
done

echo "--- dpkg-deb --contents"
dpkg-deb --contents "$deb" | tee "$tmp/contents"
want=(./usr/bin/sparkqd ./usr/lib/systemd/system/sparkq.service ./usr/lib/sysusers.d/sparkq.conf ./etc/sparkq/sparkq.yml)
if [ -d cmd/sparkq ]; then want+=(./usr/bin/sparkq); fi
for f in "${want[@]}"; do
  awk '{print $6}' "$tmp/contents" | grep -qx -- "$f" || fail "package lacks $f"
done
dpkg-deb --control "$deb" "$tmp/control"
for f in postinst prerm postrm; do
  [ -x "$tmp/control/$f" ] || fail "no executable $f maintainer script"
  sh -n "$tmp/control/$f" || fail "$f is not valid sh"
done
grep -qx /etc/sparkq/sparkq.yml "$tmp/control/conffiles" || fail "/etc/sparkq/sparkq.yml is not a conffile"

echo "--- dpkg --root: install into a scratch root"
root="$tmp/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
touch "$root/var/lib/dpkg/status"
# The maintainer scripts honour $DPKG_ROOT, so they may run outside a chroot
# (the scratch root has no /bin/sh) and still change only the scratch root.
dpkg --root="$root" --force-script-chrootless -i "$deb"
grep -q '^sparkq:' "$root/etc/passwd" || fail "postinst did not create the sparkq user"
cmp systemd/sparkq.service "$root/usr/lib/systemd/system/sparkq.service"
"$root/usr/bin/sparkqd" --version | tee "$tmp/version"
grep -qF "sparkqd $version (commit " "$tmp/version" || fail "sparkqd --version does not print $version"
if [ -x "$root/usr/bin/sparkq" ]; then
  "$root/usr/bin/sparkq" version | tee "$tmp/version"
  grep -qF "sparkq $version (commit " "$tmp/version" || fail "sparkq version does not print $version"
fi
# The packaged config and binary agree: create a database with them (the
# --db override keeps it out of /var/lib).
"$root/usr/bin/sparkqd" init --config "$root/etc/sparkq/sparkq.yml" --db "$tmp/db/sparkq.db"

echo "--- systemd-analyze verify (the unit as installed, with its binary)"
vroot="$tmp/verify"
mkdir -p "$vroot/usr/bin" "$vroot/usr/lib/systemd/system"
cp "$root/usr/bin/sparkqd" "$vroot/usr/bin/"
cp "$root/usr/lib/systemd/system/sparkq.service" "$vroot/usr/lib/systemd/system/"
# The targets and slices every unit depends on, as a real root has them.
cp /lib/systemd/system/*.target /lib/systemd/system/*.slice "$vroot/usr/lib/systemd/system/"
# verify reports unknown keys and bad values as warnings with exit 0, so any
# output fails the check.
out="$(systemd-analyze verify --man=no --root="$vroot" /usr/lib/systemd/system/sparkq.service 2>&1)" || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
echo "systemd-analyze verify: no findings"
systemd-analyze security --offline=yes --root="$vroot" --threshold=30 sparkq.service | tail -1

echo "--- dpkg --purge"
dpkg --root="$root" --force-script-chrootless --purge sparkq
left="$(cd "$root" && find usr etc/sparkq -mindepth 1 2>/dev/null || true)"
[ -z "$left" ] || fail "purge left $left"

echo "--- reproducible: a second build gives the same bytes"
go run ./packaging --targets linux/amd64 --formats deb --out "$tmp/b" >/dev/null
cmp "$deb" "$tmp/b/$(basename "$deb")" || fail "two builds of one commit differ"
sha256sum "$deb" | sed 's#  .*/#  #'
echo "check-deb: all checks passed"

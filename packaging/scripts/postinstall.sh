#!/bin/sh
# sparkq package, after unpacking: deb postinst (configure [OLD-VERSION]) and
# rpm %post (1 = install, 2 = upgrade). Creates the sparkq system user and
# tells systemd about the unit; it does not enable or start the daemon.
#
# $DPKG_ROOT is the root being installed into (empty for /): with
# `dpkg --root DIR --force-script-chrootless` everything happens in DIR only.
set -e

case "$1" in
configure | 1 | 2) ;;
*) exit 0 ;;
esac
root="${DPKG_ROOT:-}"

if command -v systemd-sysusers >/dev/null 2>&1; then
	# Applies /usr/lib/sysusers.d/sparkq.conf from this package; idempotent.
	systemd-sysusers ${root:+--root="$root"} sparkq.conf
elif ! grep -q '^sparkq:' "$root/etc/passwd" 2>/dev/null; then
	useradd ${root:+--prefix "$root"} --system --user-group --home-dir /var/lib/sparkq \
		--no-create-home --shell /usr/sbin/nologin --comment "SparkQ task queue" sparkq
fi

upgrade=
if [ -n "${2:-}" ] || [ "$1" = 2 ]; then
	upgrade=yes
fi
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	if [ -n "$upgrade" ]; then
		# A running daemon moves to the new binary; a stopped one stays so.
		systemctl try-restart sparkq.service >/dev/null 2>&1 || true
	fi
fi
if [ -z "$upgrade" ]; then
	echo "SparkQ installed. Run it now and at every boot: systemctl enable --now sparkq"
	echo "Config: /etc/sparkq/sparkq.yml  Data: /var/lib/sparkq  Log: /var/log/sparkq and journalctl -u sparkq"
fi
exit 0

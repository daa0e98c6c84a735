#!/bin/sh
# sparkq package, after removal: deb postrm (remove | purge | upgrade | ...)
# and rpm %postun (0 = erase, 1 = upgrade). A purge deletes the logs; the
# tasks in /var/lib/sparkq and the sparkq user are kept.
set -e
root="${DPKG_ROOT:-}"

case "$1" in
remove | purge | 0)
	if [ -z "$root" ] && [ -d /run/systemd/system ]; then
		systemctl daemon-reload >/dev/null 2>&1 || true
	fi
	;;
esac
if [ "$1" = purge ]; then
	rm -rf "$root/var/log/sparkq"
	if [ -d "$root/var/lib/sparkq" ]; then
		echo "SparkQ purged. Its data in /var/lib/sparkq and the sparkq user are kept; remove them by hand if no longer needed."
	fi
fi
exit 0

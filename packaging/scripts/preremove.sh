#!/bin/sh
# sparkq package, before removal: deb prerm (remove | upgrade | ...) and rpm
# %preun (0 = erase, 1 = upgrade). Stops and disables the daemon on removal
# only; an upgrade restarts it in postinstall instead.
set -e

case "$1" in
remove | 0) ;;
*) exit 0 ;;
esac
if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
	systemctl disable --now sparkq.service >/dev/null 2>&1 || true
fi
exit 0

#!/bin/sh
# herdctl pre-removal. deb: "remove", "upgrade NEW-VERSION", ...; rpm: 0
# on erase, 1 or more on upgrade. Only a real removal stops anything.
set -e

case "$1" in
remove | 0) ;;
*) exit 0 ;;
esac
[ -d /run/systemd/system ] || exit 0

systemctl disable --now herdctl.service >/dev/null 2>&1 || true
# Timers, running jobs (recorded cancelled), generated units, containers.
/usr/sbin/herdctl teardown || echo "herdctl: teardown was incomplete: see journalctl -t herdctl" >&2

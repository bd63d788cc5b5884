#!/bin/sh
# herdctl post-removal. deb: "remove", "purge", "upgrade NEW-VERSION", ...;
# rpm: 0 on erase, 1 or more on upgrade. Job records, agent homes and
# workspaces under /var/lib/herdctl stay unless the package is purged.
set -e

case "$1" in
purge)
	# The configuration the post-install script made, the operator's
	# edits and agents with it: purge removes a package's configuration.
	rm -rf /var/lib/herdctl /run/herdctl /etc/herdctl
	# The chat bridge's pending replies and sessions, and what shell
	# hooks kept.
	rm -rf /var/lib/herdctl-chat /var/lib/herdctl-hook /var/lib/private/herdctl-hook
	;;
remove | 0)
	rm -rf /run/herdctl
	;;
[1-9]*)
	# rpm upgrade: the new files are in place.
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload || true
		systemctl try-restart herdctl.service || true
	fi
	exit 0
	;;
*) exit 0 ;;
esac
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi

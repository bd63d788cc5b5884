#!/bin/sh
# herdctl post-install. deb: "configure [OLD-VERSION]"; rpm: 1 on install,
# 2 or more on upgrade.
set -e

case "$1" in
configure) if [ -n "$2" ]; then upgrade=1; else upgrade=0; fi; format=deb ;;
1) upgrade=0; format=rpm ;;
[0-9]*) upgrade=1; format=rpm ;;
*) exit 0 ;; # abort-upgrade, abort-remove...
esac

# Group herdctl (D-Bus callers) and the example agent's user, then the
# example workspace owned by it.
systemd-sysusers herdctl.conf || true
systemd-tmpfiles --create herdctl.conf || true

# The configuration: the example fleet where there is none yet. The
# package owns no file in /etc, so an upgrade never asks about an edited
# one, and never changes one.
example=/usr/share/herdctl/example
install -d -m 0755 /etc/herdctl /etc/herdctl/fleet.d /etc/herdctl/agents
if [ ! -e /etc/herdctl/herdctl.toml ]; then
	install -m 0644 "$example/herdctl.toml" /etc/herdctl/herdctl.toml
	[ -e /etc/herdctl/agents/gardener/agent.toml ] ||
		install -D -m 0644 "$example/agents/gardener/agent.toml" /etc/herdctl/agents/gardener/agent.toml
fi
[ -e /etc/herdctl/herdctl.env ] || install -m 0600 "$example/herdctl.env" /etc/herdctl/herdctl.env
chmod 0600 /etc/herdctl/herdctl.env

[ -d /run/systemd/system ] || exit 0 # not booted with systemd (an image build)

systemctl daemon-reload || true
# The jobs' journal namespace reads its drop-in (size cap) as it starts.
systemctl try-restart systemd-journald@herdctl.service >/dev/null 2>&1 || true
# dbus-broker does not always notice a new policy file by itself.
busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null 2>&1 || true

if [ "$upgrade" = 1 ]; then
	# deb upgrades restart here; rpm upgrades in the old package's postun.
	[ "$format" = deb ] && systemctl try-restart herdctl.service || true
	exit 0
fi
if [ "$format" = deb ]; then
	# Debian enables and starts a service on install.
	systemctl enable herdctl.service >/dev/null 2>&1 || true
	systemctl start herdctl.service || echo "herdctl: the service did not start: see systemctl status herdctl and journalctl -u herdctl" >&2
else
	# Fedora leaves it to the presets.
	systemctl preset herdctl.service >/dev/null 2>&1 || true
fi

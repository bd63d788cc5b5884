#!/usr/bin/env bash
# Installs everything herdctl's build and tests need on Debian/Ubuntu:
# containerd, runc, systemd-container (the nspawn testbed), busybox-static
# (tiny test rootfs), rpm and lintian (package checks), Cockpit and Chromium
# (the web console's test), and, into a cache outside the repository, the
# Claude Code CLI from npm and a Kubernetes control plane
# (scripts/kube-testbin.sh). Idempotent: what is present is not fetched
# again.
set -euo pipefail

CACHE=${HERDCTL_TEST_CACHE:-/var/cache/herdctl-test}
CLAUDE_VERSION=${CLAUDE_VERSION:-2.1.328}
need_apt=()
for pair in gcc:gcc containerd:containerd runc:runc systemd-nspawn:systemd-container busybox:busybox-static \
	systemd-analyze:systemd dbus-daemon:dbus dbus-send:dbus-bin journalctl:systemd npm:npm rpm:rpm lintian:lintian gzip:gzip \
	zsh:zsh curl:curl perl:perl setpriv:util-linux; do
	cmd=${pair%%:*} pkg=${pair##*:}
	command -v "$cmd" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# The web console's system test: Debian's Cockpit (its web service, bridge
# and shell; the test machine overlays this host and has no network) and
# Debian's Chromium, which the test drives headless.
for pkg in cockpit-ws cockpit-bridge cockpit-system chromium; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps.sh: missing ${need_apt[*]}: run as root (sudo make test) or install them" >&2
		exit 1
	fi
	echo "deps.sh: installing ${need_apt[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

claude="$CACHE/claude/node_modules/@anthropic-ai/claude-code-linux-x64/claude"
if [ ! -x "$claude" ]; then
	echo "deps.sh: installing Claude Code $CLAUDE_VERSION into $CACHE/claude"
	mkdir -p "$CACHE/claude"
	(cd "$CACHE/claude" && npm install --no-audit --no-fund --loglevel=error "@anthropic-ai/claude-code@$CLAUDE_VERSION" >/dev/null)
fi
# The Kubernetes control plane of the export's end-to-end test, built from
# the Go module proxy (10-20 minutes the first time, then cached).
bash "$(dirname "$0")/kube-testbin.sh"
echo "deps.sh: ready (claude at $claude)"

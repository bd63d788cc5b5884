// Package e2e holds herdctl's system tests: the daemon, its units, the
// D-Bus API, journald and the real Claude Code CLI inside a throwaway
// machine booted with systemd-nspawn over an overlay of this host (see
// TESTBED.md). They run with HERDCTL_E2E=1 (make e2e) as root.
package e2e

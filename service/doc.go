// Package service is herdctl's running side. The daemon (Daemon, run by
// herdctl.service) keeps systemd's timers and job units in step with the
// fleet, reloads it as a difference, reconciles what an earlier run left,
// starts manual jobs as transient units, keeps the job index, and serves
// the D-Bus API (Bus). The job runner (Runner, run by every job unit) runs
// one agent job in containerd, turns Claude Code's stream-json into
// journald entries and records the outcome under /var/lib/herdctl.
//
// It consumes resolved agents from package policy, units from package
// units and containers through package containerd; the D-Bus contract is
// package service/api. Nothing flows back.
package service

// Package service is herdctl's daemon side: the job runner that every job
// unit executes (it runs one agent job in containerd, turns Claude Code's
// stream-json into journald entries and records the outcome), the job
// records under /var/lib/herdctl, and the daemon's lifecycle.
//
// It consumes resolved agents from package policy, units from package
// units and containers through package containerd; nothing flows back.
package service

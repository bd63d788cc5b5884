// Package runner runs one job of an agent: what every herdctl job unit
// executes (herdctl-runner run). It reads the agent's snapshot that the
// daemon wrote, builds the job's container through package policy/spec,
// runs it as a containerd task, turns Claude Code's stream-json output
// into journald entries, and records the job's outcome. It also reaps
// containers whose job unit is gone.
//
// It shares only package state with the daemon (package service/daemon)
// and never imports it.
package runner

// Package units renders the systemd units herdctl owns: for every enabled
// schedule of every agent, a timer and the job service it activates. It
// is pure: text in, text out, no I/O, deterministic, so every rendered
// unit is golden-tested and checked with systemd-analyze verify.
//
// The daemon (package service) writes what this package renders into
// /run/systemd/system; manual triggers use JobService's properties for a
// transient unit, so a manual job and a scheduled one run alike.
package units

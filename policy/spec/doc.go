// Package spec builds what a job runs as: the locked-down OCI spec of its
// container (runtime-spec types, assembled with containerd's spec options
// and its default seccomp profile) and the built-in host image's root;
// Claude Code's command line and environment are package claudecli's.
// Every function is a pure function of a resolved policy.Agent and the
// job's own values, but for the two that lay out the host image's root on
// disk.
//
// Only the job runner imports it: the daemon links no containerd code.
package spec

// Package version holds herdctl's version, stamped at build time by the
// Makefile from git.
package version

// Version is set with -ldflags "-X .../internal/version.Version=...".
var Version = "dev"

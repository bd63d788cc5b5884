// Package config owns herdctl's configuration as data: it reads the fleet
// file and the agent files it lists (TOML), expands ${VAR} references from
// the env file in the fleet file only, merges defaults → agent file →
// per-agent overrides, and checks every field's shape and value.
//
// Every error it returns is an *Error naming the file, line, column and
// field path, and saying what is allowed. It performs no policy decisions
// (which tier may set what, what a workspace may be): that is package
// policy's job, which receives the provenance of every field from here.
package config

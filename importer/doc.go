// Package importer brings a fleet of the original, TypeScript herdctl
// (edspencer/herdctl: a herdctl.yaml listing agents/*.yaml) over to this
// herdctl: it reads the YAML with the position of every value, resolves
// the original's own rules (fleet defaults, then the agent file, then the
// fleet's per-agent overrides; paths relative to the file that wrote them;
// the .env beside the fleet file for ${VAR} in paths), and maps each
// option onto config's types, split between the agent file and the
// fleet's [agents.overrides] by package policy's tier tables: it never
// decides on its own what an agent file may hold. What has no counterpart
// here is listed per agent, with why, never dropped in silence.
//
// It owns the YAML reading (yaml.go: file size cap, regular files only,
// a node budget against alias bombs, file:line on every error), the
// mapping (agent.go, fleet.go), the TOML writer of config's types
// (toml.go) and the writing of the output directory (write.go).
package importer

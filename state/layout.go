package state

import "path/filepath"

// Default directories, as herdctl.service creates them (StateDirectory=,
// RuntimeDirectory=).
const (
	DefaultStateDir   = "/var/lib/herdctl"
	DefaultRuntimeDir = "/run/herdctl"
)

// Layout is where herdctl keeps its files. The zero value is not useful:
// use Default, or set both directories (tests do).
type Layout struct {
	// StateDir survives reboots: job records, agent homes, the last
	// good fleet.
	StateDir string
	// RuntimeDir is root-only (0700) and gone at reboot: agent
	// snapshots (they hold secrets), prompts, per-job scratch.
	RuntimeDir string
}

// Default is the packaged layout.
func Default() Layout { return Layout{StateDir: DefaultStateDir, RuntimeDir: DefaultRuntimeDir} }

// OrDefault fills the directories left empty with the defaults.
func (l Layout) OrDefault() Layout {
	if l.StateDir == "" {
		l.StateDir = DefaultStateDir
	}
	if l.RuntimeDir == "" {
		l.RuntimeDir = DefaultRuntimeDir
	}
	return l
}

// JobsDir holds one record per job, ID.json.
func (l Layout) JobsDir() string { return filepath.Join(l.StateDir, "jobs") }

// JobRecord is the record file of job id.
func (l Layout) JobRecord(id string) string { return filepath.Join(l.JobsDir(), id+".json") }

// AgentsDir holds a directory per agent name, root-owned.
func (l Layout) AgentsDir() string { return filepath.Join(l.StateDir, "agents") }

// AgentDir is agent's own state directory, root-owned: its home, its
// latest session, its identity.
func (l Layout) AgentDir(agent string) string { return filepath.Join(l.AgentsDir(), agent) }

// AgentHome is the agent's persistent home, owned by the agent's user and
// mounted at its home inside the container (~/.claude lives there).
func (l Layout) AgentHome(agent string) string { return filepath.Join(l.AgentDir(agent), "home") }

// AgentSession holds the id of the agent's latest Claude session.
func (l Layout) AgentSession(agent string) string {
	return filepath.Join(l.AgentDir(agent), "session")
}

// SnapshotsDir holds the daemon's snapshot of every resolved agent.
func (l Layout) SnapshotsDir() string { return filepath.Join(l.RuntimeDir, "agents") }

// Snapshot is the snapshot file of agent.
func (l Layout) Snapshot(agent string) string {
	return filepath.Join(l.SnapshotsDir(), agent+".json")
}

// PromptsDir holds the prompts of manual jobs until their runner reads them.
func (l Layout) PromptsDir() string { return filepath.Join(l.RuntimeDir, "prompts") }

// PromptFile is the prompt file of job id.
func (l Layout) PromptFile(id string) string { return filepath.Join(l.PromptsDir(), id) }

// JobScratch is a job's scratch directory (the host image's root and
// /etc), removed when the job ends.
func (l Layout) JobScratch(id string) string { return filepath.Join(l.RuntimeDir, "jobs", id) }

// UnitsPending marks unit files written but not yet seen by systemd (a
// daemon-reload that failed or never came): the next apply reloads.
func (l Layout) UnitsPending() string { return filepath.Join(l.RuntimeDir, "units-pending") }

// AgentDisabled marks an agent disabled by the operator (herdctlctl
// disable): it survives reloads, restarts and reboots.
func (l Layout) AgentDisabled(agent string) string {
	return filepath.Join(l.AgentDir(agent), "disabled")
}

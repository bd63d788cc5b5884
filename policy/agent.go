package policy

import (
	"time"

	"github.com/herdctl/herdctl/config"
)

// Agent is one agent fully resolved: every value explicit, every path
// absolute, nothing left to a default downstream. It is what the daemon
// writes (root-only) for the runner, so it may hold secrets in
// Container.Env: never render it into a unit or a log line.
type Agent struct {
	Fleet         string   `json:"fleet"`
	Name          string   `json:"name"`
	Description   string   `json:"description,omitempty"`
	File          string   `json:"file"`
	DefaultPrompt string   `json:"default_prompt,omitempty"`
	Claude        Claude   `json:"claude"`
	Command       []string `json:"command,omitempty"` // replaces claude when set
	Workspace     string   `json:"workspace"`
	WorkspaceMode string   `json:"workspace_mode"` // "rw" or "ro"
	MaxConcurrent int      `json:"max_concurrent"`
	// Timeout bounds a manual job run without a schedule.
	Timeout   time.Duration `json:"timeout"`
	Schedules []Schedule    `json:"schedules"`
	// Hooks run after the agent's jobs; they hold webhook secrets.
	Hooks Hooks `json:"hooks,omitzero"`
	// LogBudget bounds what one job may put into the journal, and
	// LogBudgetDaily what the agent's jobs may in a day (bytes as
	// journald stores them).
	LogBudget      int64 `json:"log_budget"`
	LogBudgetDaily int64 `json:"log_budget_daily"`
	// Budget bounds what the agent's jobs spend.
	Budget Budget `json:"budget,omitzero"`
	// FleetLogBudgetDaily bounds what all the fleet's jobs may put into
	// the journal in a day: the fleet's [fleet] log_budget_daily.
	FleetLogBudgetDaily int64     `json:"fleet_log_budget_daily"`
	Container           Container `json:"container"`
	// Containerd is where the agent's jobs run: the fleet's [containerd].
	Containerd Containerd `json:"containerd"`
	// Chat is the agent's chat bots, nil without. It holds their tokens
	// and is never in the agent's snapshot: the daemon hands it to
	// herdctl-chat.service alone (package chat).
	Chat *Chat `json:"-"`
}

// Budget is what an agent's jobs may spend, in dollars (0: no limit).
// Once the day's cost (the host's local day) reaches PerDay the agent's
// jobs are skipped until the next day; each job that starts is given
// what is left of it, and at most PerJob, as Claude Code's own
// --max-budget-usd. With Action "cancel" a running job is also stopped
// when its cost, as its events report it, crosses the day's budget.
type Budget struct {
	PerDay float64 `json:"per_day,omitempty"`
	PerJob float64 `json:"per_job,omitempty"`
	Action string  `json:"action,omitempty"` // "skip" or "cancel"
}

// Budget actions.
const (
	BudgetSkip   = "skip"
	BudgetCancel = "cancel"
)

// Containerd says how the runner reaches containerd.
type Containerd struct {
	Address   string `json:"address"`
	Namespace string `json:"namespace"`
}

// Claude is how Claude Code is invoked inside the container.
type Claude struct {
	Path           string   `json:"path"` // on the host; "" when not found
	Model          string   `json:"model,omitempty"`
	MaxTurns       int      `json:"max_turns,omitempty"`
	PermissionMode string   `json:"permission_mode"`
	SystemPrompt   string   `json:"system_prompt,omitempty"`
	AllowedTools   []string `json:"allowed_tools,omitempty"`
	DeniedTools    []string `json:"denied_tools,omitempty"`
	MCPConfig      string   `json:"mcp_config,omitempty"` // JSON for --mcp-config
}

// Schedule is one resolved schedule.
type Schedule struct {
	Name          string        `json:"name"`
	Type          string        `json:"type"` // "interval" or "cron"
	Interval      time.Duration `json:"interval,omitempty"`
	Cron          *config.Cron  `json:"cron,omitempty"`
	Prompt        string        `json:"prompt"`
	Enabled       bool          `json:"enabled"`
	ResumeSession bool          `json:"resume_session"`
	Timeout       time.Duration `json:"timeout"`
	Jitter        time.Duration `json:"jitter"`
	CatchUp       bool          `json:"catch_up"`
}

// Container is the container an agent's jobs run in.
type Container struct {
	Image   string `json:"image"`   // HostImage or an OCI reference
	Network string `json:"network"` // NetworkNone or NetworkHost
	UID     uint32 `json:"uid"`
	GID     uint32 `json:"gid"`
	// UserFromWorkspace says UID:GID is the workspace's owner (the fleet
	// set no user): the runner checks the owner is still that.
	UserFromWorkspace bool              `json:"user_from_workspace"`
	MemoryBytes       int64             `json:"memory_bytes"`
	CPUShares         uint64            `json:"cpu_shares,omitempty"`
	CPUPeriod         uint64            `json:"cpu_period,omitempty"`
	CPUQuota          int64             `json:"cpu_quota,omitempty"`
	PidsLimit         int64             `json:"pids_limit"`
	TmpSize           int64             `json:"tmp_size"`
	Tmpfs             []Tmpfs           `json:"tmpfs,omitempty"`
	Volumes           []Volume          `json:"volumes,omitempty"`
	Env               map[string]string `json:"env,omitempty"`
	// SecretEnv are the variables whose values hold the env file's
	// secrets, as templates (SecretTemplate) the runner expands from the
	// env file systemd loads for the job (EnvFile, as a credential): the
	// secrets themselves are in no snapshot, unit or record.
	SecretEnv      map[string]string `json:"secret_env,omitempty"`
	EnvFile        string            `json:"env_file,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
	ReadonlyRootfs bool              `json:"readonly_rootfs"`
	Ephemeral      bool              `json:"ephemeral"`
	MaxContainers  int               `json:"max_containers"`
	// Egress and EgressPrivate are, for network = "egress", the rules the
	// job's proxy allows and the private ranges they may resolve into
	// (policy/egress syntax, checked).
	Egress        []string `json:"egress,omitempty"`
	EgressPrivate []string `json:"egress_private,omitempty"`
	// DiskBytes and Inodes bound the workspace and the home together.
	DiskBytes int64 `json:"disk_bytes"`
	Inodes    int64 `json:"inodes"`
}

// Tmpfs is an extra tmpfs mount.
type Tmpfs struct {
	Path    string   `json:"path"`
	Options []string `json:"options"`
}

// Volume is a fleet-granted bind mount.
type Volume struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only"`
}

// Schedule returns the named schedule, or false.
func (a *Agent) Schedule(name string) (Schedule, bool) {
	for _, s := range a.Schedules {
		if s.Name == name {
			return s, true
		}
	}
	return Schedule{}, false
}

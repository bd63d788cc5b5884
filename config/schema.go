package config

// FleetFile is the fleet file (/etc/herdctl/herdctl.toml) as written.
// It is trusted: only root can write it, and only it may widen what an
// agent gets.
type FleetFile struct {
	Version    int          `toml:"version"`
	EnvFile    string       `toml:"env_file"`
	ClaudePath string       `toml:"claude_path"`
	Containerd Containerd   `toml:"containerd"`
	Fleet      FleetInfo    `toml:"fleet"`
	Defaults   Agent        `toml:"defaults"`
	Agents     []AgentEntry `toml:"agents"`
	// Chat points the chat bridge at other endpoints than the
	// platforms' own (a relay, a test fake).
	Chat FleetChat `toml:"chat"`
}

// Containerd says how to reach containerd.
type Containerd struct {
	Address   string `toml:"address"`
	Namespace string `toml:"namespace"`
}

// FleetInfo names the fleet.
type FleetInfo struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
	// LogBudgetDaily bounds what all jobs together may put into the
	// journal in a day.
	LogBudgetDaily string `toml:"log_budget_daily"`
	// Retention is how long job records, hook results, day files and
	// transcripts are kept (herdctlctl prune).
	Retention string `toml:"retention"`
}

// AgentEntry lists one agent file and the fleet's overrides for it.
type AgentEntry struct {
	Path      string `toml:"path"`
	Overrides Agent  `toml:"overrides"`
}

// Agent is every option an agent can have. The same shape is used for the
// agent file, the fleet's defaults and the per-agent overrides; which of
// these may set which field is decided by package policy.
type Agent struct {
	Name          string `toml:"name"`
	Description   string `toml:"description"`
	SystemPrompt  string `toml:"system_prompt"`
	DefaultPrompt string `toml:"default_prompt"`
	Model         string `toml:"model"`
	MaxTurns      int    `toml:"max_turns"`
	// MaxCostUSDPerDay and MaxCostUSDPerJob bound what the agent's jobs
	// spend, in dollars (the fleet's values are ceilings an agent file
	// may only lower). BudgetAction is what the day's budget does:
	// "skip" the agent's next jobs, or also "cancel" the running ones.
	MaxCostUSDPerDay float64              `toml:"max_cost_usd_per_day"`
	MaxCostUSDPerJob float64              `toml:"max_cost_usd_per_job"`
	BudgetAction     string               `toml:"budget_action"`
	PermissionMode   string               `toml:"permission_mode"`
	AllowedTools     []string             `toml:"allowed_tools"`
	DeniedTools      []string             `toml:"denied_tools"`
	MCPServers       map[string]MCPServer `toml:"mcp_servers"`
	WorkingDirectory string               `toml:"working_directory"`
	Command          []string             `toml:"command"`
	// Hooks run after the agent's jobs (fleet only).
	Hooks Hooks `toml:"hooks"`
	// Timeout bounds a job that has none of its own (a manual job, a
	// schedule without timeout); set by the fleet, it is the ceiling of
	// every timeout the agent file writes.
	Timeout string `toml:"timeout"`
	// LogBudget is how much of the journal one job may fill, and
	// LogBudgetDaily how much the agent's jobs may fill in a day.
	LogBudget      string              `toml:"log_budget"`
	LogBudgetDaily string              `toml:"log_budget_daily"`
	Instances      Instances           `toml:"instances"`
	Schedules      map[string]Schedule `toml:"schedules"`
	Docker         Docker              `toml:"docker"`
	// Chat connects the agent to Discord and Slack through
	// herdctl-chat.service (fleet only: tokens and who may talk).
	Chat Chat `toml:"chat"`
}

// MCPServer is one MCP server handed to Claude Code with --mcp-config. It
// runs inside the agent's container, so it gets nothing the agent lacks.
type MCPServer struct {
	Type    string            `toml:"type" json:"type,omitempty"`
	Command string            `toml:"command" json:"command,omitempty"`
	Args    []string          `toml:"args" json:"args,omitempty"`
	Env     map[string]string `toml:"env" json:"env,omitempty"`
	URL     string            `toml:"url" json:"url,omitempty"`
	// Headers are sent with every request to an http or sse server: the
	// place of bearer and API-key auth. A secret belongs in the env
	// file: write "Bearer $${TOKEN}" and pass TOKEN in docker.env, and
	// Claude Code expands it inside the container, so the value is in
	// no command line or snapshot.
	Headers map[string]string `toml:"headers" json:"headers,omitempty"`
	// Timeout bounds each of the server's tool calls, in milliseconds.
	Timeout int64 `toml:"timeout" json:"timeout,omitempty"`
	// AlwaysLoad puts the server's tools in every prompt instead of
	// deferring them until searched for.
	AlwaysLoad bool `toml:"always_load" json:"alwaysLoad,omitempty"`
}

// Instances bounds how many jobs of an agent may run at once.
type Instances struct {
	MaxConcurrent int `toml:"max_concurrent"`
}

// Schedule is one schedule of an agent: each becomes a systemd timer.
type Schedule struct {
	Type          string `toml:"type"`
	Interval      string `toml:"interval"`
	Cron          string `toml:"cron"`
	Prompt        string `toml:"prompt"`
	Enabled       *bool  `toml:"enabled"`
	ResumeSession *bool  `toml:"resume_session"`
	Timeout       string `toml:"timeout"`
	Jitter        string `toml:"jitter"`
	CatchUp       *bool  `toml:"catch_up"`
}

// Docker is the container an agent gets. The name follows herdctl's own
// configuration; herdctl runs it as a containerd task, not through Docker.
type Docker struct {
	// Safe: an agent file may set these.
	Enabled       *bool             `toml:"enabled"`
	Ephemeral     *bool             `toml:"ephemeral"`
	Memory        string            `toml:"memory"`
	CPUShares     int64             `toml:"cpu_shares"`
	CPUPeriod     int64             `toml:"cpu_period"`
	CPUQuota      int64             `toml:"cpu_quota"`
	MaxContainers int               `toml:"max_containers"`
	WorkspaceMode string            `toml:"workspace_mode"`
	Tmpfs         []string          `toml:"tmpfs"`
	PidsLimit     int64             `toml:"pids_limit"`
	Labels        map[string]string `toml:"labels"`
	// Disk and Inodes bound what the job may keep in its workspace and
	// home together.
	Disk   string `toml:"disk"`
	Inodes int64  `toml:"inodes"`

	// Dangerous: only the fleet file may set these.
	Image   string   `toml:"image"`
	Network string   `toml:"network"`
	Volumes []string `toml:"volumes"`
	User    string   `toml:"user"`
	Ports   []string `toml:"ports"`
	// Egress lists where an agent with network = "egress" may connect
	// (names with optional ports, wildcards); an agent file may narrow
	// it. EgressPrivate lists the private ranges those names may resolve
	// into (fleet only).
	Egress        []string          `toml:"egress"`
	EgressPrivate []string          `toml:"egress_private"`
	Env           map[string]string `toml:"env"`
	HostConfig    HostConfig        `toml:"host_config"`
}

// HostConfig holds the few host-level container settings herdctl
// translates; any other key is an unknown-field error.
type HostConfig struct {
	ReadonlyRootfs *bool  `toml:"readonly_rootfs"`
	TmpSize        string `toml:"tmp_size"`
}

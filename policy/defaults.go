package policy

import "time"

// Defaults applied when neither the fleet nor the agent says otherwise.
const (
	DefaultImage          = HostImage
	DefaultNetwork        = NetworkNone
	DefaultMemory         = 2 << 30
	DefaultPidsLimit      = 256
	DefaultTmpSize        = 256 << 20
	DefaultMaxConcurrent  = 1
	DefaultMaxContainers  = 1
	DefaultPermissionMode = "acceptEdits"
	DefaultTimeout        = time.Hour
	DefaultDisk           = 10 << 30
	DefaultInodes         = 1 << 20
	// Journal budgets, counted as journald stores entries (see
	// service/runner's entryCost). The agent's day is the most it can
	// write in any window, 30 seconds from a 1-second schedule included:
	// 64 MiB keeps one agent under 100 MiB with room for journald storing
	// half again what is counted. A job's 16 MiB is several times what a
	// long Claude Code session logs (one entry per stream-json event), and
	// lets four such jobs a day. The fleet's 512 MiB a day is half the
	// jobs' namespace's default cap (1G, packaging/journald), so one day's
	// worst leaves the day before in the journal.
	DefaultLogBudget      = 16 << 20
	DefaultLogBudgetDaily = 64 << 20
	// DefaultFleetLogDaily bounds all jobs' journal entries in a day.
	DefaultFleetLogDaily = 512 << 20
	// DefaultRetention is how long job records and the rest are kept
	// when [fleet] retention is not set.
	DefaultRetention  = 90 * 24 * time.Hour
	DefaultContainerd = "/run/containerd/containerd.sock"
	DefaultNamespace  = "herdctl"
)

// HostImage is the name of the built-in image: the host's own /usr,
// read-only, with a synthetic /etc (package policy/spec builds it).
const HostImage = "host"

// WorkspaceDir is where an agent's workspace is mounted in its container.
const WorkspaceDir = "/workspace"

// Networks an agent may have.
const (
	// NetworkNone is a network namespace of the task's own with only
	// loopback.
	NetworkNone = "none"
	// NetworkHost is the host's network namespace (fleet only).
	NetworkHost = "host"
	// NetworkEgress is a namespace with only loopback, where the job's
	// runner serves a proxy that reaches only the fleet's egress list.
	NetworkEgress = "egress"
)

// DefaultEgress is where an agent with network = "egress" may connect when
// the fleet lists nothing: what Claude Code needs with an API key or an
// OAuth token (CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC is set for it).
var DefaultEgress = []string{"api.anthropic.com"}

// ProxyPort is where the egress proxy listens inside the agent's network
// namespace (its own loopback: no other process is there).
const ProxyPort = 3128

// Floors and ceilings of the container limits.
const (
	MinMemory        = 64 << 20
	MinPidsLimit     = 16
	MaxPidsLimit     = 1 << 20
	MinCPUShares     = 2
	MaxCPUShares     = 262144
	MinCPUPeriod     = 1000
	MaxCPUPeriod     = 1000000
	MinCPUQuota      = 1000
	MaxMaxConcurrent = 64
	MaxMaxContainers = 100
	MinTmpSize       = 1 << 20
)

// Built-in ceilings: what an agent file may ask for when the fleet sets no
// value of its own (the fleet's value is the ceiling when it sets one).
const (
	CeilingMemory        = DefaultMemory
	CeilingPidsLimit     = DefaultPidsLimit
	CeilingCPUShares     = 1024
	CeilingMaxConcurrent = DefaultMaxConcurrent
	CeilingMaxContainers = DefaultMaxContainers
	CeilingTmpSize       = DefaultTmpSize
	CeilingTimeout       = 24 * time.Hour
	CeilingDisk          = DefaultDisk
	CeilingInodes        = DefaultInodes
	CeilingLogBudget     = DefaultLogBudget
	CeilingLogDaily      = DefaultLogBudgetDaily
	// MaxTmpfs bounds the extra tmpfs mounts; each counts against the
	// memory limit too.
	MaxTmpfs = 4
	// MaxLabels bounds an agent's container labels.
	MaxLabels = 32
)

// AgentFileSafe lists the [docker] options an agent file may set. Every
// other docker option, and command, may only come from the fleet file.
var AgentFileSafe = []string{"enabled", "ephemeral", "memory", "cpu_shares", "cpu_period",
	"cpu_quota", "max_containers", "workspace_mode", "tmpfs", "pids_limit", "labels", "disk", "inodes",
	"egress"} // narrowing only: checked against the fleet's list

// FleetOnlyTopLevel lists the agent options outside [docker] that only the
// fleet may set: they decide what runs, not how, or who may talk to the
// agent and with which secrets (chat).
var FleetOnlyTopLevel = []string{"command", "chat"}

// ReservedLabelPrefix marks the labels herdctl puts on containers to find
// them again; nobody may set them by configuration.
const ReservedLabelPrefix = "dev.herdctl."

// CredentialVars are passed from the fleet's env file to Claude Code
// without being listed in docker.env.
var CredentialVars = []string{"ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_BASE_URL"}

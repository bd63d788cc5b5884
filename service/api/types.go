package api

import (
	"strings"
	"time"

	"github.com/herdctl/herdctl/state"
)

// AdminGroup is the group whose members may trigger, cancel and reload,
// besides root (the packaged D-Bus policy and sysusers name it too).
const AdminGroup = "herdctl"

// Names on the system bus.
const (
	BusName    = "dev.herdctl.Manager1"
	ObjectPath = "/dev/herdctl/Manager1"
	Interface  = "dev.herdctl.Manager1"
)

// Error names the daemon replies with.
const (
	ErrAccessDenied  = "org.freedesktop.DBus.Error.AccessDenied"
	ErrInvalidArgs   = "org.freedesktop.DBus.Error.InvalidArgs"
	ErrNotFound      = "dev.herdctl.Error.NotFound"
	ErrInvalidConfig = "dev.herdctl.Error.InvalidConfig"
	ErrBusy          = "dev.herdctl.Error.Busy"
	ErrDisabled      = "dev.herdctl.Error.Disabled"
	ErrFailed        = "dev.herdctl.Error.Failed"
)

// Job statuses (package state owns them: they are in the job records).
const (
	StatusQueued    = state.StatusQueued
	StatusRunning   = state.StatusRunning
	StatusCompleted = state.StatusCompleted
	StatusFailed    = state.StatusFailed
	StatusCancelled = state.StatusCancelled
	StatusTimedOut  = state.StatusTimedOut
	StatusSkipped   = state.StatusSkipped
)

// Finished reports whether a job in status s has ended.
func Finished(s string) bool { return state.Finished(s) }

// Job is one job as GetJob and ListJobs return it: its record.
type Job = state.Job

// Schedule is one schedule of an agent with its timer's state.
type Schedule struct {
	Name      string        `json:"name"`
	Type      string        `json:"type"` // interval or cron
	Every     time.Duration `json:"every_usec,omitempty"`
	Cron      string        `json:"cron,omitempty"`
	Enabled   bool          `json:"enabled"`
	Timeout   time.Duration `json:"timeout_usec"`
	Timer     string        `json:"timer,omitempty"`
	NextRun   time.Time     `json:"next_run,omitzero"`
	LastRun   time.Time     `json:"last_run,omitzero"`
	TimerUnit string        `json:"timer_state,omitempty"` // ActiveState of the timer
}

// Agent is one agent as GetAgent and ListAgents return it.
type Agent struct {
	Name          string     `json:"name"`
	Description   string     `json:"description,omitempty"`
	File          string     `json:"file"`
	Image         string     `json:"image"`
	Network       string     `json:"network"`
	Workspace     string     `json:"workspace"`
	WorkspaceMode string     `json:"workspace_mode"`
	User          string     `json:"user"`
	MaxConcurrent int        `json:"max_concurrent"`
	Running       int        `json:"running"`
	Schedules     []Schedule `json:"schedules"`
	// Disabled says the operator disabled the agent (herdctlctl disable):
	// no timers, no triggers, until herdctlctl enable.
	Disabled     bool      `json:"disabled,omitempty"`
	LastJob      string    `json:"last_job,omitempty"`
	LastStatus   string    `json:"last_status,omitempty"`
	LastFinished time.Time `json:"last_finished,omitzero"`
	// LastEgressDenied is how many connections the last job's egress
	// proxy refused.
	LastEgressDenied int `json:"last_egress_denied,omitempty"`
}

// ConfigValue is one value of an agent's effective configuration and
// where it was written: file:line, or which default it is.
type ConfigValue struct {
	Field string `json:"field"`
	Value string `json:"value"`
	From  string `json:"from"`
}

// Withheld stands for a value the caller may not read.
const Withheld = "(withheld: for root, group herdctl and the agent's user)"

// PromptField reports whether a ShowAgent field is one of the agent's
// prompts, which ShowAgent withholds as ListJobs does a job's prompt.
func PromptField(field string) bool {
	return field == "system_prompt" || field == "default_prompt" || strings.HasSuffix(field, ".prompt")
}

// ConfigError is one error in the fleet's configuration.
type ConfigError struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Status is the fleet summary GetStatus returns.
type Status struct {
	Version     string        `json:"version"`
	FleetName   string        `json:"fleet_name"`
	ConfigFile  string        `json:"config_file"`
	Agents      int           `json:"agents"`
	Timers      int           `json:"timers"`
	RunningJobs int           `json:"running_jobs"`
	Since       time.Time     `json:"since"`
	LastReload  time.Time     `json:"last_reload"`
	ReloadError string        `json:"reload_error,omitempty"`
	Errors      []ConfigError `json:"reload_errors,omitempty"`
	// BrokenAgents are left out of the fleet for their errors: their
	// timers are stopped until their files are fixed.
	BrokenAgents []BrokenAgent `json:"broken_agents,omitempty"`
	// LastGood says the fleet's own files were broken when the daemon
	// started, and it runs the last good fleet.
	LastGood bool `json:"running_last_good,omitempty"`
	// Warnings are what would make jobs fail or weaken the sandbox
	// without being configuration errors (policy.Preflight), as of the
	// last applied fleet.
	Warnings []ConfigError `json:"warnings,omitempty"`
}

// BrokenAgent is an agent left out of the fleet.
type BrokenAgent struct {
	Name   string        `json:"name,omitempty"`
	File   string        `json:"file"`
	Errors []ConfigError `json:"errors"`
}

// JobFilter narrows ListJobs.
type JobFilter struct {
	Agent  string `json:"agent,omitempty"`
	Status string `json:"status,omitempty"`
	// Session keeps the jobs that ran in one Claude Code session (a
	// conversation: the web console's chat, herdctlctl jobs --session).
	Session string `json:"session,omitempty"`
	Limit   int    `json:"limit,omitempty"` // newest first; 0 means all
	// Offset skips that many of the matching jobs, newest first, so that
	// Limit and Offset page through them.
	Offset int `json:"offset,omitempty"`
}

// TriggerOptions change how Trigger starts a job.
type TriggerOptions struct {
	// Queue waits for a free slot instead of refusing when the agent
	// already runs max_concurrent jobs.
	Queue bool `json:"queue,omitempty"`
	// Resume continues one of the agent's Claude Code sessions: a
	// session id from herdctlctl sessions, or "latest".
	Resume string `json:"resume,omitempty"`
	// Inbox names the files herdctl-chat staged for the job (a chat
	// message's attachments: chat.IsStageName), which its runner copies
	// into the agent's workspace before the job starts.
	Inbox string `json:"inbox,omitempty"`
}

// ResumeLatest is TriggerOptions.Resume for the agent's latest session.
const ResumeLatest = state.ResumeLatest

// readOnlyMethods may be called by anyone: the D-Bus policy opens them to
// every user; the others need root or group herdctl.
var readOnlyMethods = map[string]bool{"GetStatus": true, "ListAgents": true, "GetAgent": true, "ListJobs": true, "GetJob": true, "ShowAgent": true,
	"ListSessions": true, "GetCost": true}

// ReadOnly reports whether method changes nothing and may be called by
// anyone.
func ReadOnly(method string) bool { return readOnlyMethods[method] }

// ReadOnlyMethods lists the methods anyone may call.
func ReadOnlyMethods() []string {
	out := make([]string, 0, len(readOnlyMethods))
	for m := range readOnlyMethods {
		out = append(out, m)
	}
	return out
}

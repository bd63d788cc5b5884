package main

import (
	"strings"
	"time"

	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// The fixed data the golden tests print: a healthy fleet, and one an
// agent has been writing hostile text into.

// now is the clock every golden test shows times against (UTC, so the
// golden files do not depend on the machine's zone).
var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return now.Add(-d) }
func ptr[T any](v T) *T             { return &v }

// Hostile text, each a way an agent could make a terminal or a line lie.
const (
	hostileEscapes = "done\x1b]0;owned\x07\x1b[2J\x1b[1;1H\x1b[31mALL CLEAR\x1b[0m"
	hostileBidi    = "report \u202egpj.exe\u202c is \u2066safe\u2069"
	hostileInvalid = "bytes \xff\xfe and a cut \xc3 rune"
	hostileC1      = "csi \u009b2J and nel \u0085 here"
	hostileHidden  = "ad\u200bmin\ufeff with tag \U000e0041 chars"
	hostileLine    = "innocent\roverwritten\ttabbed\x7fdel\x00nul"
	hostileLines   = "first line\nNov 30 12:00:00 other-agent: a forged entry\n\n\tindented \x1b[8mhidden\x1b[0m"
)

// long is a value far wider than a table column.
var long = "the job ran out of turns after " + strings.Repeat("reading every file in the workspace, ", 6) + "and stopped"

var (
	weekly = api.Schedule{Name: "weekly", Type: "cron", Cron: "0 9 * * 1", Enabled: true, Timeout: 30 * time.Minute,
		Timer: "herdctl-gardener-weekly.timer", TimerUnit: "active", NextRun: now.Add(50 * time.Hour), LastRun: ago(118 * time.Hour)}
	weather = api.Schedule{Name: "weather", Type: "interval", Every: 72 * time.Hour, Enabled: true, Timeout: 10 * time.Minute,
		Timer: "herdctl-gardener-weather.timer", TimerUnit: "active", NextRun: now.Add(3*time.Hour + 12*time.Minute)}
	paused = api.Schedule{Name: "nightly", Type: "cron", Cron: "0 3 * * *", Enabled: false, Timeout: time.Hour,
		Timer: "herdctl-homelab-nightly.timer", TimerUnit: "inactive", LastRun: ago(9 * 24 * time.Hour)}
)

func agents() []api.Agent {
	return []api.Agent{
		{Name: "gardener", Description: "Checks the weather and waters the roses", File: "/srv/agents/gardener/agent.toml",
			Image: "host", Network: "host", Workspace: "/srv/agents/gardener", WorkspaceMode: "rw", User: "1000:1000",
			MaxConcurrent: 1, Schedules: []api.Schedule{weekly, weather},
			LastJob: "20261130-090000-4fa9c2", LastStatus: api.StatusCompleted, LastFinished: ago(3 * time.Hour)},
		{Name: "homelab", Description: "Checks the disks", File: "/srv/agents/homelab/agent.toml",
			Image: "host", Network: "none", Workspace: "/srv/agents/homelab", WorkspaceMode: "ro", User: "1000:1000",
			MaxConcurrent: 2, Running: 1, Schedules: []api.Schedule{paused},
			LastJob: "20261130-110000-00ab12", LastStatus: api.StatusFailed, LastFinished: ago(55 * time.Minute),
			LastEgressDenied: 3},
		{Name: "scribe", File: "/srv/agents/scribe/agent.toml", Image: "host", Network: "none",
			Workspace: "/srv/agents/scribe", WorkspaceMode: "rw", User: "1000:1000", MaxConcurrent: 1},
	}
}

// disabledAgents are agents() with gardener (two schedules) and scribe
// (manual only) disabled by the operator: their timers are stopped.
func disabledAgents() []api.Agent {
	as := agents()
	for _, i := range []int{0, 2} {
		as[i].Disabled = true
		for j := range as[i].Schedules {
			as[i].Schedules[j].NextRun, as[i].Schedules[j].TimerUnit = time.Time{}, "inactive"
		}
	}
	return as
}

// pruneResult is a prune of two old jobs, a day file and a transcript
// whose path an agent chose, with one that could not be removed.
func pruneResult(dry bool) *api.PruneResult {
	return &api.PruneResult{DryRun: dry, Cutoff: ago(90 * 24 * time.Hour),
		Jobs:        []string{"20260801-090000-4fa9c2", "20260802-090000-00ab12"},
		DayFiles:    []string{"/var/lib/herdctl/agents/gardener/cost-today"},
		Transcripts: []string{"/var/lib/herdctl/agents/gardener/home/.claude/projects/-workspace\x1b[2J/5f0c8a4e-1d2b-4c3a-9e8f-7a6b5c4d3e2f.jsonl"},
		Bytes:       123456,
		Errors:      []string{"job 20260803-090000-eeeeee: permission denied"}}
}

// hostileAgents have descriptions and paths an agent chose.
func hostileAgents() []api.Agent {
	as := []api.Agent{
		{Name: "escapes", Description: hostileEscapes, File: "/srv/agents/escapes/\x1b[2Jagent.toml"},
		{Name: "bidi", Description: hostileBidi, File: "/srv/agents/bidi/\u202eagent.toml"},
		{Name: "invalid", Description: hostileInvalid, File: "/srv/agents/invalid/\xffagent.toml"},
		{Name: "c1", Description: hostileC1, File: "/srv/agents/c1/agent.toml"},
		{Name: "hidden", Description: hostileHidden, File: "/srv/agents/hidden/agent.toml"},
		{Name: "controls", Description: hostileLine, File: "/srv/agents/controls/agent.toml"},
		{Name: "lines", Description: hostileLines, File: "/srv/agents/lines/\nagent.toml"},
		{Name: "long", Description: long, File: "/srv/agents/long/agent.toml"},
	}
	for i := range as {
		as[i].Image, as[i].Network, as[i].User, as[i].WorkspaceMode = "host", "none", "1000:1000", "rw"
		as[i].Workspace, as[i].MaxConcurrent = "/srv/agents/"+as[i].Name, 1
		as[i].Schedules = []api.Schedule{weather}
	}
	return as
}

func jobs() []api.Job {
	return []api.Job{
		{ID: "20261130-114500-9d0e1f", Agent: "gardener", Trigger: "manual", Prompt: "Check the roses.",
			Unit: "herdctl-job-20261130-114500-9d0e1f.service", UnitState: "active",
			Started: ago(15*time.Minute + 3*time.Second), Status: api.StatusRunning, Turns: 4, CostUSD: 0.0312},
		{ID: "20261130-110000-00ab12", Agent: "homelab", Schedule: "nightly", Trigger: "schedule", Prompt: "Report disk usage.",
			Unit: "herdctl-homelab-nightly.service", UnitState: "failed", Started: ago(time.Hour), Finished: ptr(ago(55 * time.Minute)),
			DurationMS: 300_000, Status: api.StatusFailed, ExitCode: ptr(1), ExitReason: "claude exited with status 1",
			Turns: 12, InputTokens: 48_210, OutputTokens: 3_120, CostUSD: 0.2,
			EgressAllowed: 14, EgressDenied: 3, EgressBytesUp: 20_480, EgressBytesDown: 1_048_576},
		{ID: "20261130-090000-4fa9c2", Agent: "gardener", Schedule: "weather", Trigger: "schedule", Prompt: "Check the weather.",
			Started: ago(3*time.Hour + 2*time.Minute), Finished: ptr(ago(3 * time.Hour)), DurationMS: 121_400,
			Status: api.StatusCompleted, ExitCode: ptr(0), Turns: 3, CostUSD: 0.00451},
		{ID: "20261129-090000-aa00bb", Agent: "gardener", Schedule: "weekly", Trigger: "schedule",
			Started: ago(27 * time.Hour), Finished: ptr(ago(26 * time.Hour)), DurationMS: 3_600_000,
			Status: api.StatusTimedOut, ExitReason: "timed out after 1h", Turns: 40, CostUSD: 1.5},
		{ID: "20261129-080000-cc11dd", Agent: "homelab", Trigger: "manual", Status: api.StatusQueued, Redacted: true},
	}
}

// hostileJobs have reasons, errors and prompts an agent wrote.
func hostileJobs() []api.Job {
	var js []api.Job
	for i, text := range []string{hostileEscapes, hostileBidi, hostileInvalid, hostileC1, hostileHidden, hostileLine, hostileLines, long} {
		js = append(js, api.Job{ID: "20261130-10000" + string(rune('0'+i)) + "-eeeeee", Agent: "attacker", Schedule: "hourly",
			Trigger: "schedule", Started: ago(2 * time.Hour), Finished: ptr(ago(time.Hour)), DurationMS: 3_600_000,
			Status: api.StatusFailed, ExitReason: text, Error: text, Prompt: text, Turns: 1, CostUSD: 0.0001})
	}
	return js
}

// hostileJob is one job with every text field hostile and multi-line.
func hostileJob() api.Job {
	return api.Job{ID: "20261130-100000-eeeeee", Agent: "attacker", Schedule: "hourly", Trigger: "schedule",
		Prompt: "Summarise the logs.\n" + hostileEscapes + "\n" + hostileBidi + "\n\nThen stop.",
		Unit:   "herdctl-attacker-hourly.service", UnitState: "failed",
		Started: ago(2 * time.Hour), Finished: ptr(ago(time.Hour)), DurationMS: 3_600_000,
		Status: api.StatusFailed, ExitCode: ptr(1), ExitReason: hostileLines,
		SessionID: "5f0c8a4e-1d2b-4c3a-9e8f-7a6b5c4d3e2f",
		Error:     "tool failed:\n" + hostileInvalid + "\n" + hostileC1 + "\n" + hostileHidden + "\n" + hostileLine,
		Result:    "The roses need water.\n" + hostileEscapes + "\n" + hostileBidi,
		Turns:     7, InputTokens: 1234, OutputTokens: 567, CostUSD: 0.0123, OutputDropped: 65536, APIRequests: 7, APICostUSD: 0.0131}
}

func healthyStatus() statusView {
	return statusView{
		Status: &api.Status{Version: "1.4.0", FleetName: "home", ConfigFile: "/etc/herdctl/herdctl.toml",
			Agents: 3, Timers: 3, RunningJobs: 1, Since: ago(50*time.Hour + 7*time.Minute), LastReload: ago(2 * time.Hour)},
		AgentList: agents(),
		Running:   jobs()[:1],
		Failures:  jobs()[1:2],
	}
}

// refusedStatus is a fleet whose last reload was refused for errors an
// agent wrote into its own file, with an agent left out for its errors.
func refusedStatus() statusView {
	errs := []api.ConfigError{
		{File: "/srv/agents/attacker/agent.toml", Line: 4, Column: 1, Field: "docker.network",
			Message: "only the fleet file may set network"},
		{File: "/srv/agents/attacker/agent.toml", Line: 7, Column: 3, Field: "schedules.\x1b[2Jx\u202e",
			Message: "unknown field " + hostileEscapes},
		{File: "/srv/agents/attacker/agent.toml", Line: 9, Message: "expected a value:\n" + hostileLines},
		{Message: hostileInvalid},
	}
	v := healthyStatus()
	st := *v.Status
	st.ReloadError, st.Errors = "4 errors", errs
	st.BrokenAgents = []api.BrokenAgent{{Name: "lapsed", File: "/srv/agents/lapsed/agent.toml",
		Errors: []api.ConfigError{{File: "/srv/agents/lapsed/agent.toml", Line: 2, Column: 8, Field: "schedules.daily.cron",
			Message: "bad cron expression \"0 25 * * *\": hour 25 is out of range 0-23\n" + hostileBidi}}}}
	st.Warnings = []api.ConfigError{{File: "/srv/agents/wide/agent.toml", Line: 1, Column: 1, Field: "wide",
		Message: "agent wide has network = \"host\": the host's whole network" + hostileEscapes}}
	v.Status = &st
	v.AgentList = append(v.AgentList, hostileAgents()[:3]...)
	v.Failures = hostileJobs()
	return v
}

// hooksJob is a failed job whose hooks ran: a webhook delivered after a
// retry, a shell hook that failed, and one whose reason quotes a hostile
// answer.
func hooksJob() api.Job {
	j := jobs()[1]
	j.Hooks = []state.HookRun{
		{Hook: "on_error[0]", Type: "webhook", Unit: "herdctl-hook-" + j.ID + "-on_error-0.service", Status: state.HookOK, HTTPStatus: 200, Attempts: 2, DurationMS: 1043},
		{Hook: "after_run[0]", Type: "shell", Unit: "herdctl-hook-" + j.ID + "-after_run-0.service", Status: state.HookFailed, DurationMS: 12,
			Reason: "exited with status 3 (journalctl -u herdctl-hook-" + j.ID + "-after_run-0.service)"},
		{Hook: "after_run[1]", Type: "webhook", Status: state.HookFailed, HTTPStatus: 404, Attempts: 1, DurationMS: 7, Reason: "HTTP 404 " + hostileEscapes},
		{Hook: "after_run[2]", Type: "shell", Status: state.HookPending},
	}
	return j
}

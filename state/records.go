package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Job statuses.
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
	StatusTimedOut  = "timed_out"
	// StatusSkipped is a job that did not run: its agent's day's budget
	// was spent (the reason says so).
	StatusSkipped = "skipped"
)

// What started a job (Job.Trigger).
const (
	TriggerSchedule = "schedule" // its timer
	TriggerManual   = "manual"   // herdctlctl trigger, or a chat message
)

// Finished reports whether a job in status s has ended.
func Finished(s string) bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled || s == StatusTimedOut || s == StatusSkipped
}

// UnitActive says a unit in systemd's ActiveState s still runs, starts or
// stops: a job's unit counts against its agent's max_concurrent until it
// is none of these.
func UnitActive(s string) bool {
	return s == "active" || s == "activating" || s == "deactivating" || s == "reloading"
}

// Job is what herdctl remembers of one job, in JobsDir/ID.json: written by
// the daemon when it queues or starts a manual job and by the runner as
// the job runs and ends; read by the daemon, which serves it over D-Bus.
type Job struct {
	ID         string     `json:"id"`
	Agent      string     `json:"agent"`
	Schedule   string     `json:"schedule,omitempty"`
	Trigger    string     `json:"trigger"` // TriggerSchedule or TriggerManual
	Prompt     string     `json:"prompt"`
	Unit       string     `json:"unit,omitempty"`
	Invocation string     `json:"invocation,omitempty"` // systemd's INVOCATION_ID of the unit run
	Started    time.Time  `json:"started"`
	Finished   *time.Time `json:"finished,omitempty"`
	DurationMS int64      `json:"duration_ms"`
	Status     string     `json:"status"`
	ExitCode   *int       `json:"exit_code,omitempty"`
	ExitReason string     `json:"exit_reason,omitempty"`
	SessionID  string     `json:"session_id,omitempty"`
	// Resume is the session the job was asked to continue (a manual
	// --resume; "latest" is resolved to an id before the job starts).
	Resume string `json:"resume,omitempty"`
	// Inbox is the chat attachments staged for a manual job (the
	// bridge's stage name), copied into the workspace's inbox/.
	Inbox        string `json:"inbox,omitempty"`
	Turns        int    `json:"turns"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	// CostUSD is what the job itself spent. SessionCostUSD is Claude
	// Code's running total of the session at the job's end, which counts
	// the earlier jobs of a resumed session too.
	CostUSD        float64 `json:"cost_usd"`
	SessionCostUSD float64 `json:"session_cost_usd,omitempty"`
	// APIRequests and APICostUSD are what the job's API relay forwarded
	// and what the API's own usage reports in its answers come to at list
	// prices: a count the agent cannot forge (network = "egress").
	APIRequests int     `json:"api_requests,omitempty"`
	APICostUSD  float64 `json:"api_cost_usd,omitempty"`
	Error       string  `json:"error,omitempty"`
	// Result is Claude Code's final answer (its result event), cut at
	// 16 KiB.
	Result string `json:"result,omitempty"`
	// OutputDropped counts output bytes not logged: the job went over
	// its journal budget.
	OutputDropped int64 `json:"output_dropped,omitempty"`
	// Egress counts the connections the job's egress proxy allowed and
	// refused, and the bytes of the allowed ones (network = "egress").
	EgressAllowed   int   `json:"egress_allowed,omitempty"`
	EgressDenied    int   `json:"egress_denied,omitempty"`
	EgressBytesUp   int64 `json:"egress_bytes_up,omitempty"`
	EgressBytesDown int64 `json:"egress_bytes_down,omitempty"`
	// UnitState is systemd's ActiveState of the job's unit when asked
	// (filled by the daemon, not stored).
	UnitState string `json:"unit_state,omitempty"`
	// Redacted says the prompt and result were withheld from the caller:
	// they are for root, group herdctl and the agent's user (not stored).
	Redacted bool `json:"redacted,omitempty"`
	// Clipped says the prompt and result were left out of a list of jobs
	// to keep the reply within what one D-Bus message holds: GetJob has
	// them (not stored).
	Clipped bool `json:"clipped,omitempty"`
	// Hooks are the runs of the agent's hooks after the job (filled by
	// the daemon from the job's hook state, not stored in the record).
	Hooks []HookRun `json:"hooks,omitempty"`
}

// Spent is what a job cost as budgets and herdctlctl cost count it: the
// larger of Claude Code's report and what the job's API relay metered.
func (j *Job) Spent() float64 { return max(j.CostUSD, j.APICostUSD) }

// RecordMode is the mode of job records: they hold prompts.
const RecordMode = 0o640

// Records stores job records, one file per job, each written atomically.
type Records struct{ Layout Layout }

// Dir is the records directory.
func (r Records) Dir() string { return r.Layout.JobsDir() }

// Write stores rec, replacing any earlier version.
func (r Records) Write(rec *Job) error {
	if !IsJobID(rec.ID) {
		return fmt.Errorf("job id %q is not one herdctl makes", rec.ID)
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return diskFull(WriteFileAtomic(r.Layout.JobRecord(rec.ID), append(b, '\n'), RecordMode), r.Layout.StateDir)
}

// diskFull says what to do when err is a full disk under dir.
func diskFull(err error, dir string) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: the filesystem of %s is full; free space there (herdctlctl prune --older-than 30d removes older job records and transcripts)", err, dir)
	}
	return err
}

// Read loads one record.
func (r Records) Read(id string) (*Job, error) {
	if !IsJobID(id) {
		return nil, fmt.Errorf("job id %q is not one herdctl makes", id)
	}
	b, err := os.ReadFile(r.Layout.JobRecord(id))
	if err != nil {
		return nil, err
	}
	var rec Job
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("job record %s: %w", r.Layout.JobRecord(id), err)
	}
	return &rec, nil
}

// IDs lists the ids of every record, in no order.
func (r Records) IDs() ([]string, error) {
	entries, err := os.ReadDir(r.Dir())
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		if id, ok := RecordID(e.Name()); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// RecordID is the job id of a file name in the records directory, or
// false for anything else (temporary files, strays).
func RecordID(name string) (string, bool) {
	id, ok := trimSuffix(name, ".json")
	return id, ok && IsJobID(id)
}

func trimSuffix(s, suffix string) (string, bool) {
	if len(s) < len(suffix) || s[len(s)-len(suffix):] != suffix {
		return s, false
	}
	return s[:len(s)-len(suffix)], true
}

// WriteFileAtomic writes data to path so that readers see the old file or
// the new one, never a part: a temporary file in the same directory,
// fsync, rename. A link at path is replaced, never followed.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return WriteFileAtomicOwned(path, data, perm, -1, -1)
}

// WriteFileAtomicOwned is WriteFileAtomic for a file that belongs to uid
// and gid (-1: the writer's), owned before it takes path's place.
func WriteFileAtomicOwned(path string, data []byte, perm os.FileMode, uid, gid int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if uid >= 0 || gid >= 0 {
		if err := tmp.Chown(uid, gid); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

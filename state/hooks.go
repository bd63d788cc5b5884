package state

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// HookRun is one hook's run after a job: what the daemon records of it
// and herdctlctl job shows.
type HookRun struct {
	// Hook names the hook as the fleet wrote it: "on_error[0]".
	Hook string `json:"hook"`
	Type string `json:"type"` // "shell", "webhook", "discord" or "slack"
	// Unit is the hook's transient unit (journalctl -u UNIT).
	Unit   string `json:"unit"`
	Status string `json:"status"` // HookPending, HookRunning, HookOK, HookFailed or HookUnknown
	// Reason says why a hook failed, or why its result is unknown.
	Reason     string    `json:"reason,omitempty"`
	Started    time.Time `json:"started,omitzero"`
	DurationMS int64     `json:"duration_ms,omitempty"`
	// HTTPStatus is a webhook's last answer, Attempts how many times it
	// was tried.
	HTTPStatus int `json:"http_status,omitempty"`
	Attempts   int `json:"attempts,omitempty"`
}

// Hook run statuses.
const (
	// HookPending is a hook whose unit has not started yet.
	HookPending = "pending"
	HookRunning = "running"
	HookOK      = "ok"
	HookFailed  = "failed"
	// HookUnknown is a hook that was running when the daemon stopped and
	// whose unit left no result: its journal says what happened.
	HookUnknown = "unknown"
)

// HookState is what the daemon keeps of one job's hooks, in
// HooksDir/ID.json. Its presence marks the job's hooks as taken care of:
// a daemon that starts again runs the hooks of the jobs that ended while
// it was down (those without one), and no job's hooks run twice.
type HookState struct {
	Job  string    `json:"job"`
	Runs []HookRun `json:"runs"`
}

// Done reports whether every hook of the job has a result.
func (s *HookState) Done() bool {
	for _, r := range s.Runs {
		if r.Status == HookPending || r.Status == HookRunning {
			return false
		}
	}
	return true
}

// HooksDir holds the hook state of each job whose agent had hooks, and
// the hooks watermark.
func (l Layout) HooksDir() string { return filepath.Join(l.StateDir, "hooks") }

// HookStateFile is the hook state of job id.
func (l Layout) HookStateFile(id string) string { return filepath.Join(l.HooksDir(), id+".json") }

// HooksWatermark holds the time up to which every finished job's hooks
// were taken care of: at start the daemon looks only at jobs that ended
// after it.
func (l Layout) HooksWatermark() string { return filepath.Join(l.HooksDir(), "watermark") }

// HookRunDir holds, root-only and until its hooks are done, what a job's
// hook units read and write: the job as JSON (their stdin), each
// webhook's settings (its credential) and each webhook's result (its
// stdout). systemd opens them as root for the unit; the hook user never
// can.
func (l Layout) HookRunDir() string { return filepath.Join(l.RuntimeDir, "hooks") }

// HookPayloadFile is the JSON the hook of unit gets on its stdin.
func (l Layout) HookPayloadFile(unit string) string {
	return filepath.Join(l.HookRunDir(), strings.TrimSuffix(unit, ".service")+".json")
}

// HookSpecFile is the settings of the webhook of unit, its secret
// included, handed to it as a credential.
func (l Layout) HookSpecFile(unit string) string {
	return filepath.Join(l.HookRunDir(), strings.TrimSuffix(unit, ".service")+".webhook")
}

// HookResultFile is where the webhook of unit writes its result.
func (l Layout) HookResultFile(unit string) string {
	return filepath.Join(l.HookRunDir(), strings.TrimSuffix(unit, ".service")+".result")
}

// WriteHookState stores the hook state of a job.
func (l Layout) WriteHookState(s *HookState) error {
	if !IsJobID(s.Job) {
		return fmt.Errorf("job id %q is not one herdctl makes", s.Job)
	}
	if err := os.MkdirAll(l.HooksDir(), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(l.HookStateFile(s.Job), append(b, '\n'), 0o600)
}

// ReadHookStates reads the hook state of every job that has one.
func (l Layout) ReadHookStates() (map[string]*HookState, error) {
	out := map[string]*HookState{}
	entries, err := os.ReadDir(l.HooksDir())
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		id, ok := RecordID(e.Name())
		if !ok {
			continue
		}
		b, err := ReadFileCapped(l.HookStateFile(id), 1<<20)
		if err != nil {
			continue
		}
		var s HookState
		if json.Unmarshal(b, &s) == nil && s.Job == id {
			out[id] = &s
		}
	}
	return out, nil
}

// ReadHooksWatermark is the hooks watermark; zero when there is none.
func (l Layout) ReadHooksWatermark() time.Time {
	b, err := ReadFileCapped(l.HooksWatermark(), 64)
	if err != nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
	return t
}

// WriteHooksWatermark moves the hooks watermark to t.
func (l Layout) WriteHooksWatermark(t time.Time) error {
	if err := os.MkdirAll(l.HooksDir(), 0o700); err != nil {
		return err
	}
	return WriteFileAtomic(l.HooksWatermark(), []byte(t.UTC().Format(time.RFC3339Nano)+"\n"), 0o600)
}

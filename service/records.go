package service

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Job statuses.
const (
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
	StatusTimedOut  = "timed_out"
)

// JobRecord is what herdctl remembers of one job, in
// /var/lib/herdctl/jobs/<id>.json.
type JobRecord struct {
	ID           string     `json:"id"`
	Agent        string     `json:"agent"`
	Schedule     string     `json:"schedule,omitempty"`
	Trigger      string     `json:"trigger"` // schedule or manual
	Prompt       string     `json:"prompt"`
	Unit         string     `json:"unit,omitempty"`
	Started      time.Time  `json:"started"`
	Finished     *time.Time `json:"finished,omitempty"`
	DurationMS   int64      `json:"duration_ms"`
	Status       string     `json:"status"`
	ExitCode     *int       `json:"exit_code,omitempty"`
	ExitReason   string     `json:"exit_reason,omitempty"`
	SessionID    string     `json:"session_id,omitempty"`
	Turns        int        `json:"turns"`
	InputTokens  int64      `json:"input_tokens"`
	OutputTokens int64      `json:"output_tokens"`
	CostUSD      float64    `json:"cost_usd"`
	Error        string     `json:"error,omitempty"`
}

// Records stores job records in a directory, one file per job, each
// written atomically (temporary file, fsync, rename).
type Records struct{ Dir string }

func (r Records) path(id string) string { return filepath.Join(r.Dir, id+".json") }

// Write stores rec, replacing any earlier version.
func (r Records) Write(rec *JobRecord) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(r.path(rec.ID), append(b, '\n'), 0o644)
}

// Read loads one record.
func (r Records) Read(id string) (*JobRecord, error) {
	b, err := os.ReadFile(r.path(id))
	if err != nil {
		return nil, err
	}
	var rec JobRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("job record %s: %w", r.path(id), err)
	}
	return &rec, nil
}

// WriteFileAtomic writes data to path so that readers see the old file or
// the new one, never a part.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
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
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

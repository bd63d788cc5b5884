package service

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/herdctl/herdctl/service/api"
)

// Job statuses, as package api names them.
const (
	StatusQueued    = api.StatusQueued
	StatusRunning   = api.StatusRunning
	StatusCompleted = api.StatusCompleted
	StatusFailed    = api.StatusFailed
	StatusCancelled = api.StatusCancelled
	StatusTimedOut  = api.StatusTimedOut
)

// JobRecord is what herdctl remembers of one job, in
// /var/lib/herdctl/jobs/<id>.json: the same value GetJob returns.
type JobRecord = api.Job

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

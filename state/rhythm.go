package state

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// ScheduleSince records, per agent, when each of its interval schedules
// was first applied: a schedule that has not run yet counts its first
// interval from then, across daemon restarts and reboots. Written by the
// daemon in the agent's root-owned state directory.
func (l Layout) ScheduleSince(agent string) string {
	return filepath.Join(l.AgentDir(agent), "schedules-since.json")
}

// ReadScheduleSince reads an agent's schedule start times; a missing or
// unreadable file is an empty map (the schedules then start now).
func (l Layout) ReadScheduleSince(agent string) map[string]time.Time {
	out := map[string]time.Time{}
	b, err := os.ReadFile(l.ScheduleSince(agent))
	if err != nil || json.Unmarshal(b, &out) != nil {
		return map[string]time.Time{}
	}
	return out
}

// WriteScheduleSince replaces an agent's schedule start times.
func (l Layout) WriteScheduleSince(agent string, since map[string]time.Time) error {
	b, err := json.Marshal(since)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(l.AgentDir(agent), 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(l.ScheduleSince(agent), b, 0o644)
}

package state

import (
	"os"
	"path/filepath"
	"time"
)

// DayFiles are the daily pools on disk: each agent's cost and journal
// day (AgentCostDay, AgentLogDay) and the fleet's journal day, the agents
// removed from the fleet included.
func (l Layout) DayFiles() []string {
	out := []string{l.FleetLogDay()}
	entries, _ := os.ReadDir(l.AgentsDir())
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, l.AgentCostDay(e.Name()), l.AgentLogDay(e.Name()))
		}
	}
	return out
}

// DayFileDay is the day a day file counts ("DAY VALUE"), false when
// there is no such file or it holds no day.
func DayFileDay(path string) (time.Time, bool) {
	b, err := ReadFileCapped(path, 128)
	if err != nil || len(b) < len(time.DateOnly) {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(time.DateOnly, string(b[:len(time.DateOnly)]), time.Local)
	return t, err == nil
}

// RemoveJob removes what herdctl keeps of one ended job: its record
// (with its prompt and result), its hook results and a prompt file left
// behind. What is already gone is no error.
func (l Layout) RemoveJob(id string) error {
	if !IsJobID(id) {
		return nil
	}
	for _, p := range []string{l.JobRecord(id), l.HookStateFile(id), l.PromptFile(id)} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// JobStateSize is the bytes one job's record and hook results take.
func (l Layout) JobStateSize(id string) int64 {
	var n int64
	for _, p := range []string{l.JobRecord(id), l.HookStateFile(id)} {
		if fi, err := os.Lstat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// TranscriptsDir is where Claude Code keeps an agent's session
// transcripts in its home: projects/<directory>/<session>.jsonl. The
// agent's uid writes there.
func (l Layout) TranscriptsDir(agent string) string {
	return filepath.Join(l.AgentHome(agent), ".claude", "projects")
}

// PruneRunDir is root's while the agents' transcripts are pruned: the
// sessions to keep, and what was removed.
func (l Layout) PruneRunDir() string { return filepath.Join(l.RuntimeDir, "prune") }

// PruneKeepFile lists the sessions to keep, one id a line.
func (l Layout) PruneKeepFile() string { return filepath.Join(l.PruneRunDir(), "keep") }

// PruneResultFile is what the transcripts' prune removed (TranscriptPrune
// as JSON).
func (l Layout) PruneResultFile() string { return filepath.Join(l.PruneRunDir(), "result.json") }

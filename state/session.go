package state

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

var sessionRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// IsSessionID reports whether s is a session id Claude Code makes (a
// lower-case UUID): nothing else is ever passed to --resume.
func IsSessionID(s string) bool { return sessionRe.MatchString(s) }

// ResumeLatest asks a manual job to resume its agent's latest session.
const ResumeLatest = "latest"

// LastSession is the session an agent's latest job ran in, with Claude
// Code's running total of its cost at the job's end: when that session
// is resumed, Claude Code starts counting from this total, and the job's
// own cost is what it adds.
type LastSession struct {
	ID           string
	TotalCostUSD float64
}

// ReadLastSession reads the agent's last session ("" when none). The
// file holds "ID TOTAL"; older ones hold the id alone.
func (l Layout) ReadLastSession(agent string) LastSession {
	b, err := os.ReadFile(l.AgentSession(agent))
	if err != nil {
		return LastSession{}
	}
	f := strings.Fields(string(b))
	if len(f) == 0 || !IsSessionID(f[0]) {
		return LastSession{}
	}
	s := LastSession{ID: f[0]}
	if len(f) > 1 {
		s.TotalCostUSD, _ = strconv.ParseFloat(f[1], 64)
	}
	return s
}

// WriteLastSession records the session the agent's latest job ran in.
func (l Layout) WriteLastSession(agent string, s LastSession) error {
	if err := os.MkdirAll(l.AgentDir(agent), 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(l.AgentSession(agent), []byte(fmt.Sprintf("%s %s\n", s.ID, strconv.FormatFloat(s.TotalCostUSD, 'g', -1, 64))), 0o600)
}

// SessionFileExists reports whether Claude Code's transcript of session
// id is in an agent's home (~/.claude/projects/*/ID.jsonl), so that a
// session whose files are gone starts afresh instead of failing. The home
// is the agent's to write: this only decides whether to ask Claude Code
// to resume, and reads nothing.
func SessionFileExists(home, id string) bool {
	if !IsSessionID(id) {
		return false
	}
	m, _ := filepath.Glob(filepath.Join(home, ".claude", "projects", "*", id+".jsonl"))
	return len(m) > 0
}

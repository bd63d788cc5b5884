package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// AgentIdentity is the file that binds an agent's state directory (its
// home, its sessions) to the agent file it was made for. An agent names
// itself in its own file; without this, an agent that renames itself to
// an agent removed from the fleet would take that agent's home.
func (l Layout) AgentIdentity(agent string) string {
	return filepath.Join(l.AgentDir(agent), "identity")
}

// ErrIdentity is returned when an agent's state belongs to another agent
// file.
type ErrIdentity struct {
	Agent, Want, Have string
	Path              string
}

func (e *ErrIdentity) Error() string {
	return fmt.Sprintf("the home of agent %q belongs to the agent of %s, not %s: an agent cannot take another's home by taking its name; rename the agent, or, if it is the same agent moved, remove %s", e.Agent, e.Have, e.Want, e.Path)
}

// ClaimIdentity binds agent's state directory to agentFile, or checks it
// is bound to it. The directory and the identity file are root's: the
// agent's uid owns only the home inside.
func (l Layout) ClaimIdentity(agent, agentFile string) error {
	p := l.AgentIdentity(agent)
	b, err := ReadFileCapped(p, 4096)
	switch {
	case err == nil:
		if have := strings.TrimSpace(strings.TrimPrefix(string(b), "agent_file=")); have != agentFile {
			return &ErrIdentity{Agent: agent, Want: agentFile, Have: have, Path: p}
		}
		return nil
	case !os.IsNotExist(err):
		return fmt.Errorf("reading %s: %w", p, err)
	}
	if err := os.MkdirAll(l.AgentDir(agent), 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(p, []byte("agent_file="+agentFile+"\n"), 0o644)
}

// NeverRan reports whether agent's state holds nothing a job of it made:
// no home (the runner makes it as a job starts, right after claiming the
// name) and no session. What the daemon keeps there for the name (its
// identity, the schedules' rhythm, the disabled marker) is not the
// agent's. Such a name has nothing another agent file could take.
func (l Layout) NeverRan(agent string) bool {
	for _, p := range []string{l.AgentHome(agent), l.AgentSession(agent)} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			return false
		}
	}
	return true
}

// ReclaimIdentity binds agent's state directory to agentFile in place of
// the file it was bound to, only while the name never ran (NeverRan):
// an example agent that came with the package and was replaced before
// its first job does not hold its name against the operator's own file.
// The caller checks that the old file is no longer in the fleet.
func (l Layout) ReclaimIdentity(agent, agentFile string) error {
	if !l.NeverRan(agent) {
		return l.ClaimIdentity(agent, agentFile)
	}
	if err := os.MkdirAll(l.AgentDir(agent), 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(l.AgentIdentity(agent), []byte("agent_file="+agentFile+"\n"), 0o644)
}

// IdentityOwner is the agent file agent's state is bound to, "" when
// none is yet.
func (l Layout) IdentityOwner(agent string) string {
	b, err := ReadFileCapped(l.AgentIdentity(agent), 4096)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.TrimPrefix(string(b), "agent_file="))
}

// CheckIdentity is ClaimIdentity without claiming: nil when the state is
// this agent's or nobody's yet.
func (l Layout) CheckIdentity(agent, agentFile string) error {
	b, err := ReadFileCapped(l.AgentIdentity(agent), 4096)
	if err != nil {
		return nil
	}
	if have := strings.TrimSpace(strings.TrimPrefix(string(b), "agent_file=")); have != agentFile {
		return &ErrIdentity{Agent: agent, Want: agentFile, Have: have, Path: l.AgentIdentity(agent)}
	}
	return nil
}

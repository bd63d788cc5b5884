package chat

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"

	"github.com/herdctl/herdctl/policy"
)

// Names the daemon, the bridge and the packaged files share.
const (
	// ServiceUnit is the bridge's unit; PathUnit starts it whenever the
	// daemon has written a snapshot (an agent has chat configured).
	ServiceUnit = "herdctl-chat.service"
	PathUnit    = "herdctl-chat.path"
	// User is the bridge's system user, a member of group herdctl.
	User = "herdctl-chat"
	// Binary is where the package installs the bridge.
	Binary = "/usr/libexec/herdctl/herdctl-chat"
	// SnapshotName is the snapshot's file name in herdctl's runtime
	// directory and the id of the credential the bridge receives it as.
	SnapshotName = "chat.json"
	// StateDir is the bridge's own state directory (StateDirectory=):
	// the replies it owes and each conversation's session.
	StateDir = "/var/lib/herdctl-chat"
)

// SnapshotVersion is the version of the snapshot format (2: auto
// channels, session expiry).
const SnapshotVersion = 2

// MaxSnapshot bounds a snapshot: a few hundred bytes per agent.
const MaxSnapshot = 4 << 20

// SnapshotPath is the snapshot's path in a runtime directory
// (/run/herdctl).
func SnapshotPath(runtimeDir string) string { return filepath.Join(runtimeDir, SnapshotName) }

// Snapshot is every agent's chat settings, as the daemon hands them to
// the bridge. It holds the bots' tokens.
type Snapshot struct {
	Version int           `json:"version"`
	Agents  []policy.Chat `json:"agents"`
}

// Encode is the snapshot of agents' chat settings, sorted by agent, and
// false when no agent has any (then there is nothing to run).
func Encode(agents map[string]*policy.Agent) ([]byte, bool) {
	s := Snapshot{Version: SnapshotVersion, Agents: []policy.Chat{}}
	for _, a := range agents {
		if a.Chat != nil {
			s.Agents = append(s.Agents, *a.Chat)
		}
	}
	if len(s.Agents) == 0 {
		return nil, false
	}
	sort.Slice(s.Agents, func(i, j int) bool { return s.Agents[i].Agent < s.Agents[j].Agent })
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return b, true
}

// Decode reads a snapshot strictly: another version, an unknown field,
// trailing data or an agent without name or bot are errors.
func Decode(b []byte) (*Snapshot, error) {
	if len(b) > MaxSnapshot {
		return nil, fmt.Errorf("chat snapshot: %d bytes, more than the %d allowed", len(b), MaxSnapshot)
	}
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("not a herdctl chat snapshot: %w", err)
	}
	if head.Version != SnapshotVersion {
		return nil, fmt.Errorf("chat snapshot version %d: this herdctl-chat reads version %d (restart herdctl.service to rewrite it)", head.Version, SnapshotVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("chat snapshot: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("chat snapshot: trailing data")
	}
	for _, a := range s.Agents {
		if a.Agent == "" || (a.Discord == nil && a.Slack == nil) {
			return nil, errors.New("chat snapshot: an entry without agent or bot")
		}
	}
	return &s, nil
}

// Fingerprint identifies a snapshot's content without revealing it: the
// bridge compares its own with the daemon's after a reload, and restarts
// to receive the new one when they differ. "" stands for no snapshot.
func Fingerprint(b []byte) string {
	if b == nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

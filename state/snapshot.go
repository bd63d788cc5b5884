package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/herdctl/herdctl/policy"
)

// SnapshotVersion is the version of the snapshot format this herdctl
// writes and the only one it reads. Bump it whenever policy.Agent changes
// in a way an older runner would misread; a runner refuses any other
// version rather than guess (after an upgrade the daemon rewrites every
// snapshot at start).
const SnapshotVersion = 1

// maxSnapshot bounds a snapshot file; a resolved agent is a few KiB.
const maxSnapshot = 4 << 20

// snapshot is the file format: the version first, then the agent.
type snapshot struct {
	Version int           `json:"version"`
	Agent   *policy.Agent `json:"agent"`
}

// ErrSnapshotVersion is returned for a snapshot of another version.
var ErrSnapshotVersion = errors.New("snapshot version")

// EncodeSnapshot is the snapshot of a resolved agent, as the daemon hands
// it to the runner. It holds secrets (the agent's environment): keep it
// root-only, never render or log it.
func EncodeSnapshot(a *policy.Agent) ([]byte, error) {
	return json.Marshal(snapshot{Version: SnapshotVersion, Agent: a})
}

// DecodeSnapshot reads a snapshot strictly: a version other than
// SnapshotVersion, an unknown field anywhere, trailing data or a missing
// agent are errors.
func DecodeSnapshot(b []byte) (*policy.Agent, error) {
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("not a herdctl agent snapshot: %w", err)
	}
	if head.Version != SnapshotVersion {
		return nil, fmt.Errorf("%w %d: this herdctl reads version %d (restart herdctl.service to rewrite it)", ErrSnapshotVersion, head.Version, SnapshotVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("agent snapshot: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("agent snapshot: trailing data after the snapshot")
	}
	if s.Agent == nil || s.Agent.Name == "" {
		return nil, errors.New("agent snapshot: no agent in it")
	}
	return s.Agent, nil
}

// WriteSnapshot writes agent a's snapshot (0600), unless the file already
// holds exactly it. It reports whether it wrote.
func (l Layout) WriteSnapshot(a *policy.Agent) (bool, error) {
	b, err := EncodeSnapshot(a)
	if err != nil {
		return false, err
	}
	old, _ := os.ReadFile(l.Snapshot(a.Name))
	return l.WriteSnapshotIfChanged(a.Name, old, b)
}

// WriteSnapshotIfChanged writes snapshot b of agent unless it equals old,
// what the file is known to hold (a caller that wrote it keeps it, and so
// need not read it back).
func (l Layout) WriteSnapshotIfChanged(agent string, old, b []byte) (bool, error) {
	if old != nil && bytes.Equal(old, b) {
		return false, nil
	}
	if err := os.MkdirAll(l.SnapshotsDir(), 0o700); err != nil {
		return false, err
	}
	return true, WriteFileAtomic(l.Snapshot(agent), b, 0o600)
}

// ReadSnapshot reads agent's snapshot.
func (l Layout) ReadSnapshot(agent string) (*policy.Agent, error) {
	b, err := ReadFileCapped(l.Snapshot(agent), maxSnapshot)
	if err != nil {
		return nil, fmt.Errorf("reading the agent's snapshot: %w (is herdctl.service running? it writes these files)", err)
	}
	a, err := DecodeSnapshot(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Snapshot(agent), err)
	}
	if a.Name != agent {
		return nil, fmt.Errorf("%s: holds agent %q, not %q", l.Snapshot(agent), a.Name, agent)
	}
	return a, nil
}

// SnapshotNames lists the agents that have a snapshot.
func (l Layout) SnapshotNames() []string {
	entries, _ := os.ReadDir(l.SnapshotsDir())
	var out []string
	for _, e := range entries {
		if name, ok := trimSuffix(e.Name(), ".json"); ok && e.Type().IsRegular() && name != "" && name[0] != '.' {
			out = append(out, name)
		}
	}
	return out
}

// RemoveSnapshotsExcept removes the snapshot of every agent not in keep.
func (l Layout) RemoveSnapshotsExcept(keep map[string]bool) {
	for _, name := range l.SnapshotNames() {
		if !keep[name] {
			os.Remove(l.Snapshot(name))
		}
	}
}

// ReadFileCapped reads a regular file of at most max bytes, refusing a
// symbolic link (O_NOFOLLOW), a fifo (O_NONBLOCK, then the mode) and a
// file that grows past max while it is read.
func ReadFileCapped(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", path, st.Size(), max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s grew past %d bytes while read", path, max)
	}
	return b, nil
}

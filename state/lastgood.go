package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/herdctl/herdctl/policy"
)

// LastGoodDir keeps the snapshots of the fleet the daemon last applied,
// root-only (they hold secrets): when the fleet's files are broken at a
// start (a reboot, an upgrade), the daemon runs this fleet until they are
// fixed.
func (l Layout) LastGoodDir() string { return filepath.Join(l.StateDir, "lastgood") }

const lastGoodFleetName = "fleet-name"

// WriteLastGood stores snapshot b (EncodeSnapshot) of agent.
func (l Layout) WriteLastGood(agent string, b []byte) error {
	if err := os.MkdirAll(l.LastGoodDir(), 0o700); err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(l.LastGoodDir(), agent+".json"), b, 0o600)
}

// WriteLastGoodName stores the last good fleet's name.
func (l Layout) WriteLastGoodName(fleet string) error {
	if err := os.MkdirAll(l.LastGoodDir(), 0o700); err != nil {
		return err
	}
	p := filepath.Join(l.LastGoodDir(), lastGoodFleetName)
	if old, err := os.ReadFile(p); err == nil && string(old) == fleet+"\n" {
		return nil
	}
	return WriteFileAtomic(p, []byte(fleet+"\n"), 0o600)
}

// RemoveLastGoodExcept drops the agents not in keep from the last good
// fleet.
func (l Layout) RemoveLastGoodExcept(keep map[string]bool) {
	entries, _ := os.ReadDir(l.LastGoodDir())
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok && !keep[name] {
			os.Remove(filepath.Join(l.LastGoodDir(), e.Name()))
		}
	}
}

// ReadLastGood reads the last good fleet: its name and its agents, by
// name. A snapshot that does not decode is skipped; an empty or missing
// fleet is an error.
func (l Layout) ReadLastGood() (string, []*policy.Agent, error) {
	name, err := os.ReadFile(filepath.Join(l.LastGoodDir(), lastGoodFleetName))
	if err != nil {
		return "", nil, fmt.Errorf("no last good fleet: %w", err)
	}
	entries, err := os.ReadDir(l.LastGoodDir())
	if err != nil {
		return "", nil, err
	}
	var agents []*policy.Agent
	for _, e := range entries {
		if _, ok := strings.CutSuffix(e.Name(), ".json"); !ok || !e.Type().IsRegular() {
			continue
		}
		b, err := ReadFileCapped(filepath.Join(l.LastGoodDir(), e.Name()), maxSnapshot)
		if err != nil {
			continue
		}
		if a, err := DecodeSnapshot(b); err == nil {
			agents = append(agents, a)
		}
	}
	if len(agents) == 0 {
		return "", nil, errors.New("the last good fleet has no agents")
	}
	sort.Slice(agents, func(i, j int) bool { return agents[i].Name < agents[j].Name })
	return strings.TrimSpace(string(name)), agents, nil
}

package state

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy"
)

// fullAgent has every field of policy.Agent set, so that a field the
// encoding drops shows in the round trip.
func fullAgent(t *testing.T) *policy.Agent {
	cron, err := config.ParseCron("0 7 * * 1")
	if err != nil {
		t.Fatal(err)
	}
	return &policy.Agent{
		Fleet: "f", Name: "gardener", Description: "d", File: "/srv/a/agent.toml", DefaultPrompt: "p",
		Claude: policy.Claude{Path: "/usr/bin/claude", Model: "m", MaxTurns: 3, PermissionMode: "plan",
			SystemPrompt: "s", AllowedTools: []string{"Read"}, DeniedTools: []string{"Bash"}, MCPConfig: "{}"},
		Command: []string{"/bin/true"}, Workspace: "/srv/a", WorkspaceMode: "ro", MaxConcurrent: 2,
		Timeout: 30 * time.Minute, LogBudget: 1 << 20, LogBudgetDaily: 8 << 20,
		Schedules: []policy.Schedule{
			{Name: "weekly", Type: "cron", Cron: cron, Prompt: "p", Enabled: true, ResumeSession: true, Timeout: time.Hour, Jitter: time.Minute, CatchUp: true},
			{Name: "tick", Type: "interval", Interval: 72 * time.Hour, Enabled: false, Timeout: time.Minute},
		},
		Container: policy.Container{Image: "host", Network: "none", UID: 1000, GID: 1001, UserFromWorkspace: true, DiskBytes: 1 << 30, Inodes: 1000, MemoryBytes: 1 << 30,
			CPUShares: 512, CPUPeriod: 100000, CPUQuota: 50000, PidsLimit: 64, TmpSize: 1 << 20,
			Tmpfs:   []policy.Tmpfs{{Path: "/cache", Options: []string{"nosuid", "size=1m"}}},
			Volumes: []policy.Volume{{Source: "/srv/data", Target: "/data", ReadOnly: true}},
			Env:     map[string]string{"K": "v"}, Labels: map[string]string{"l": "v"},
			ReadonlyRootfs: true, Ephemeral: true, MaxContainers: 1},
		Containerd: policy.Containerd{Address: "/run/c.sock", Namespace: "ns"},
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	in := fullAgent(t)
	b, err := EncodeSnapshot(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeSnapshot(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}
}

func TestSnapshotRefused(t *testing.T) {
	good, _ := EncodeSnapshot(fullAgent(t))
	for name, b := range map[string]string{
		"older version":   strings.Replace(string(good), `"version":1`, `"version":0`, 1),
		"newer version":   strings.Replace(string(good), `"version":1`, `"version":2`, 1),
		"no version":      strings.Replace(string(good), `"version":1,`, ``, 1),
		"unknown field":   strings.Replace(string(good), `"name":"gardener"`, `"name":"gardener","extra":true`, 1),
		"unknown nested":  strings.Replace(string(good), `"uid":1000`, `"uid":1000,"privileged":true`, 1),
		"trailing data":   string(good) + `{"version":1}`,
		"no agent":        `{"version":1}`,
		"not json":        `version = 1`,
		"wrong type":      strings.Replace(string(good), `"uid":1000`, `"uid":"0"`, 1),
		"name is missing": strings.Replace(string(good), `"name":"gardener"`, `"name":""`, 1),
	} {
		if _, err := DecodeSnapshot([]byte(b)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	other := strings.Replace(string(good), `"version":1`, `"version":7`, 1)
	if _, err := DecodeSnapshot([]byte(other)); !errors.Is(err, ErrSnapshotVersion) {
		t.Errorf("another version: %v, want ErrSnapshotVersion", err)
	}
}

func TestSnapshotFiles(t *testing.T) {
	l := Layout{StateDir: t.TempDir(), RuntimeDir: t.TempDir()}
	a := fullAgent(t)
	if wrote, err := l.WriteSnapshot(a); err != nil || !wrote {
		t.Fatalf("first write: %v %v", wrote, err)
	}
	if wrote, err := l.WriteSnapshot(a); err != nil || wrote {
		t.Errorf("an unchanged snapshot was written again: %v %v", wrote, err)
	}
	fi, err := os.Stat(l.Snapshot(a.Name))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode: %v %v (it holds secrets)", fi, err)
	}
	if got, err := l.ReadSnapshot(a.Name); err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("read back: %v", err)
	}
	// A snapshot renamed to another agent's name is not that agent's.
	os.Rename(l.Snapshot(a.Name), l.Snapshot("other"))
	if _, err := l.ReadSnapshot("other"); err == nil {
		t.Error("a snapshot of gardener was read as agent other")
	}
	// A fifo in place of a snapshot does not block the reader.
	fifo := l.Snapshot("fifo")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ReadSnapshot("fifo"); err == nil {
		t.Error("a fifo was read as a snapshot")
	}
	l.RemoveSnapshotsExcept(map[string]bool{"fifo": true})
	if names := l.SnapshotNames(); len(names) != 0 {
		t.Errorf("left: %v (only regular files are snapshots)", names)
	}
	if _, err := os.Lstat(filepath.Join(l.SnapshotsDir(), "fifo.json")); err != nil {
		t.Errorf("the fifo should have been left alone: %v", err)
	}
}

package daemon

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

const (
	sessA = "5f0c8a4e-1d2b-4c3a-9e8f-7a6b5c4d3e2f"
	sessB = "0b08e3b8-947f-4c5a-987b-a21ad6c936b2"
	sessC = "11111111-2222-4333-8444-555555555555"
)

func indexed(jobs ...*api.Job) *Daemon {
	d := &Daemon{}
	for _, j := range jobs {
		if !d.index.put(j) {
			panic("not a job id: " + j.ID)
		}
	}
	return d
}

func TestSessionsAndResume(t *testing.T) {
	day := time.Date(2026, 11, 30, 6, 0, 0, 0, time.Local)
	d := indexed(
		&api.Job{ID: "20261130-000001-aaaaaa", Agent: "gardener", SessionID: sessA, Started: day.Add(-48 * time.Hour), Turns: 3, CostUSD: 0.25},
		&api.Job{ID: "20261130-000002-aaaaaa", Agent: "gardener", SessionID: sessA, Started: day.Add(-24 * time.Hour), Turns: 2, CostUSD: 0.5},
		&api.Job{ID: "20261130-000003-aaaaaa", Agent: "gardener", SessionID: sessB, Started: day, Turns: 1, CostUSD: 0.125},
		&api.Job{ID: "20261130-000004-aaaaaa", Agent: "homelab", SessionID: sessC, Started: day},
		&api.Job{ID: "20261130-000005-aaaaaa", Agent: "gardener", Started: day.Add(time.Hour), Status: state.StatusFailed},
	)
	ss, err := d.Sessions("gardener")
	if err != nil || len(ss) != 2 {
		t.Fatalf("sessions: %v %v", ss, err)
	}
	if s := ss[1]; s.ID != sessA || s.FirstJob != "20261130-000001-aaaaaa" || s.LastJob != "20261130-000002-aaaaaa" || s.Jobs != 2 || s.Turns != 5 || s.CostUSD != 0.75 {
		t.Errorf("session A: %+v", s)
	}
	if ss[0].ID != sessB {
		t.Errorf("newest first: %+v", ss)
	}
	if _, err := d.Sessions("nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("sessions of an unknown agent: %v", err)
	}
	for _, c := range []struct{ agent, ask, want, err string }{
		{"gardener", "latest", sessB, ""},
		{"gardener", sessA, sessA, ""},
		{"gardener", sessC, "", "is not one of agent gardener's"},
		{"gardener", "--dangerously-skip-permissions", "", "is not a session id"},
		{"fresh", "latest", "", "has no session yet"},
	} {
		got, err := d.resumable(c.agent, c.ask)
		if got != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("resume %s %s: %q, %v; want %q, %q", c.agent, c.ask, got, err, c.want, c.err)
		}
	}
}

func TestCost(t *testing.T) {
	day := time.Date(2026, 11, 30, 6, 0, 0, 0, time.Local)
	d := indexed(
		&api.Job{ID: "20261130-000001-aaaaaa", Agent: "gardener", Started: day.Add(-24 * time.Hour), CostUSD: 0.25, Turns: 1, InputTokens: 10, OutputTokens: 1},
		&api.Job{ID: "20261130-000002-aaaaaa", Agent: "gardener", Started: day, CostUSD: 0.5, Turns: 2},
		&api.Job{ID: "20261130-000003-aaaaaa", Agent: "gardener", Started: day.Add(time.Hour), CostUSD: 0.125},
		&api.Job{ID: "20261130-000004-aaaaaa", Agent: "homelab", Started: day, CostUSD: 1},
	)
	got := d.Cost(api.CostFilter{})
	want := []api.CostDay{
		{Agent: "gardener", Day: "2026-11-29", Jobs: 1, Turns: 1, InputTokens: 10, OutputTokens: 1, CostUSD: 0.25},
		{Agent: "gardener", Day: "2026-11-30", Jobs: 2, Turns: 2, CostUSD: 0.625},
		{Agent: "homelab", Day: "2026-11-30", Jobs: 1, CostUSD: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("cost:\n%v\nwant\n%v", got, want)
	}
	if got := d.Cost(api.CostFilter{Agent: "gardener", Since: day}); len(got) != 1 || got[0].Jobs != 2 {
		t.Errorf("gardener since today: %v", got)
	}
}

// BenchmarkCost100k: herdctlctl cost's work in the daemon, over 100,000
// job records of 20 agents across 100 days.
func BenchmarkCost100k(b *testing.B) {
	d := syntheticJobs(100_000)
	b.ResetTimer()
	for b.Loop() {
		d.Cost(api.CostFilter{})
	}
}

func syntheticJobs(n int) *Daemon {
	d := &Daemon{}
	start := time.Date(2026, 8, 22, 0, 0, 0, 0, time.Local)
	for i := range n {
		id := fmt.Sprintf("20260822-000000-%06x", i)
		d.index.put(&api.Job{ID: id, Agent: fmt.Sprintf("agent-%02d", i%20), Started: start.Add(time.Duration(i) * 100 * 24 * time.Hour / time.Duration(n)),
			Status: state.StatusCompleted, Turns: 5, InputTokens: 1000, OutputTokens: 100, CostUSD: 0.01})
	}
	return d
}

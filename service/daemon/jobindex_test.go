package daemon

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

func TestJobKey(t *testing.T) {
	ids := []string{"20251231-235959-ffffff", "20260101-000000-000000", "20260101-000000-00000a", "20260101-000000-0a0000", "20260101-000001-000000"}
	var prev jobKey
	for i, id := range ids {
		k, ok := parseJobKey(id)
		if !ok || k.String() != id {
			t.Fatalf("%s: %v %q", id, ok, k.String())
		}
		if i > 0 && prev.compare(k) >= 0 {
			t.Errorf("%s sorts before %s", id, ids[i-1])
		}
		prev = k
	}
	for _, bad := range []string{"", "1", "job-000001", "20260101-000000-ABCDEF", "20260101-000000-abcdef.json"} {
		if _, ok := parseJobKey(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestJobIndexSessions(t *testing.T) {
	var x jobIndex
	for _, c := range []struct{ session, resume string }{{sessA, ""}, {"not-a-uuid", sessB}, {"", "latest"}, {strings.ToUpper(sessC), sessC}} {
		id := state.NewJobID(time.Now())
		x.put(&api.Job{ID: id, SessionID: c.session, Resume: c.resume, Status: state.StatusCompleted})
		e := x.get(id)
		if got := x.session(e); got != c.session {
			t.Errorf("session %q came back %q", c.session, got)
		}
		if got := x.resume(e); got != c.resume {
			t.Errorf("resume %q came back %q", c.resume, got)
		}
		if !x.hasSession(e, c.session) || x.hasSession(e, c.session+"x") {
			t.Errorf("hasSession %q", c.session)
		}
	}
}

// TestJobIndexListGet: finished jobs are kept in the index without their
// text, and ListJobs and GetJob read it from disk: the page after
// filtering and ordering, by id or a unique prefix of it.
func TestJobIndexListGet(t *testing.T) {
	r := newDaemonRig(t)
	recs := state.Records{Layout: r.d.Layout}
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.Local)
	var ids []string
	for i := range 6 {
		at := base.Add(time.Duration(i) * time.Hour)
		end := at.Add(time.Minute)
		agent, session, status := "alpha", sessA, state.StatusCompleted
		if i%2 == 1 {
			agent, session, status = "beta", sessB, state.StatusFailed
		}
		j := &api.Job{ID: state.NewJobID(at), Agent: agent, Trigger: state.TriggerManual, Prompt: "prompt " + string(rune('a'+i)),
			Result: strings.Repeat("r", 16<<10), Started: at, Finished: &end, Status: status, SessionID: session, Turns: i, CostUSD: 0.5}
		if err := recs.Write(j); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	r.start()
	ctx := context.Background()
	r.d.mu.Lock()
	open := len(r.d.index.open)
	r.d.mu.Unlock()
	if open != 0 {
		t.Errorf("%d finished jobs kept whole", open)
	}
	js, err := r.d.ListJobs(ctx, api.JobFilter{Agent: "alpha", Offset: 1, Limit: 1})
	if err != nil || len(js) != 1 {
		t.Fatalf("list: %v %v", js, err)
	}
	if j := js[0]; j.ID != ids[2] || j.Prompt != "prompt c" || len(j.Result) != 16<<10 || j.Agent != "alpha" || j.SessionID != sessA {
		t.Errorf("page: %s %q", j.ID, j.Prompt)
	}
	js, _ = r.d.ListJobs(ctx, api.JobFilter{Session: sessB})
	if len(js) != 3 || js[0].ID != ids[5] || js[2].ID != ids[1] {
		t.Errorf("session filter: %d jobs", len(js))
	}
	js, _ = r.d.ListJobs(ctx, api.JobFilter{Status: state.StatusFailed, Limit: 2})
	if len(js) != 2 || js[0].ID != ids[5] || js[1].ID != ids[3] || js[1].Prompt != "prompt d" {
		t.Errorf("status filter: %v", js)
	}
	j, err := r.d.GetJob(ctx, ids[4][:len(ids[4])-2])
	if err != nil || j.ID != ids[4] || j.Prompt != "prompt e" {
		t.Errorf("get by prefix: %v %v", j, err)
	}
	if _, err := r.d.GetJob(ctx, "202611"); !errors.Is(err, ErrInvalidArgs) {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := r.d.GetJob(ctx, "20991231"); !errors.Is(err, ErrNotFound) {
		t.Errorf("no such job: %v", err)
	}
	cost := r.d.Cost(api.CostFilter{Agent: "beta"})
	if len(cost) != 1 || cost[0].Jobs != 3 || cost[0].Turns != 1+3+5 || cost[0].CostUSD != 1.5 {
		t.Errorf("cost: %+v", cost)
	}
	a, err := r.d.GetAgent(ctx, "beta")
	if err != nil || a.LastJob != ids[5] || a.LastStatus != state.StatusFailed || !a.LastFinished.Equal(base.Add(5*time.Hour+time.Minute)) {
		t.Errorf("agent: %+v %v", a, err)
	}

	r.d.hooks.mu.Lock()
	r.d.hooks.seen[ids[0]] = true
	r.d.hooks.mu.Unlock()
	res, err := r.d.Prune(ctx, api.PruneOptions{OlderThan: time.Since(base.Add(150 * time.Minute))})
	if err != nil || len(res.Jobs) != 3 {
		t.Fatalf("prune: %+v %v", res, err)
	}
	js, _ = r.d.ListJobs(ctx, api.JobFilter{})
	if len(js) != 3 || js[2].ID != ids[3] {
		t.Errorf("after prune: %d jobs", len(js))
	}
	if _, err := r.d.GetJob(ctx, ids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("pruned job: %v", err)
	}
	r.d.hooks.mu.Lock()
	seen := r.d.hooks.seen[ids[0]]
	r.d.hooks.mu.Unlock()
	if seen {
		t.Error("a pruned job's hooks are still remembered")
	}
}

// TestManualUnitAgent: a manual job's unit is counted for its agent from
// the index, with no entry of its own in unitAgent.
func TestManualUnitAgent(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	ctx := context.Background()
	j, err := r.d.Trigger(ctx, "alpha", "", "hello", api.TriggerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if j.Unit != units.ManualServiceName("alpha", j.ID) {
		t.Fatalf("unit %s", j.Unit)
	}
	r.d.mu.Lock()
	_, kept := r.d.unitAgent[j.Unit]
	r.d.mu.Unlock()
	if kept {
		t.Error("a manual unit is kept in unitAgent")
	}
	if n, err := r.d.running(ctx, "alpha"); err != nil || n != 1 {
		t.Errorf("alpha runs %d jobs: %v", n, err)
	}
	if n, _ := r.d.running(ctx, "beta"); n != 0 {
		t.Errorf("beta runs %d jobs", n)
	}
}

package daemon

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// TestPrune: ended jobs older than the retention go with their hook
// results, and so do old day files and transcripts of sessions no kept
// job ran in; running and queued jobs, however old, stay, as do the
// sessions of kept jobs and the one an agent resumes next. A dry run
// removes nothing. cost and sessions count what is kept.
func TestPrune(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	now := time.Now()
	old, recent := now.Add(-100*24*time.Hour), now.Add(-30*time.Hour)
	const (
		sOld    = "00000000-0000-4000-8000-000000000001"
		sKept   = "00000000-0000-4000-8000-000000000002"
		sNext   = "00000000-0000-4000-8000-000000000003"
		sLinked = "00000000-0000-4000-8000-000000000004"
	)
	recs := state.Records{Layout: r.d.Layout}
	for _, j := range []*api.Job{
		{ID: "20250801-000000-aaaaaa", Agent: "alpha", Status: state.StatusCompleted, Started: old, Finished: &old, SessionID: sOld, CostUSD: 1},
		{ID: "20250801-000000-bbbbbb", Agent: "alpha", Status: state.StatusRunning, Started: old},
		{ID: "20250801-000000-cccccc", Agent: "alpha", Status: state.StatusQueued, Started: old},
		{ID: "20250801-000000-dddddd", Agent: "alpha", Status: state.StatusFailed, Started: old, Finished: &recent, SessionID: sKept, CostUSD: 2},
	} {
		if err := recs.Write(j); err != nil {
			t.Fatal(err)
		}
		r.d.jobChanged(j.ID)
	}
	if err := r.d.Layout.WriteHookState(&state.HookState{Job: "20250801-000000-aaaaaa"}); err != nil {
		t.Fatal(err)
	}
	// Day files: alpha's cost day of long ago, the fleet's log day today.
	r.write("state/agents/alpha/cost-today", old.Format(time.DateOnly)+" 1.5\n")
	r.write("state/journal-today", now.Format(time.DateOnly)+" 100\n")
	if err := r.d.Layout.WriteLastSession("alpha", state.LastSession{ID: sNext}); err != nil {
		t.Fatal(err)
	}
	// Transcripts in alpha's home, all last written long ago.
	proj := filepath.Join(r.d.Layout.TranscriptsDir("alpha"), "-workspace")
	elsewhere := filepath.Join(r.dir, "elsewhere")
	for _, p := range []string{
		filepath.Join(proj, sOld+".jsonl"), filepath.Join(proj, sKept+".jsonl"), filepath.Join(proj, sNext+".jsonl"),
		filepath.Join(proj, "notes.txt"), filepath.Join(elsewhere, sLinked+".jsonl"),
	} {
		r.write(p[len(r.dir)+1:], "{}\n")
		os.Chtimes(p, old, old)
	}
	// The agent links a project directory and a transcript elsewhere:
	// neither is followed.
	if err := os.Symlink(elsewhere, filepath.Join(r.d.Layout.TranscriptsDir("alpha"), "-linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(elsewhere, sLinked+".jsonl"), filepath.Join(proj, "00000000-0000-4000-8000-000000000005.jsonl")); err != nil {
		t.Fatal(err)
	}

	dry, err := r.d.Prune(t.Context(), api.PruneOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dry.Jobs, []string{"20250801-000000-aaaaaa"}) || len(dry.DayFiles) != 1 || len(dry.Transcripts) != 1 {
		t.Fatalf("dry run: %+v", dry)
	}
	if _, err := os.Stat(r.d.Layout.JobRecord("20250801-000000-aaaaaa")); err != nil {
		t.Fatal("a dry run removed a record")
	}

	res, err := r.d.Prune(t.Context(), api.PruneOptions{})
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("prune: %+v %v", res, err)
	}
	if !slices.Equal(res.Jobs, []string{"20250801-000000-aaaaaa"}) || !slices.Equal(res.Transcripts, []string{filepath.Join(proj, sOld+".jsonl")}) ||
		!slices.Equal(res.DayFiles, []string{r.d.Layout.AgentCostDay("alpha")}) || res.Bytes == 0 {
		t.Errorf("pruned: %+v", res)
	}
	for p, want := range map[string]bool{
		r.d.Layout.JobRecord("20250801-000000-aaaaaa"):     false,
		r.d.Layout.HookStateFile("20250801-000000-aaaaaa"): false,
		r.d.Layout.JobRecord("20250801-000000-bbbbbb"):     true,
		r.d.Layout.JobRecord("20250801-000000-cccccc"):     true,
		r.d.Layout.JobRecord("20250801-000000-dddddd"):     true,
		r.d.Layout.AgentCostDay("alpha"):                   false,
		r.d.Layout.FleetLogDay():                           true,
		filepath.Join(proj, sOld+".jsonl"):                 false,
		filepath.Join(proj, sKept+".jsonl"):                true,
		filepath.Join(proj, sNext+".jsonl"):                true,
		filepath.Join(proj, "notes.txt"):                   true,
		filepath.Join(elsewhere, sLinked+".jsonl"):         true,
	} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", p, err == nil, want)
		}
	}
	if _, err := r.d.GetJob(t.Context(), "20250801-000000-aaaaaa"); err == nil {
		t.Error("a pruned job is still in the index")
	}
	ss, _ := r.d.Sessions("alpha")
	if len(ss) != 1 || ss[0].ID != sKept {
		t.Errorf("sessions after prune: %+v", ss)
	}
	var total float64
	for _, c := range r.d.Cost(api.CostFilter{Agent: "alpha"}) {
		total += c.CostUSD
	}
	if total != 2 {
		t.Errorf("cost after prune: %v, want what the kept job spent", total)
	}

	// --older-than shorter than the default takes the recent end too,
	// never the running or queued job.
	res, _ = r.d.Prune(t.Context(), api.PruneOptions{OlderThan: 24 * time.Hour})
	if !slices.Equal(res.Jobs, []string{"20250801-000000-dddddd"}) {
		t.Errorf("older than a day: %+v", res.Jobs)
	}
}

// TestPruneRefusesLessThanADay (the red team's R2): herdctlctl refuses
// --older-than under a day, but the bus method took any positive age
// from any member of group herdctl (herdctl-chat's user among them): a
// call with a second pruned every ended job's record and the
// transcripts of their sessions at once. The daemon refuses it too.
func TestPruneRefusesLessThanADay(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	recent := time.Now().Add(-time.Hour)
	recs := state.Records{Layout: r.d.Layout}
	j := &api.Job{ID: "20250801-000000-eeeeee", Agent: "alpha", Status: state.StatusCompleted, Started: recent, Finished: &recent}
	if err := recs.Write(j); err != nil {
		t.Fatal(err)
	}
	r.d.jobChanged(j.ID)
	for _, d := range []time.Duration{time.Nanosecond, time.Second, 23 * time.Hour} {
		if res, err := r.d.Prune(t.Context(), api.PruneOptions{OlderThan: d}); err == nil {
			t.Errorf("prune older than %s: %d jobs removed, no error", d, len(res.Jobs))
		}
	}
	if _, err := os.Stat(r.d.Layout.JobRecord(j.ID)); err != nil {
		t.Errorf("the job of an hour ago: %v", err)
	}
}

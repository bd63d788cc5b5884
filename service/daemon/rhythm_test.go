package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/state"
)

// firstElapse reads when a timer file says it first fires.
func firstElapse(t *testing.T, content string) string {
	t.Helper()
	for line := range strings.Lines(content) {
		if v, ok := strings.CutPrefix(line, "OnActiveSec="); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no OnActiveSec in:\n%s", content)
	return ""
}

// TestIntervalKeepsItsRhythm: an interval schedule counts from its last
// scheduled job, or from when it was first applied, across restarts; a
// manual job does not move it; a reload that leaves it alone leaves its
// timer running.
func TestIntervalKeepsItsRhythm(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	r := newDaemonRig(t)
	r.d.Now = func() time.Time { return now }
	r.start()
	if got := firstElapse(t, r.unitFiles()["herdctl-beta-daily.timer"]); got != "1d" {
		t.Errorf("a new schedule first fires after %s, want 1d", got)
	}

	// A restart 10 hours later: beta has not run, alpha ran 20 minutes
	// ago by its timer and 5 minutes ago by hand.
	now = now.Add(10 * time.Hour)
	records := state.Records{Layout: r.d.Layout}
	records.Write(&state.Job{ID: "20261130-214000-aaaaaa", Agent: "alpha", Schedule: "tick", Trigger: state.TriggerSchedule,
		Started: now.Add(-20 * time.Minute), Status: state.StatusCompleted})
	records.Write(&state.Job{ID: "20261130-215500-bbbbbb", Agent: "alpha", Schedule: "tick", Trigger: state.TriggerManual,
		Started: now.Add(-5 * time.Minute), Status: state.StatusCompleted})
	restarted := newDaemonRig(t)
	restarted.d.ConfigFile, restarted.d.UnitDir, restarted.d.Layout = r.d.ConfigFile, r.d.UnitDir, r.d.Layout
	restarted.sd.unitDir = r.d.UnitDir
	restarted.d.Now = func() time.Time { return now }
	restarted.start()
	files := restarted.unitFiles()
	if got := firstElapse(t, files["herdctl-beta-daily.timer"]); got != "14h" {
		t.Errorf("beta after a restart 10h in: first fires after %s, want 14h", got)
	}
	if got := firstElapse(t, files["herdctl-alpha-tick.timer"]); got != "40min" {
		t.Errorf("alpha, run by its timer 20 minutes ago: first fires after %s, want 40min", got)
	}

	// A reload a minute later that changes nothing rewrites nothing and
	// restarts no timer.
	now = now.Add(time.Minute)
	reloads, started, stopped := restarted.sd.reloads, len(restarted.sd.started), len(restarted.sd.stopped)
	if err := restarted.d.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := restarted.unitFiles(); !sameContent(got, files) {
		t.Error("a reload with nothing changed rewrote a timer")
	}
	if restarted.sd.reloads != reloads || len(restarted.sd.started) != started || len(restarted.sd.stopped) != stopped {
		t.Errorf("a reload with nothing changed: daemon-reloads %d→%d, starts %v, stops %v", reloads, restarted.sd.reloads,
			restarted.sd.started[started:], restarted.sd.stopped[stopped:])
	}
}

func sameContent(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

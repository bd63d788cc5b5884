package daemon

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

const testFleet = `version = 1
[fleet]
name = "test"
[defaults.docker]
user = "1000:1000"
[[agents]]
path = "alpha/agent.toml"
[[agents]]
path = "beta/agent.toml"
`

const alphaAgent = `name = "alpha"
default_prompt = "hello"
[schedules.tick]
type = "interval"
interval = "1h"
[schedules.nightly]
type = "cron"
cron = "0 3 * * *"
`

const betaAgent = `name = "beta"
[schedules.daily]
type = "interval"
interval = "24h"
prompt = "daily"
`

type daemonRig struct {
	t   *testing.T
	dir string
	sd  *fakeSystemd
	d   *Daemon
}

func newDaemonRig(t *testing.T) *daemonRig {
	t.Helper()
	dir := t.TempDir()
	r := &daemonRig{t: t, dir: dir, sd: newFakeSystemd()}
	r.write("herdctl.toml", testFleet)
	r.write("alpha/agent.toml", alphaAgent)
	r.write("beta/agent.toml", betaAgent)
	r.sd.unitDir = filepath.Join(dir, "units")
	r.d = &Daemon{
		ConfigFile: filepath.Join(dir, "herdctl.toml"),
		UnitDir:    filepath.Join(dir, "units"),
		Layout:     state.Layout{StateDir: filepath.Join(dir, "state"), RuntimeDir: filepath.Join(dir, "run")},
		Runner:     "/usr/libexec/herdctl/herdctl-runner",
		Systemd:    r.sd,
	}
	return r
}

func (r *daemonRig) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *daemonRig) start() {
	r.t.Helper()
	if err := r.d.Start(context.Background()); err != nil {
		r.t.Fatal(err)
	}
}

// unitFiles reads the unit directory.
func (r *daemonRig) unitFiles() map[string]string {
	r.t.Helper()
	out := map[string]string{}
	entries, _ := os.ReadDir(r.d.UnitDir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(r.d.UnitDir, e.Name()))
		if err != nil {
			r.t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func names(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func TestStartWritesUnitsWithOneReload(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	want := []string{
		"herdctl-alpha-nightly.service", "herdctl-alpha-nightly.timer",
		"herdctl-alpha-tick.service", "herdctl-alpha-tick.timer",
		"herdctl-beta-daily.service", "herdctl-beta-daily.timer",
		"herdctl-timers.target",
	}
	if got := names(r.unitFiles()); !reflect.DeepEqual(got, want) {
		t.Fatalf("units:\n got %v\nwant %v", got, want)
	}
	reloads, started, _ := r.sd.take()
	if reloads != 1 {
		t.Errorf("daemon-reloads: got %d, want exactly 1", reloads)
	}
	if want := []string{"herdctl-alpha-nightly.timer", "herdctl-alpha-tick.timer", "herdctl-beta-daily.timer"}; !reflect.DeepEqual(started, want) {
		t.Errorf("timers started: got %v, want %v", started, want)
	}
	for _, a := range []string{"alpha", "beta"} {
		fi, err := os.Stat(r.d.Layout.Snapshot(a))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600 (it holds credentials)", fi.Name(), fi.Mode().Perm())
		}
	}
	st, err := r.d.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Agents != 2 || st.Timers != 3 || st.FleetName != "test" {
		t.Errorf("status: %+v", st)
	}
}

func TestReloadAppliesOnlyTheDifference(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	r.sd.take()
	ctx := context.Background()

	if err := r.d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if reloads, started, stopped := r.sd.take(); reloads != 0 || len(stopped) != 0 {
		t.Errorf("unchanged fleet: %d daemon-reloads, stopped %v, want none (started %v)", reloads, stopped, started)
	}

	before := r.unitFiles()
	r.write("alpha/agent.toml", strings.Replace(alphaAgent, `"1h"`, `"2h"`, 1))
	if err := r.d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	reloads, _, stopped := r.sd.take()
	if reloads != 1 {
		t.Errorf("one schedule changed: %d daemon-reloads, want 1", reloads)
	}
	if want := []string{"herdctl-alpha-tick.timer"}; !reflect.DeepEqual(stopped, want) {
		t.Errorf("restarted timers: got %v, want %v", stopped, want)
	}
	after := r.unitFiles()
	for name := range after {
		changed := after[name] != before[name]
		if changed != (name == "herdctl-alpha-tick.timer") {
			t.Errorf("%s changed=%v", name, changed)
		}
	}

	r.write("herdctl.toml", strings.Replace(testFleet, "[[agents]]\npath = \"beta/agent.toml\"\n", "", 1))
	if err := r.d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	reloads, _, stopped = r.sd.take()
	if reloads != 1 || !reflect.DeepEqual(stopped, []string{"herdctl-beta-daily.timer"}) {
		t.Errorf("agent removed: %d daemon-reloads, stopped %v", reloads, stopped)
	}
	if _, ok := r.unitFiles()["herdctl-beta-daily.service"]; ok {
		t.Error("removed agent's service is still there")
	}
	if _, err := os.Stat(r.d.Layout.Snapshot("beta")); !os.IsNotExist(err) {
		t.Errorf("removed agent's resolved file: %v", err)
	}
}

func TestStaleUnitsRemovedOthersLeft(t *testing.T) {
	r := newDaemonRig(t)
	r.write("units/herdctl-gone-old.timer", "# Generated by herdctl, do not edit.\n[Timer]\n")
	r.write("units/herdctl-mine.service", "[Service]\nExecStart=/bin/true\n")
	r.start()
	files := r.unitFiles()
	if _, ok := files["herdctl-gone-old.timer"]; ok {
		t.Error("a stale generated unit was left")
	}
	if _, ok := files["herdctl-mine.service"]; !ok {
		t.Error("a unit herdctl did not generate was removed")
	}
	if _, _, stopped := r.sd.take(); !reflect.DeepEqual(stopped, []string{"herdctl-gone-old.timer"}) {
		t.Errorf("stale timer not stopped: %v", stopped)
	}
}

func TestTriggerPromptFileAndMaxConcurrent(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	ctx := context.Background()
	secret := "do the thing"
	j, err := r.d.Trigger(ctx, "alpha", "", secret, api.TriggerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	props := r.sd.transient[j.Unit]
	if props == nil {
		t.Fatalf("no transient unit %s", j.Unit)
	}
	var exec string
	for _, p := range props {
		if strings.Contains(p.Value.String(), secret) {
			t.Errorf("the prompt is in unit property %s", p.Name)
		}
		if p.Name == "ExecStart" {
			exec = p.Value.String()
		}
	}
	file := r.d.Layout.PromptFile(j.ID)
	if !strings.Contains(exec, "--job="+j.ID) {
		t.Errorf("ExecStart: %s", exec)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("prompt file: %v %v", fi, err)
	}
	if p, ok, err := r.d.Layout.TakePrompt(j.ID); !ok || err != nil || p != secret {
		t.Errorf("the runner's side reads prompt %q %v %v", p, ok, err)
	}

	_, err = r.d.Trigger(ctx, "alpha", "", "again", api.TriggerOptions{})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("second trigger while one runs: got %v, want busy", err)
	}
	q, err := r.d.Trigger(ctx, "alpha", "", "queued", api.TriggerOptions{Queue: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.d.GetJob(ctx, q.ID); got.Status != state.StatusQueued {
		t.Fatalf("queued job: status %s", got.Status)
	}
	if _, ok := r.sd.transient[q.Unit]; ok {
		t.Fatal("queued job started while the first still runs")
	}
	r.sd.set(j.Unit, "inactive")
	r.d.startQueued(ctx)
	if _, ok := r.sd.transient[q.Unit]; !ok {
		t.Fatal("queued job not started once the slot freed")
	}

	for _, c := range []struct {
		agent, sched, prompt string
		want                 error
	}{
		{"nobody", "", "x", ErrNotFound},
		{"alpha", "nope", "x", ErrNotFound},
		{"beta", "", "", ErrInvalidArgs}, // no prompt anywhere
		{"beta", "", strings.Repeat("x", state.MaxPrompt+1), ErrInvalidArgs},
	} {
		_, err := r.d.Trigger(ctx, c.agent, c.sched, c.prompt, api.TriggerOptions{})
		if !errors.Is(err, c.want) {
			t.Errorf("Trigger(%q, %q): got %v, want %s", c.agent, c.sched, err, c.want)
		}
	}
}

func TestReconcileClosesJobs(t *testing.T) {
	r := newDaemonRig(t)
	recs := state.Records{Layout: r.d.Layout}
	now := time.Now()
	for _, j := range []*api.Job{
		{ID: "20260101-000000-aaaaaa", Agent: "alpha", Status: state.StatusRunning, Unit: "herdctl-alpha-tick.service", Started: now},
		{ID: "20260101-000000-bbbbbb", Agent: "alpha", Status: state.StatusRunning, Unit: "herdctl-alpha-nightly.service", Started: now},
		{ID: "20260101-000000-cccccc", Agent: "beta", Status: state.StatusRunning, Unit: "herdctl-beta-daily.service", Invocation: "old", Started: now},
		{ID: "20260101-000000-dddddd", Agent: "alpha", Status: state.StatusQueued, Trigger: "manual", Prompt: "later",
			Unit: "herdctl-alpha-run-20260101-000000-dddddd.service", Started: now},
	} {
		if err := recs.Write(j); err != nil {
			t.Fatal(err)
		}
	}
	r.sd.set("herdctl-alpha-nightly.service", "active")
	r.sd.set("herdctl-beta-daily.service", "active")
	r.sd.invoc["herdctl-beta-daily.service"] = "new" // the unit has run again since
	r.start()
	want := map[string]string{"20260101-000000-aaaaaa": state.StatusFailed, "20260101-000000-bbbbbb": state.StatusRunning, "20260101-000000-cccccc": state.StatusFailed}
	for id, st := range want {
		rec, err := recs.Read(id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != st {
			t.Errorf("job %s: %s, want %s", id, rec.Status, st)
		}
	}
	// The queued job is queued again. Alpha's one slot is taken (its
	// nightly job runs), so it waits; once the slot frees, it starts.
	if _, ok := r.sd.transient["herdctl-alpha-run-20260101-000000-dddddd.service"]; ok {
		t.Error("a queued job started while its agent's slot was taken")
	}
	r.sd.set("herdctl-alpha-nightly.service", "inactive")
	r.d.startQueued(context.Background())
	props, ok := r.sd.transient["herdctl-alpha-run-20260101-000000-dddddd.service"]
	if !ok {
		t.Fatal("the queued job was not queued again after the restart")
	}
	_ = props
	if p, ok, _ := r.d.Layout.TakePrompt("20260101-000000-dddddd"); !ok || p != "later" {
		t.Errorf("requeued job lost its prompt: %q", p)
	}
}

func TestTeardownLeavesNothing(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	r.sd.set("herdctl-alpha-tick.service", "active")
	r.write("units/unrelated.service", "[Service]\n")
	r.sd.take()
	if err := r.d.Teardown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := names(r.unitFiles()); !reflect.DeepEqual(got, []string{"unrelated.service"}) {
		t.Errorf("unit files left: %v", got)
	}
	reloads, _, stopped := r.sd.take()
	want := []string{"herdctl-alpha-nightly.timer", "herdctl-alpha-tick.service", "herdctl-alpha-tick.timer", "herdctl-beta-daily.timer", "herdctl-timers.target"}
	if reloads != 1 || !reflect.DeepEqual(stopped, want) {
		t.Errorf("teardown: %d reloads, stopped %v; want 1 and %v", reloads, stopped, want)
	}
}

// TestBrokenFleetFilesKeepTheRunningFleet: a fleet whose own files are
// broken (syntax, an undefined variable, a huge file, a symlink loop) is
// refused on reload, and nothing the running fleet put in place changes.
func TestBrokenFleetFilesKeepTheRunningFleet(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	r.sd.take()
	before := r.unitFiles()
	good := r.d.ConfigFile
	huge := filepath.Join(r.dir, "huge.toml")
	os.WriteFile(huge, []byte("version = 1\n# "+strings.Repeat("x", 2<<20)+"\n"), 0o644)
	loop := filepath.Join(r.dir, "loop.toml")
	os.Symlink(loop, loop)
	for _, f := range []string{"../../examples/bad/bad-toml/herdctl.toml", "../../examples/bad/undefined-var/herdctl.toml", huge, loop} {
		r.d.ConfigFile = f
		if err := r.d.Reload(context.Background()); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: reload: %v", f, err)
		}
		if reloads, started, stopped := r.sd.take(); reloads+len(started)+len(stopped) != 0 {
			t.Errorf("%s: systemd was touched", f)
		}
		if !reflect.DeepEqual(r.unitFiles(), before) {
			t.Errorf("%s: units changed", f)
		}
		if st, _ := r.d.Status(context.Background()); st.Agents != 2 || st.ReloadError == "" {
			t.Errorf("%s: status %+v", f, st)
		}
	}
	r.d.ConfigFile = good
	if err := r.d.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.d.Status(context.Background()); st.ReloadError != "" {
		t.Errorf("a good reload left the error: %s", st.ReloadError)
	}
}

// TestBrokenAgentFileLeavesOnlyThatAgentOut: an agent file with a syntax
// error, a dangerous option, or a named pipe in its place stops that
// agent's timers and says why; the other agents are untouched, and fixing
// the file brings the agent back.
func TestBrokenAgentFileLeavesOnlyThatAgentOut(t *testing.T) {
	for name, breakIt := range map[string]func(r *daemonRig){
		"syntax":           func(r *daemonRig) { r.write("alpha/agent.toml", alphaAgent+"model = \"unterminated\n") },
		"dangerous option": func(r *daemonRig) { r.write("alpha/agent.toml", alphaAgent+"[docker]\nnetwork = \"host\"\n") },
		"named pipe": func(r *daemonRig) {
			p := filepath.Join(r.dir, "alpha/agent.toml")
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := newDaemonRig(t)
			r.start()
			r.sd.take()
			beta := r.unitFiles()["herdctl-beta-daily.timer"]
			breakIt(r)
			done := make(chan error, 1)
			go func() { done <- r.d.Reload(context.Background()) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the reload blocked")
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "alpha/agent.toml") {
				t.Errorf("reload: %v", err)
			}
			_, _, stopped := r.sd.take()
			if !reflect.DeepEqual(stopped, []string{"herdctl-alpha-nightly.timer", "herdctl-alpha-tick.timer"}) {
				t.Errorf("stopped %v, want alpha's timers", stopped)
			}
			units := r.unitFiles()
			if _, ok := units["herdctl-alpha-tick.timer"]; ok || units["herdctl-beta-daily.timer"] != beta {
				t.Errorf("units after: %v", names(units))
			}
			st, _ := r.d.Status(context.Background())
			if st.Agents != 1 || len(st.BrokenAgents) != 1 || !strings.HasSuffix(st.BrokenAgents[0].File, "alpha/agent.toml") || len(st.BrokenAgents[0].Errors) == 0 {
				t.Errorf("status: %+v", st)
			}
			os.Remove(filepath.Join(r.dir, "alpha/agent.toml")) // a fifo would block the writer
			r.write("alpha/agent.toml", alphaAgent)
			if err := r.d.Reload(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st, _ := r.d.Status(context.Background()); st.Agents != 2 || len(st.BrokenAgents) != 0 || st.ReloadError != "" {
				t.Errorf("after the fix: %+v", st)
			}
		})
	}
}

// TestBrokenAgentCannotPassForAnother: a broken agent file is listed
// under the name it claims only when no other file holds that name; one
// that claims another agent's name is known by its file alone, so that
// status, logs and the web console never show that other agent broken.
func TestBrokenAgentCannotPassForAnother(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	for _, c := range []struct{ claim, want string }{
		{"alpha", "alpha"}, // its own name
		{"beta", ""},       // beta's, in the fleet
	} {
		r.write("alpha/agent.toml", strings.Replace(alphaAgent, `name = "alpha"`, `name = "`+c.claim+`"`, 1)+"[docker]\nnetwork = \"host\"\n")
		r.d.Reload(context.Background())
		st, _ := r.d.Status(context.Background())
		if len(st.BrokenAgents) != 1 || st.BrokenAgents[0].Name != c.want || !strings.HasSuffix(st.BrokenAgents[0].File, "alpha/agent.toml") {
			t.Errorf("alpha's file claiming %q: broken %+v, want the name %q", c.claim, st.BrokenAgents, c.want)
		}
	}
	// beta leaves the fleet; its state stays bound to beta's file.
	r.write("herdctl.toml", strings.Replace(testFleet, "[[agents]]\npath = \"beta/agent.toml\"\n", "", 1))
	r.d.Reload(context.Background())
	if st, _ := r.d.Status(context.Background()); len(st.BrokenAgents) != 1 || st.BrokenAgents[0].Name != "" {
		t.Errorf("alpha's file claiming the name whose state is beta's file's: %+v", st.BrokenAgents)
	}
}

// sameUnits says whether two sets of unit files are the same, timers
// perhaps counting to their first elapse from another time.
func sameUnits(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for name, content := range a {
		if other, ok := b[name]; !ok || !units.SameTimer(content, other) {
			return false
		}
	}
	return true
}

// TestStartRunsTheLastGoodFleet: when the fleet file is broken at a start
// (a reboot, an upgrade), the daemon starts anyway with the fleet it last
// applied and says so; with no last good fleet it runs no agents.
func TestStartRunsTheLastGoodFleet(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	before := r.unitFiles()
	r.write("herdctl.toml", testFleet+"this is not toml\n")
	restarted := newDaemonRig(t)
	restarted.d.ConfigFile, restarted.d.UnitDir, restarted.d.Layout = r.d.ConfigFile, r.d.UnitDir, r.d.Layout
	restarted.sd.unitDir = r.d.UnitDir
	restarted.start()
	if !sameUnits(restarted.unitFiles(), before) {
		t.Errorf("units differ from the last good fleet's:\n%v\n%v", names(restarted.unitFiles()), names(before))
	}
	st, _ := restarted.d.Status(context.Background())
	if !st.LastGood || st.Agents != 2 || st.FleetName != "test" || !strings.Contains(st.ReloadError, "herdctl.toml") {
		t.Errorf("status: %+v", st)
	}
	// Fixed: a reload runs the files again.
	r.write("herdctl.toml", testFleet)
	if err := restarted.d.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, _ := restarted.d.Status(context.Background()); st.LastGood || st.ReloadError != "" {
		t.Errorf("after the fix: %+v", st)
	}

	fresh := newDaemonRig(t)
	fresh.write("herdctl.toml", "not toml")
	fresh.start()
	if st, _ := fresh.d.Status(context.Background()); st.Agents != 0 || st.LastGood || st.ReloadError == "" {
		t.Errorf("no last good fleet: %+v", st)
	}
}

// TestQueuedJobLosesItsSchedule: a queued job whose schedule a reload
// removed fails with the reason instead of running without a timeout.
func TestQueuedJobLosesItsSchedule(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	ctx := context.Background()
	first, err := r.d.Trigger(ctx, "alpha", "tick", "", api.TriggerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := r.d.Trigger(ctx, "alpha", "tick", "", api.TriggerOptions{Queue: true})
	if err != nil {
		t.Fatal(err)
	}
	r.write("alpha/agent.toml", strings.Replace(alphaAgent, "[schedules.tick]\ntype = \"interval\"\ninterval = \"1h\"\n", "", 1))
	if err := r.d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	r.sd.set(first.Unit, "inactive")
	r.d.startQueued(ctx)
	if _, ok := r.sd.transient[q.Unit]; ok {
		t.Fatal("the queued job started without its schedule")
	}
	rec, err := r.d.records().Read(q.ID)
	if err != nil || rec.Status != state.StatusFailed || !strings.Contains(rec.Error, "was removed") {
		t.Errorf("queued job: %+v %v", rec, err)
	}
}

// TestFailedDaemonReloadIsRetried: units written while systemd's
// daemon-reload fails (or before a daemon that died could reload) are
// reloaded, and their timers started or restarted, by the next apply,
// although nothing differs by then.
func TestFailedDaemonReloadIsRetried(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	r.sd.take()
	ctx := context.Background()

	// A schedule changes; systemd's daemon-reload fails once.
	r.write("alpha/agent.toml", strings.Replace(alphaAgent, `interval = "1h"`, `interval = "2h"`, 1))
	r.sd.failReloads(1)
	if err := r.d.Reload(ctx); err == nil {
		t.Fatal("the failed daemon-reload was not reported")
	}
	if reloads, started, _ := r.sd.take(); reloads != 0 || len(started) != 0 {
		t.Fatalf("after the failure: %d reloads, started %v", reloads, started)
	}
	// The daemon's periodic retry (or any reload) catches up.
	r.d.retryPendingReload(ctx)
	reloads, started, stopped := r.sd.take()
	if reloads != 1 || !reflect.DeepEqual(started, []string{"herdctl-alpha-tick.timer"}) || !reflect.DeepEqual(stopped, []string{"herdctl-alpha-tick.timer"}) {
		t.Errorf("retry: %d reloads, started %v, stopped %v; want 1 and the changed timer restarted", reloads, started, stopped)
	}
	r.d.retryPendingReload(ctx)
	if reloads, _, _ := r.sd.take(); reloads != 0 {
		t.Errorf("a retry with nothing pending reloaded %d times", reloads)
	}

	// The daemon dies between writing units and reloading: a new one
	// reloads at start although the files are already as it wants.
	r.write("beta/agent.toml", strings.Replace(betaAgent, `interval = "24h"`, `interval = "12h"`, 1))
	r.sd.failReloads(1)
	r.d.Reload(ctx)
	r.sd.take()
	fresh := newDaemonRig(t)
	fresh.dir, fresh.sd = r.dir, r.sd
	fresh.d.ConfigFile, fresh.d.UnitDir, fresh.d.Layout, fresh.d.Systemd = r.d.ConfigFile, r.d.UnitDir, r.d.Layout, r.sd
	for u := range r.sd.state {
		r.sd.set(u, "active")
	}
	fresh.start()
	reloads, started, stopped = r.sd.take()
	if reloads != 1 || !reflect.DeepEqual(started, []string{"herdctl-beta-daily.timer"}) {
		t.Errorf("restart after a lost reload: %d reloads, started %v, stopped %v", reloads, started, stopped)
	}
}

// TestRenamedAgentDoesNotTakeAnothersHome: an agent that renames itself to
// the name of an agent whose home exists (bound to another agent file) is
// left out, with what to do.
func TestRenamedAgentDoesNotTakeAnothersHome(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	if err := r.d.Layout.ClaimIdentity("beta", filepath.Join(r.dir, "beta/agent.toml")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(r.d.Layout.AgentHome("beta"), 0o700); err != nil { // beta ran
		t.Fatal(err)
	}
	// alpha's file now says it is beta; beta's entry is gone.
	r.write("herdctl.toml", strings.Replace(testFleet, "[[agents]]\npath = \"beta/agent.toml\"\n", "", 1))
	r.write("alpha/agent.toml", strings.Replace(alphaAgent, `name = "alpha"`, `name = "beta"`, 1))
	err := r.d.Reload(context.Background())
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "belongs to the agent of") {
		t.Fatalf("reload: %v", err)
	}
	if st, _ := r.d.Status(context.Background()); st.Agents != 0 || len(st.BrokenAgents) != 1 {
		t.Errorf("status: %+v", st)
	}
}

// TestJobIDPrefixes: a unique prefix finds a job, as in git and docker; an
// ambiguous one lists the matches.
func TestJobIDPrefixes(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	recs := state.Records{Layout: r.d.Layout}
	for _, id := range []string{"20260101-000000-aaaaaa", "20260101-000000-aabbbb", "20260102-000000-cccccc"} {
		recs.Write(&api.Job{ID: id, Agent: "alpha", Status: state.StatusCompleted, Started: time.Now()})
		r.d.jobChanged(id)
	}
	ctx := context.Background()
	for prefix, want := range map[string]string{"20260102": "20260102-000000-cccccc", "20260101-000000-aab": "20260101-000000-aabbbb", "20260101-000000-aaaaaa": "20260101-000000-aaaaaa"} {
		if j, err := r.d.GetJob(ctx, prefix); err != nil || j.ID != want {
			t.Errorf("GetJob(%q) = %v, %v; want %s", prefix, j, err, want)
		}
	}
	if _, err := r.d.GetJob(ctx, "20260101-000000-aa"); !errors.Is(err, ErrInvalidArgs) || !strings.Contains(err.Error(), "20260101-000000-aabbbb, 20260101-000000-aaaaaa") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := r.d.GetJob(ctx, "2027"); !errors.Is(err, ErrNotFound) {
		t.Errorf("no match: %v", err)
	}
}

// TestDisableEnable: a disabled agent loses its timers and refuses
// triggers, across a reload and a restart, until it is enabled.
func TestDisableEnable(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	r.sd.take()
	ctx := context.Background()
	if err := r.d.SetEnabled(ctx, "alpha", false); err != nil {
		t.Fatal(err)
	}
	_, _, stopped := r.sd.take()
	if !reflect.DeepEqual(stopped, []string{"herdctl-alpha-nightly.timer", "herdctl-alpha-tick.timer"}) {
		t.Errorf("stopped %v", stopped)
	}
	if _, err := r.d.Trigger(ctx, "alpha", "", "x", api.TriggerOptions{}); !errors.Is(err, ErrDisabled) {
		t.Errorf("trigger of a disabled agent: %v", err)
	}
	if a, _ := r.d.GetAgent(ctx, "alpha"); !a.Disabled {
		t.Errorf("agent: %+v", a)
	}
	// A reload and a new daemon keep it disabled.
	r.d.Reload(ctx)
	fresh := newDaemonRig(t)
	fresh.d.ConfigFile, fresh.d.UnitDir, fresh.d.Layout = r.d.ConfigFile, r.d.UnitDir, r.d.Layout
	fresh.sd.unitDir = r.d.UnitDir
	fresh.start()
	if _, ok := fresh.unitFiles()["herdctl-alpha-tick.timer"]; ok {
		t.Error("a restart brought the disabled agent's timer back")
	}
	if err := fresh.d.SetEnabled(ctx, "alpha", true); err != nil {
		t.Fatal(err)
	}
	if _, ok := fresh.unitFiles()["herdctl-alpha-tick.timer"]; !ok {
		t.Error("enable did not bring the timer back")
	}
	if _, err := fresh.d.Trigger(ctx, "alpha", "", "x", api.TriggerOptions{}); err != nil {
		t.Errorf("trigger after enable: %v", err)
	}
	if err := fresh.d.SetEnabled(ctx, "nobody", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown agent: %v", err)
	}
}

// TestShowAgent: every effective value says where it was written, or that
// it is a default; the environment's values are withheld.
func TestShowAgent(t *testing.T) {
	r := newDaemonRig(t)
	r.write("herdctl.toml", strings.Replace(testFleet, "user = \"1000:1000\"\n", "user = \"1000:1000\"\nenv = { TOKEN = \"s3cret-value\" }\n", 1))
	r.start()
	vs, err := r.d.ShowAgent("alpha")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]api.ConfigValue{}
	for _, v := range vs {
		got[v.Field] = v
		if strings.Contains(v.Value, "s3cret") {
			t.Errorf("%s shows a secret: %s", v.Field, v.Value)
		}
	}
	for field, from := range map[string]string{
		"docker.user":              "herdctl.toml:5",
		"default_prompt":           "alpha/agent.toml:2",
		"schedules.tick.interval":  "alpha/agent.toml:5",
		"docker.memory":            "default",
		"permission_mode":          "default",
		"docker.env":               "herdctl.toml:6",
		"schedules.nightly.cron":   "alpha/agent.toml:8",
		"instances.max_concurrent": "default",
		"schedules.tick.timeout":   "timeout",
		"docker.network":           "default",
		"working_directory":        "the agent file's directory",
	} {
		if v, ok := got[field]; !ok || !strings.Contains(v.From, from) {
			t.Errorf("%s: %+v, want from %s", field, v, from)
		}
	}
	if got["docker.env"].Value != "TOKEN=(withheld)" {
		t.Errorf("docker.env: %q", got["docker.env"].Value)
	}
	if _, err := r.d.ShowAgent("nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown agent: %v", err)
	}
}

// TestTriggerInbox: a trigger's chat attachments stage reaches the
// runner's command line only as a name herdctl-chat makes; anything
// else is refused.
func TestTriggerInbox(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	ctx := context.Background()
	if _, err := r.d.Trigger(ctx, "alpha", "", "x", api.TriggerOptions{Inbox: "../../../etc"}); !errors.Is(err, ErrInvalidArgs) {
		t.Errorf("a path as the stage: %v", err)
	}
	j, err := r.d.Trigger(ctx, "alpha", "", "read the files", api.TriggerOptions{Inbox: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.sd.transient[j.Unit] {
		if p.Name == "ExecStart" && !strings.Contains(p.Value.String(), "--inbox=0123456789abcdef0123456789abcdef") {
			t.Errorf("ExecStart: %s", p.Value.String())
		}
	}
	if j.Inbox != "0123456789abcdef0123456789abcdef" {
		t.Errorf("the record: %+v", j)
	}
}

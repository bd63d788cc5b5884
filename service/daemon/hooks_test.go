package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"

	"github.com/herdctl/herdctl/hook"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// fakeHooks stands in for systemd's side of hook units: it "runs" each
// unit by reading what systemd would open for it (its stdin, its
// credential) and writing a webhook's result where its stdout goes.
type fakeHooks struct {
	mu      sync.Mutex
	runs    []fakeHookRun
	reset   []string
	outcome func(unit string) (jobResult string, u UnitResult, res *hook.Result)
	results map[string]UnitResult
}

type fakeHookRun struct {
	unit       string
	props      []sd.Property
	stdin      string
	credential string
}

func (f *fakeHooks) RunTransient(_ context.Context, unit string, props []sd.Property) (string, error) {
	run := fakeHookRun{unit: unit, props: props}
	var stdout string
	for _, p := range props {
		switch p.Name {
		case "StandardInputFile":
			b, _ := os.ReadFile(p.Value.Value().(string))
			run.stdin = string(b)
		case "StandardOutputFile":
			stdout = p.Value.Value().(string)
		case "LoadCredential":
			for _, c := range p.Value.Value().([]struct{ ID, Path string }) {
				b, _ := os.ReadFile(c.Path)
				run.credential = string(b)
			}
		}
	}
	jr, u, res := "done", UnitResult{LoadState: "loaded", Result: "success"}, &hook.Result{OK: true, HTTPStatus: 200, Attempts: 1, DurationMS: 12}
	if f.outcome != nil {
		jr, u, res = f.outcome(unit)
	}
	if stdout != "" && res != nil {
		b, _ := json.Marshal(res)
		os.WriteFile(stdout, b, 0o644)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, run)
	if f.results == nil {
		f.results = map[string]UnitResult{}
	}
	f.results[unit] = u
	return jr, nil
}

func (f *fakeHooks) UnitResult(_ context.Context, unit string) (UnitResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, ok := f.results[unit]; ok {
		return u, nil
	}
	return UnitResult{LoadState: "not-found"}, nil
}

func (f *fakeHooks) ResetFailed(_ context.Context, unit string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reset = append(f.reset, unit)
	return nil
}

func (f *fakeHooks) taken() []fakeHookRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeHookRun(nil), f.runs...)
}

const hookFleet = testFleet + `  [[agents.overrides.hooks.on_error]]
  type = "webhook"
  url = "https://hooks.example.org/herdctl/tok-in-path"
  secret = "hook-secret-4c1d"
  [[agents.overrides.hooks.after_run]]
  type = "shell"
  command = ["/usr/local/bin/notify", "--channel", "ops"]
`

// hookRig is a daemon whose beta agent has an on_error webhook and an
// after_run shell hook, with its hooks running.
func hookRig(t *testing.T, fh *fakeHooks) (*daemonRig, context.CancelFunc) {
	t.Helper()
	r := newDaemonRig(t)
	r.write("herdctl.toml", hookFleet)
	r.d.Hooks, r.d.HookProgram = fh, "/usr/sbin/herdctl"
	r.start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.d.runHooks(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r, cancel
}

// endJob writes the record of a job of agent that ended with status, as a
// runner does, and tells the daemon as watchJobs would.
func (r *daemonRig) endJob(agent, status string, end time.Time) *api.Job {
	r.t.Helper()
	j := &api.Job{ID: state.NewJobID(end.Add(-time.Minute)), Agent: agent, Trigger: state.TriggerManual, Prompt: "the prompt $(id)",
		Result: "the result `id`", Status: status, Started: end.Add(-time.Minute), Finished: &end, ExitReason: "authentication failed (HTTP 401)",
		Unit: "herdctl-" + agent + "-run-x.service"}
	if err := r.d.records().Write(j); err != nil {
		r.t.Fatal(err)
	}
	r.d.jobChanged(j.ID)
	return j
}

func (r *daemonRig) hooksDone(id string, n int) []state.HookRun {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		runs := r.d.hookRuns(id)
		s := &state.HookState{Runs: runs}
		if len(runs) == n && s.Done() {
			return runs
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.t.Fatalf("the hooks of job %s did not finish: %+v", id, r.d.hookRuns(id))
	return nil
}

func TestHooksRunAfterAFailedJob(t *testing.T) {
	fh := &fakeHooks{}
	r, _ := hookRig(t, fh)
	j := r.endJob("beta", state.StatusFailed, time.Now())
	runs := r.hooksDone(j.ID, 2)
	if runs[0].Hook != "on_error[0]" || runs[0].Status != state.HookOK || runs[0].HTTPStatus != 200 || runs[0].Attempts != 1 ||
		runs[1].Hook != "after_run[0]" || runs[1].Status != state.HookOK {
		t.Errorf("runs: %+v", runs)
	}
	got, err := r.d.GetJob(context.Background(), j.ID)
	if err != nil || len(got.Hooks) != 2 {
		t.Fatalf("GetJob does not show the hooks: %v %+v", err, got)
	}
	taken := fh.taken()
	if len(taken) != 2 || taken[0].unit != "herdctl-hook-"+j.ID+"-on_error-0.service" || taken[1].unit != "herdctl-hook-"+j.ID+"-after_run-0.service" {
		t.Fatalf("units: %+v", taken)
	}
	// The job reaches each hook on its stdin, with its event.
	for i, ev := range []string{"on_error", "after_run"} {
		var p hook.Payload
		if err := json.Unmarshal([]byte(taken[i].stdin), &p); err != nil || p.Event != ev || p.Job.ID != j.ID || p.Job.Prompt != j.Prompt ||
			p.Job.Result != j.Result || p.Fleet != "test" || p.Agent != "beta" {
			t.Errorf("hook %d stdin: %v %s", i, err, taken[i].stdin)
		}
	}
	// The webhook's settings, secret included, are its credential.
	var spec hook.Spec
	if err := json.Unmarshal([]byte(taken[0].credential), &spec); err != nil || spec.Secret != "hook-secret-4c1d" || !strings.HasSuffix(spec.URL, "tok-in-path") {
		t.Errorf("webhook credential: %v %s", err, taken[0].credential)
	}
	// Nothing of the job, no secret and no URL is in any unit property
	// (they are written to a world-readable unit file).
	for _, run := range taken {
		props := propText(run.props)
		for _, leak := range []string{"hook-secret-4c1d", "tok-in-path", "the prompt", "the result", "authentication failed"} {
			if strings.Contains(props, leak) {
				t.Errorf("%s: %q is in the unit's properties", run.unit, leak)
			}
		}
		if !strings.Contains(props, "HERDCTL_HOOK=") {
			t.Errorf("%s: no HERDCTL_HOOK log field", run.unit)
		}
	}
	if !strings.Contains(propText(taken[0].props), `["/usr/sbin/herdctl", "hook", "webhook"]`) || !strings.Contains(propText(taken[1].props), `["/usr/local/bin/notify", "--channel", "ops"]`) {
		t.Errorf("ExecStart: %v / %v", taken[0].props, taken[1].props)
	}
	// What the units read is gone once they have run; the state stays.
	if entries, _ := os.ReadDir(r.d.Layout.HookRunDir()); len(entries) != 0 {
		t.Errorf("left in %s: %v", r.d.Layout.HookRunDir(), entries)
	}
	if _, err := os.Stat(r.d.Layout.HookStateFile(j.ID)); err != nil {
		t.Errorf("no hook state: %v", err)
	}
	// The job's record is the runner's: the hooks changed nothing in it.
	rec, _ := r.d.records().Read(j.ID)
	if rec.Status != state.StatusFailed || len(rec.Hooks) != 0 {
		t.Errorf("the record changed: %+v", rec)
	}
}

func TestHooksByOutcome(t *testing.T) {
	fh := &fakeHooks{}
	r, _ := hookRig(t, fh)
	done := r.endJob("beta", state.StatusCompleted, time.Now())
	if runs := r.hooksDone(done.ID, 1); runs[0].Hook != "after_run[0]" {
		t.Errorf("a completed job ran %+v", runs)
	}
	// An agent without hooks: nothing, and no state.
	other := r.endJob("alpha", state.StatusFailed, time.Now())
	time.Sleep(100 * time.Millisecond)
	if runs := r.d.hookRuns(other.ID); len(runs) != 0 {
		t.Errorf("alpha has no hooks, ran %+v", runs)
	}
	// The same end seen twice (the record written again) runs nothing twice.
	r.d.jobChanged(done.ID)
	time.Sleep(100 * time.Millisecond)
	if n := len(fh.taken()); n != 1 {
		t.Errorf("%d hook units, want 1", n)
	}
}

func TestHookFailures(t *testing.T) {
	fh := &fakeHooks{outcome: func(unit string) (string, UnitResult, *hook.Result) {
		if strings.Contains(unit, "on_error") {
			return "failed", UnitResult{LoadState: "loaded", ActiveState: "failed", Result: "exit-code", ExitCode: 1, ExitStatus: 1},
				&hook.Result{Reason: "egress: hooks.example.org resolves to 10.0.0.5, a private address (RFC 1918)", Attempts: 1}
		}
		return "failed", UnitResult{LoadState: "loaded", ActiveState: "failed", Result: "exit-code", ExitCode: 1, ExitStatus: 3}, nil
	}}
	r, _ := hookRig(t, fh)
	j := r.endJob("beta", state.StatusTimedOut, time.Now())
	runs := r.hooksDone(j.ID, 2)
	if runs[0].Status != state.HookFailed || !strings.Contains(runs[0].Reason, "private address") {
		t.Errorf("webhook: %+v", runs[0])
	}
	if runs[1].Status != state.HookFailed || !strings.HasPrefix(runs[1].Reason, "exited with status 3") {
		t.Errorf("shell: %+v", runs[1])
	}
	fh.mu.Lock()
	reset := fh.reset
	fh.mu.Unlock()
	if len(reset) != 2 {
		t.Errorf("failed units not reset: %v", reset)
	}
	// A hook's failure is its own: the job stays as its runner recorded it.
	if got, _ := r.d.GetJob(context.Background(), j.ID); got.Status != state.StatusTimedOut {
		t.Errorf("job status %s", got.Status)
	}
}

// TestHooksOfJobsThatEndedWhileTheDaemonWasDown: a daemon that starts
// runs the hooks of the jobs that ended since the last one looked, and
// no others.
func TestHooksOfJobsThatEndedWhileTheDaemonWasDown(t *testing.T) {
	fh := &fakeHooks{}
	r := newDaemonRig(t)
	r.write("herdctl.toml", hookFleet)
	now := time.Now()
	r.d.Layout.WriteHooksWatermark(now.Add(-time.Hour))
	write := func(end time.Time, status string) *api.Job {
		j := &api.Job{ID: state.NewJobID(end.Add(-time.Minute)), Agent: "beta", Trigger: state.TriggerSchedule, Status: status,
			Started: end.Add(-time.Minute), Finished: &end}
		r.d.records().Write(j)
		return j
	}
	before := write(now.Add(-2*time.Hour), state.StatusFailed)
	down := write(now.Add(-time.Minute), state.StatusFailed)
	handled := write(now.Add(-30*time.Second), state.StatusFailed)
	r.d.Layout.WriteHookState(&state.HookState{Job: handled.ID, Runs: []state.HookRun{{Hook: "on_error[0]", Status: state.HookOK}}})
	r.d.Hooks = fh
	r.start()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.d.runHooks(ctx)
	r.hooksDone(down.ID, 2)
	time.Sleep(100 * time.Millisecond)
	if runs := r.d.hookRuns(before.ID); len(runs) != 0 {
		t.Errorf("a job that ended before the watermark ran hooks: %+v", runs)
	}
	if n := len(fh.taken()); n != 2 {
		t.Errorf("%d hook units ran, want the 2 of the job that ended while down", n)
	}
	if mark := r.d.Layout.ReadHooksWatermark(); mark.Before(now) {
		t.Errorf("watermark %s not moved to the start", mark)
	}
}

// TestHooksLeftByAnEarlierDaemon: a hook unit that was running when the
// daemon stopped is settled from systemd's word; a pending one runs.
func TestHooksLeftByAnEarlierDaemon(t *testing.T) {
	fh := &fakeHooks{}
	r := newDaemonRig(t)
	r.write("herdctl.toml", hookFleet)
	end := time.Now().Add(-time.Minute)
	j := &api.Job{ID: state.NewJobID(end), Agent: "beta", Trigger: state.TriggerSchedule, Status: state.StatusFailed, Started: end, Finished: &end}
	r.d.records().Write(j)
	webhookUnit, shellUnit := "herdctl-hook-"+j.ID+"-on_error-0.service", "herdctl-hook-"+j.ID+"-after_run-0.service"
	r.d.Layout.WriteHookState(&state.HookState{Job: j.ID, Runs: []state.HookRun{
		{Hook: "on_error[0]", Type: "webhook", Unit: webhookUnit, Status: state.HookRunning, Started: end},
		{Hook: "after_run[0]", Type: "shell", Unit: shellUnit, Status: state.HookPending},
	}})
	fh.results = map[string]UnitResult{webhookUnit: {LoadState: "loaded", ActiveState: "failed", Result: "exit-code", ExitCode: 1, ExitStatus: 1}}
	r.d.Hooks = fh
	r.start()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.d.runHooks(ctx)
	runs := r.hooksDone(j.ID, 2)
	if runs[0].Status != state.HookFailed || !strings.Contains(runs[0].Reason, "exited with status 1") {
		t.Errorf("the running webhook: %+v", runs[0])
	}
	if runs[1].Status != state.HookOK || len(fh.taken()) != 1 || fh.taken()[0].unit != shellUnit {
		t.Errorf("the pending shell hook: %+v, ran %+v", runs[1], fh.taken())
	}
}

// TestHookOfADeadRunner: a job whose runner died (its record says running,
// its unit is gone) gets its on_error hooks from the tick.
func TestHookOfADeadRunner(t *testing.T) {
	fh := &fakeHooks{}
	r, _ := hookRig(t, fh)
	now := time.Now()
	j := &api.Job{ID: state.NewJobID(now), Agent: "beta", Trigger: state.TriggerSchedule, Status: state.StatusRunning, Started: now,
		Unit: "herdctl-beta-daily.service"}
	r.d.records().Write(j)
	r.d.jobChanged(j.ID)
	r.d.sweepHooks(context.Background())
	runs := r.hooksDone(j.ID, 2)
	if runs[0].Hook != "on_error[0]" {
		t.Errorf("runs: %+v", runs)
	}
}

// propText renders unit properties as text, byte arrays as strings.
func propText(props []sd.Property) string {
	var b strings.Builder
	for _, p := range props {
		if bs, ok := p.Value.Value().([][]byte); ok {
			for _, x := range bs {
				fmt.Fprintf(&b, "%s=%s\n", p.Name, x)
			}
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", p.Name, p.Value.String())
	}
	return b.String()
}

func TestShowAgentHooksWithoutSecrets(t *testing.T) {
	r, _ := hookRig(t, &fakeHooks{})
	vs, err := r.d.ShowAgent("beta")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, v := range vs {
		if strings.HasPrefix(v.Field, "hooks.") {
			lines = append(lines, v.Field+" = "+v.Value+" @ "+v.From)
		}
	}
	got := strings.Join(lines, "\n")
	want := []string{
		"hooks.on_error[0] = webhook https://hooks.example.org/… (path withheld), signed (secret withheld), timeout 10s, 3 retries @ " + r.d.ConfigFile + ":10:5",
		"hooks.after_run[0] = shell /usr/local/bin/notify --channel ops (network none, timeout 1m0s) @ " + r.d.ConfigFile + ":14:5",
	}
	if got != strings.Join(want, "\n") {
		t.Errorf("show:\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if strings.Contains(got, "tok-in-path") || strings.Contains(got, "hook-secret") {
		t.Errorf("show leaks a secret:\n%s", got)
	}
}

// TestHooksWaitForTheJobsUnit: a runner records its job's end before its
// unit has stopped; the hooks run once the unit has.
func TestHooksWaitForTheJobsUnit(t *testing.T) {
	fh := &fakeHooks{}
	r, _ := hookRig(t, fh)
	r.sd.set("herdctl-beta-run-x.service", "deactivating")
	j := r.endJob("beta", state.StatusFailed, time.Now())
	time.Sleep(600 * time.Millisecond)
	if n := len(fh.taken()); n != 0 {
		t.Fatalf("%d hooks ran while the job's unit was still stopping", n)
	}
	r.sd.set("herdctl-beta-run-x.service", "inactive")
	r.hooksDone(j.ID, 2)
}

package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"go.uber.org/zap"

	"github.com/herdctl/herdctl/hook"
	"github.com/herdctl/herdctl/internal/journallog"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

// Hooks start here. The daemon sees every job end (its record, through
// watchJobs; a runner that died, through the tick), so it starts the
// hooks of the job's agent, each in a transient unit of its own that
// systemd runs after the job's unit has ended: a shell hook as the hook
// user, a webhook as a dynamic user with the network the daemon itself
// does not have. A hook never changes its job's record. What the daemon
// keeps of each hook run is in the job's hook state (package state),
// which marks the job's hooks as taken care of: hooks of jobs that ended
// while the daemon was down run when it starts again, and none twice.

// HookUnits is what the daemon asks of systemd for hooks. *SystemdConn
// is the real one.
type HookUnits interface {
	// RunTransient starts a transient oneshot unit and returns systemd's
	// result for its start job once the unit has run ("done", "failed",
	// "timeout", ...).
	RunTransient(ctx context.Context, unit string, props []sd.Property) (string, error)
	// UnitResult says how a unit's last run ended.
	UnitResult(ctx context.Context, unit string) (UnitResult, error)
	// ResetFailed forgets a failed unit.
	ResetFailed(ctx context.Context, unit string) error
}

// UnitResult is how a unit's last run ended, as systemd says.
type UnitResult struct {
	LoadState   string // "loaded", or "not-found" once a unit is gone
	ActiveState string
	Result      string // "success", "exit-code", "signal", "timeout", "oom-kill", ...
	ExitCode    int32  // ExecMainCode: 1 exited, 2 killed, 3 dumped
	ExitStatus  int32  // ExecMainStatus: the exit status or the signal
}

// Bounds of hook running.
const (
	// maxHookJobs is how many jobs' hooks run at once; each job's hooks
	// run one after the other, in the fleet's order.
	maxHookJobs = 4
	// maxHookResult bounds a webhook's result file.
	maxHookResult = 64 << 10
	// hookPoll is how often a hook unit left running by an earlier
	// daemon is looked at.
	hookPoll = time.Second
	// jobUnitPoll and maxJobUnitWait bound the wait for a job's unit to
	// end before its hooks run.
	jobUnitPoll    = 200 * time.Millisecond
	maxJobUnitWait = 2 * time.Minute
)

// hookRunner is the daemon's hook bookkeeping.
type hookRunner struct {
	mu     sync.Mutex
	states map[string]*state.HookState // job id → its hooks
	seen   map[string]bool             // jobs whose hooks are taken care of
	queue  []*api.Job
	wake   chan struct{}
	// live says runHooks runs: jobs that end are queued.
	live bool
}

// loadHooks reads every job's hook state (loadJobs's companion).
func (d *Daemon) loadHooks() {
	states, err := d.Layout.ReadHookStates()
	if err != nil {
		d.Log.Warn("cannot read the hooks' state", zap.String("dir", d.Layout.HooksDir()), zap.Error(err))
	}
	h := &d.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	h.states, h.seen = states, map[string]bool{}
	for id := range states {
		h.seen[id] = true
	}
	if h.wake == nil {
		h.wake = make(chan struct{}, 1)
	}
}

// hookRuns is what a job's hooks did, for GetJob and ListJobs.
func (d *Daemon) hookRuns(id string) []state.HookRun {
	h := &d.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.states[id]
	if s == nil {
		return nil
	}
	return append([]state.HookRun(nil), s.Runs...)
}

// forgetHooks drops what the daemon keeps of the hooks of jobs that
// were pruned.
func (d *Daemon) forgetHooks(ids []string) {
	h := &d.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		delete(h.states, id)
		delete(h.seen, id)
	}
}

// jobEnded queues the hooks of a job that just ended.
func (d *Daemon) jobEnded(j *api.Job) {
	h := &d.hooks
	h.mu.Lock()
	live := h.live
	h.mu.Unlock()
	if live {
		d.queueHooks(j)
		d.advanceHooksWatermark(j)
	}
}

// queueHooks queues the hooks of j unless they are taken care of.
func (d *Daemon) queueHooks(j *api.Job) {
	h := &d.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[j.ID] {
		return
	}
	h.seen[j.ID] = true
	h.queue = append(h.queue, j)
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// advanceHooksWatermark records that every job that ended up to j's end
// has been taken care of.
func (d *Daemon) advanceHooksWatermark(j *api.Job) {
	end := jobEnd(j)
	if end.After(d.Layout.ReadHooksWatermark()) {
		if err := d.Layout.WriteHooksWatermark(end); err != nil {
			d.Log.Warn("cannot record the hooks watermark", zap.Error(err))
		}
	}
}

func jobEnd(j *api.Job) time.Time {
	if j.Finished != nil {
		return *j.Finished
	}
	return j.Started
}

// runHooks runs hooks until ctx ends: first it settles the hooks an
// earlier daemon left running or pending, then it runs those of the jobs
// that ended while no daemon was there, then those of every job that
// ends.
func (d *Daemon) runHooks(ctx context.Context) {
	if d.Hooks == nil {
		d.Log.Warn("hooks are off: the daemon has no systemd connection for them")
		return
	}
	h := &d.hooks
	if h.wake == nil {
		d.loadHooks()
	}
	since := d.now()
	h.mu.Lock()
	h.live = true
	var unfinished []*state.HookState
	for _, s := range h.states {
		if !s.Done() {
			unfinished = append(unfinished, s)
		}
	}
	h.mu.Unlock()
	sem := make(chan struct{}, maxHookJobs)
	var wg sync.WaitGroup
	defer wg.Wait()
	spawn := func(f func()) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f()
		}()
	}
	for _, s := range unfinished {
		spawn(func() { d.resumeHooks(ctx, s) })
	}
	d.catchUpHooks(since)
	for {
		h.mu.Lock()
		q := h.queue
		h.queue = nil
		h.mu.Unlock()
		for _, j := range q {
			spawn(func() { d.runJobHooks(ctx, j) })
		}
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		}
	}
}

// catchUpHooks queues the hooks of the jobs that ended after the
// watermark without their hooks being taken care of: they ended while no
// daemon ran, or while this one started, before runHooks listened. The
// first daemon (no watermark) starts from its own start: a job that ended
// between Start and runHooks was otherwise never queued.
func (d *Daemon) catchUpHooks(since time.Time) {
	mark := d.Layout.ReadHooksWatermark()
	if mark.IsZero() {
		mark = d.since
	}
	if !mark.IsZero() {
		d.mu.Lock()
		type end struct {
			id  jobKey
			end time.Time
		}
		var ended []end
		x := &d.index
		for i := range x.entries {
			j := &x.entries[i]
			if api.Finished(x.status(j)) && j.end().After(mark) {
				ended = append(ended, end{j.key(), j.end()})
			}
		}
		d.mu.Unlock()
		sort.Slice(ended, func(i, k int) bool { return ended[i].end.Before(ended[k].end) })
		for _, e := range ended {
			if j, err := d.records().Read(e.id.String()); err == nil {
				d.queueHooks(j)
			}
		}
		if len(ended) > 0 {
			d.Log.Info("hooks of jobs that ended while herdctl was down are run now", zap.Int("jobs", len(ended)))
		}
	}
	if since.After(mark) {
		if err := d.Layout.WriteHooksWatermark(since); err != nil {
			d.Log.Warn("cannot record the hooks watermark", zap.Error(err))
		}
	}
}

// sweepHooks queues the hooks of jobs whose runner died before it could
// record their end: their record says running, their unit has ended.
func (d *Daemon) sweepHooks(ctx context.Context) {
	if d.Hooks == nil || !d.anyHooks() {
		return
	}
	// The units first, then the records: a runner writes its job's end
	// before its unit ends, so a record read after its unit was seen
	// inactive holds that end if there is one.
	ustate, err := d.unitStates(ctx)
	if err != nil {
		return
	}
	d.mu.Lock()
	var open []*api.Job
	for _, j := range d.index.open {
		if j.Status == state.StatusRunning && j.Unit != "" && !ustate[j.Unit].Active() {
			open = append(open, j)
		}
	}
	d.mu.Unlock()
	for _, j := range open {
		rec, err := d.records().Read(j.ID)
		if err != nil || rec.Status != state.StatusRunning {
			continue // its end is on its way through watchJobs
		}
		if v := d.view(ctx, rec, ustate); api.Finished(v.Status) {
			d.queueHooks(v)
		}
	}
}

// waitJobUnit waits until j's run of its unit has ended: a runner
// records the job's end before it has removed the job's container and
// its unit has stopped, and hooks run after the job's unit. A run that
// does not end within maxJobUnitWait (a stop timeout is 30 s) is not
// waited for longer.
func (d *Daemon) waitJobUnit(ctx context.Context, j *api.Job) {
	deadline := time.Now().Add(maxJobUnitWait)
	for time.Now().Before(deadline) {
		ustate, err := d.unitStates(ctx)
		if err != nil || !d.stillRunning(ctx, j, ustate) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(jobUnitPoll):
		}
	}
}

func (d *Daemon) anyHooks() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range d.agents {
		if !a.Hooks.Empty() {
			return true
		}
	}
	return false
}

// runJobHooks runs the hooks that j's outcome selects, one after the
// other, recording each.
func (d *Daemon) runJobHooks(ctx context.Context, j *api.Job) {
	d.mu.Lock()
	a, fleet := d.agents[j.Agent], d.fleetName
	d.mu.Unlock()
	if a == nil {
		return
	}
	sel := hook.Select(a.Hooks, j.Status)
	if len(sel) == 0 {
		return
	}
	s := &state.HookState{Job: j.ID}
	for _, x := range sel {
		s.Runs = append(s.Runs, state.HookRun{Hook: x.Name(), Type: x.Type, Unit: units.HookUnitName(j.ID, x.Event, x.Index), Status: state.HookPending})
	}
	d.saveHookState(s)
	d.waitJobUnit(ctx, j)
	for i, x := range sel {
		if ctx.Err() != nil {
			return // pending: the next daemon runs them
		}
		d.runHook(ctx, s, i, fleet, j, x)
	}
}

// runHook runs hook x, run i of s, and records its result.
func (d *Daemon) runHook(ctx context.Context, s *state.HookState, i int, fleet string, j *api.Job, x hook.Selected) {
	unit := s.Runs[i].Unit
	hs, err := d.prepareHook(unit, fleet, j, x)
	if err != nil {
		d.finishHook(s, i, hook.Result{Reason: "cannot prepare the hook: " + err.Error()}, "")
		return
	}
	d.hookUpdate(s, i, func(r *state.HookRun) { r.Status, r.Started = state.HookRunning, d.now() })
	start := time.Now()
	jobResult, err := d.Hooks.RunTransient(ctx, unit, units.HookProperties(hs))
	if err != nil {
		if ctx.Err() != nil {
			return // running: the next daemon settles it
		}
		res := hook.Result{Reason: "systemd did not start the hook's unit: " + err.Error()}
		res.DurationMS = time.Since(start).Milliseconds()
		d.finishHook(s, i, res, "")
		return
	}
	res := d.hookResult(ctx, s.Runs[i], jobResult)
	if res.DurationMS == 0 {
		res.DurationMS = time.Since(start).Milliseconds()
	}
	d.finishHook(s, i, res, "")
}

// prepareHook writes what the hook's unit reads (the job's JSON, a
// webhook's settings), root-only, and describes the unit.
func (d *Daemon) prepareHook(unit, fleet string, j *api.Job, x hook.Selected) (units.HookService, error) {
	if err := os.MkdirAll(d.Layout.HookRunDir(), 0o700); err != nil {
		return units.HookService{}, err
	}
	payload := d.Layout.HookPayloadFile(unit)
	if err := state.WriteFileAtomic(payload, hook.NewPayload(fleet, j, x).Encode(), 0o600); err != nil {
		return units.HookService{}, err
	}
	hs := units.HookService{
		Name:        unit,
		Description: fmt.Sprintf("herdctl hook %s after job %s of %s", x.Name(), j.ID, j.Agent),
		Agent:       j.Agent, Job: j.ID, Hook: x.Name(),
		Stdin: payload, Timeout: x.Timeout,
	}
	if !x.Sent() {
		hs.ExecStart, hs.Network = x.Command, x.Network == policy.NetworkHost
		return hs, nil
	}
	spec := hook.NewSpec(x.Hook)
	b, err := json.Marshal(spec)
	if err != nil {
		return units.HookService{}, err
	}
	hs.Webhook = true
	hs.ExecStart = []string{d.hookProgram(), "hook", "webhook"}
	hs.Credential, hs.CredentialName = d.Layout.HookSpecFile(unit), hook.SpecCredential
	hs.Stdout, hs.Timeout = d.Layout.HookResultFile(unit), spec.Deadline()
	os.Remove(hs.Stdout)
	return hs, state.WriteFileAtomic(hs.Credential, b, 0o600)
}

// hookProgram is the program webhook units run: this one.
func (d *Daemon) hookProgram() string {
	if d.HookProgram != "" {
		return d.HookProgram
	}
	p, err := os.Executable()
	if err != nil {
		return "/usr/sbin/herdctl"
	}
	return p
}

// finishHook cleans up after run i's unit, then records its result
// (unknown, with that reason, when unknown is not "") and logs it.
func (d *Daemon) finishHook(s *state.HookState, i int, res hook.Result, unknown string) {
	unit := s.Runs[i].Unit
	if d.Hooks != nil && !res.OK {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		d.Hooks.ResetFailed(ctx, unit) // gone already is fine
		cancel()
	}
	for _, p := range []string{d.Layout.HookPayloadFile(unit), d.Layout.HookSpecFile(unit), d.Layout.HookResultFile(unit)} {
		os.Remove(p)
	}
	d.hookUpdate(s, i, func(r *state.HookRun) {
		r.Status, r.Reason = state.HookFailed, res.Reason
		switch {
		case unknown != "":
			r.Status, r.Reason = state.HookUnknown, unknown
		case res.OK:
			r.Status, r.Reason = state.HookOK, ""
		}
		r.HTTPStatus, r.Attempts, r.DurationMS = res.HTTPStatus, res.Attempts, res.DurationMS
	})
	r := s.Runs[i]
	d.mu.Lock()
	agent := ""
	if j := d.index.get(s.Job); j != nil {
		agent = d.index.agent(j)
	}
	d.mu.Unlock()
	fields := []zap.Field{zap.String("agent", agent), zap.String("job", s.Job), journalField(state.FieldHook, r.Hook),
		journalField(state.FieldHookType, r.Type), journalField(state.FieldHookStatus, r.Status),
		journalField(state.FieldHookUnit, r.Unit), zap.Int64(journallog.ZapKey(state.FieldHookDurationMS), r.DurationMS)}
	if r.Reason != "" {
		fields = append(fields, journalField(state.FieldHookReason, r.Reason))
	}
	if policy.SentHook(r.Type) {
		fields = append(fields, zap.Int(journallog.ZapKey(state.FieldHookHTTPStatus), r.HTTPStatus), zap.Int(journallog.ZapKey(state.FieldHookAttempts), r.Attempts))
	}
	if r.Status == state.HookOK {
		d.Log.Info("hook "+r.Hook+" ok", fields...)
	} else {
		d.Log.Warn("hook "+r.Hook+" "+r.Status+": "+r.Reason, fields...)
	}
}

// hookUpdate changes run i of s and saves s.
func (d *Daemon) hookUpdate(s *state.HookState, i int, change func(*state.HookRun)) {
	d.hooks.mu.Lock()
	change(&s.Runs[i])
	d.hooks.mu.Unlock()
	d.saveHookState(s)
}

// saveHookState stores s and makes it what GetJob shows.
func (d *Daemon) saveHookState(s *state.HookState) {
	h := &d.hooks
	h.mu.Lock()
	cp := &state.HookState{Job: s.Job, Runs: append([]state.HookRun(nil), s.Runs...)}
	if h.states == nil {
		h.states = map[string]*state.HookState{}
	}
	h.states[s.Job] = cp
	h.mu.Unlock()
	if err := d.Layout.WriteHookState(cp); err != nil {
		d.Log.Error("cannot record the job's hooks", zap.String("job", s.Job), zap.Error(err))
	}
}

func journalField(field, value string) zap.Field { return zap.String(journallog.ZapKey(field), value) }

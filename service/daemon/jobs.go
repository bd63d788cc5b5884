package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/chat"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

// loadJobs reads every job record into the index.
func (d *Daemon) loadJobs() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.index = jobIndex{}
	if d.unitAgent == nil {
		d.unitAgent = map[string]string{}
	}
	dir := d.records().Dir()
	// Records hold prompts: root's alone on disk; the D-Bus API shows
	// them to group herdctl and the agent's user.
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("job records: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("job records: %w", err)
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(id, ".") {
			continue
		}
		rec, err := d.records().Read(id)
		if err != nil {
			d.Log.Warn("unreadable job record skipped", zap.String("file", filepath.Join(dir, e.Name())), zap.Error(err))
			continue
		}
		d.indexJob(rec)
	}
	return nil
}

// indexJob takes rec into the index; the unit of a scheduled job is
// remembered by name (one per schedule), a manual one is found by its
// job's id (jobIndex.manualAgent). The caller holds d.mu.
func (d *Daemon) indexJob(rec *api.Job) {
	if !d.index.put(rec) {
		return
	}
	if rec.Unit != "" && rec.Unit != units.ManualServiceName(rec.Agent, rec.ID) {
		d.unitAgent[rec.Unit] = rec.Agent
	}
}

// jobChanged takes a record that changed on disk into the index and
// announces a start or an end.
func (d *Daemon) jobChanged(id string) {
	rec, err := d.records().Read(id)
	if err != nil {
		return
	}
	d.mu.Lock()
	old, known := d.index.jobStatus(id)
	d.indexJob(rec)
	d.mu.Unlock()
	started := rec.Status == state.StatusRunning && (!known || old != state.StatusRunning)
	finished := api.Finished(rec.Status) && (!known || !api.Finished(old))
	if d.Signals != nil && started {
		d.Signals.JobStarted(rec)
	}
	if finished {
		if d.Signals != nil {
			d.Signals.JobFinished(rec)
		}
		d.Log.Info("job finished", zap.String("job", rec.ID), zap.String("agent", rec.Agent), zap.String("status", rec.Status))
		d.jobEnded(rec)
		d.startQueued(context.Background())
	}
}

// view is a job as the API shows it: its record, and systemd's view of
// its unit. A record that says running while its unit run is over was
// left by a runner that died before it could write its outcome.
func (d *Daemon) view(ctx context.Context, rec *api.Job, ustate map[string]UnitState) *api.Job {
	j := *rec
	j.Hooks = d.hookRuns(j.ID)
	if j.Unit == "" {
		return &j
	}
	j.UnitState = "inactive"
	if u, ok := ustate[j.Unit]; ok {
		j.UnitState = u.ActiveState
	}
	if j.Status == state.StatusRunning && !d.stillRunning(ctx, &j, ustate) {
		j.Status = state.StatusFailed
		j.ExitReason = "the job's unit ended without the runner recording an outcome: see journalctl --namespace=" + state.JournalNamespace + " -u " + j.Unit
	}
	return &j
}

func (d *Daemon) unitStates(ctx context.Context) (map[string]UnitState, error) {
	us, err := d.Systemd.Units(ctx, units.Prefix+"*.service")
	if err != nil {
		return nil, fmt.Errorf("asking systemd for the job units: %w", err)
	}
	out := make(map[string]UnitState, len(us))
	for _, u := range us {
		out[u.Name] = u
	}
	return out, nil
}

// ListJobs returns the jobs that match f, newest first.
func (d *Daemon) ListJobs(ctx context.Context, f api.JobFilter) ([]*api.Job, error) {
	if f.Status != "" && f.Status != state.StatusQueued && f.Status != state.StatusRunning && !api.Finished(f.Status) {
		return nil, errorf(ErrInvalidArgs, "unknown status %q: use queued, running, completed, failed, cancelled, timed_out or skipped", f.Status)
	}
	ustate, err := d.unitStates(ctx)
	if err != nil {
		return nil, err
	}
	if f.Offset < 0 || f.Limit < 0 {
		return nil, errorf(ErrInvalidArgs, "limit and offset must not be negative (limit 0 means all)")
	}
	// Filtered, ordered and paged on the index; only the page's records
	// are read.
	type hit struct {
		key     jobKey
		started int64
		status  string   // a finished job's
		open    *api.Job // an unfinished job's record
	}
	d.mu.Lock()
	x := &d.index
	all := make([]hit, 0, len(x.entries))
	inSession := x.sessionIs(f.Session)
	for i := range x.entries {
		e := &x.entries[i]
		if (f.Agent != "" && !x.isAgent(e, f.Agent)) || (f.Session != "" && !inSession(e)) {
			continue
		}
		h := hit{key: e.key(), started: e.started, status: x.status(e)}
		switch {
		case !api.Finished(h.status):
			h.open = x.open[h.key.String()] // its status is view's
		case f.Status != "" && h.status != f.Status:
			continue
		}
		all = append(all, h)
	}
	d.mu.Unlock()
	slices.SortFunc(all, func(a, b hit) int {
		if a.started != b.started {
			return cmp.Compare(b.started, a.started)
		}
		return b.key.compare(a.key)
	})
	var out []*api.Job
	skip := f.Offset
	for _, h := range all {
		var v *api.Job
		if h.open != nil {
			v = d.view(ctx, h.open, ustate)
			h.status = v.Status
		}
		if f.Status != "" && h.status != f.Status {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if v == nil {
			rec, err := d.records().Read(h.key.String())
			if err != nil {
				continue // pruned meanwhile
			}
			v = d.view(ctx, rec, ustate)
		}
		out = append(out, v)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// GetJob returns one job.
func (d *Daemon) GetJob(ctx context.Context, id string) (*api.Job, error) {
	rec, err := d.jobRecord(id)
	if err != nil {
		return nil, err
	}
	ustate, err := d.unitStates(ctx)
	if err != nil {
		return nil, err
	}
	return d.view(ctx, rec, ustate), nil
}

// Trigger starts a manual job of an agent now and returns its id at once.
// When the agent already runs max_concurrent jobs it is refused, or with
// opts.Queue queued until a job of the agent ends.
func (d *Daemon) Trigger(ctx context.Context, agent, schedule, prompt string, opts api.TriggerOptions) (*api.Job, error) {
	if len(prompt) > state.MaxPrompt {
		return nil, errorf(ErrInvalidArgs, "the prompt is %d bytes; the limit is %d: put long instructions in the agent's files instead", len(prompt), state.MaxPrompt)
	}
	d.apply.Lock()
	defer d.apply.Unlock()
	d.mu.Lock()
	a := d.agents[agent]
	d.mu.Unlock()
	if a == nil {
		return nil, errorf(ErrNotFound, "no agent %q in the fleet: list them with herdctlctl agents", agent)
	}
	if d.isDisabled(agent) {
		return nil, errorf(ErrDisabled, "agent %s is disabled: enable it with herdctlctl enable %s", agent, agent)
	}
	s, ok := jobSchedule(a, schedule)
	if !ok {
		return nil, errorf(ErrNotFound, "agent %q has no schedule %q: see herdctlctl agent %s", agent, schedule, agent)
	}
	if prompt == "" && s.Prompt == "" && a.DefaultPrompt == "" && len(a.Command) == 0 {
		return nil, errorf(ErrInvalidArgs, "no prompt: give one with --prompt, or set default_prompt for agent %q", agent)
	}
	now := d.now()
	var err error
	job := &api.Job{ID: state.NewJobID(now), Agent: agent, Schedule: schedule, Trigger: state.TriggerManual, Prompt: prompt,
		Started: now, Status: state.StatusQueued}
	job.Unit = units.ManualServiceName(agent, job.ID)
	if opts.Resume != "" {
		if job.Resume, err = d.resumable(agent, opts.Resume); err != nil {
			return nil, err
		}
	}
	if opts.Inbox != "" {
		if !chat.IsStageName(opts.Inbox) {
			return nil, errorf(ErrInvalidArgs, "inbox %q is not a name herdctl-chat stages attachments under (32 hex digits)", opts.Inbox)
		}
		job.Inbox = opts.Inbox
	}
	running, err := d.running(ctx, agent)
	if err != nil {
		return nil, err
	}
	if running >= a.MaxConcurrent && !opts.Queue {
		return nil, errorf(ErrBusy, "agent %s already runs %d job(s) and max_concurrent is %d: wait, cancel one (herdctlctl jobs --agent %s --status running), or trigger with --queue",
			agent, running, a.MaxConcurrent, agent)
	}
	if err := d.records().Write(job); err != nil {
		return nil, fmt.Errorf("writing the job record: %w", err)
	}
	d.mu.Lock()
	d.indexJob(job)
	d.mu.Unlock()
	if running >= a.MaxConcurrent {
		d.mu.Lock()
		d.queue = append(d.queue, queued{job: job, prompt: prompt})
		d.mu.Unlock()
		d.Log.Info("job queued", zap.String("job", job.ID), zap.String("agent", agent))
		return job, nil
	}
	return job, d.startManual(ctx, a, s, job, prompt)
}

// resumable checks a session a manual job of agent should continue and
// returns its id: "latest" is the agent's latest session; an id must be
// one of the agent's own (a job of the agent ran in it), so that no agent
// continues another's conversation.
func (d *Daemon) resumable(agent, session string) (string, error) {
	if session != api.ResumeLatest && !state.IsSessionID(session) {
		return "", errorf(ErrInvalidArgs, "%q is not a session id: herdctlctl sessions %s lists the agent's sessions", session, agent)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	x := &d.index
	inSession := x.sessionIs(session)
	var latest *jobEntry
	for i := range x.entries {
		j := &x.entries[i]
		if j.flags&sessionUUID == 0 || !x.isAgent(j, agent) {
			continue
		}
		if inSession(j) {
			return session, nil
		}
		if latest == nil || j.started > latest.started {
			latest = j
		}
	}
	switch {
	case session != api.ResumeLatest:
		return "", errorf(ErrNotFound, "session %s is not one of agent %s's: herdctlctl sessions %s lists them", session, agent, agent)
	case latest == nil:
		return "", errorf(ErrNotFound, "agent %s has no session yet: trigger it without --resume", agent)
	}
	return x.session(latest), nil
}

// jobSchedule is the schedule a job of a runs under: the named one, or,
// for a manual job without a schedule, one with the agent's timeout.
func jobSchedule(a *policy.Agent, name string) (policy.Schedule, bool) {
	if name == "" {
		return policy.Schedule{Timeout: a.Timeout}, true
	}
	return a.Schedule(name)
}

// running counts the agent's active job units.
func (d *Daemon) running(ctx context.Context, agent string) (int, error) {
	ustate, err := d.unitStates(ctx)
	if err != nil {
		return 0, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.activeJobs(ustate, agent), nil
}

// activeJobs counts the active job units in ustate of agent, or of any
// agent when agent is "". The caller holds d.mu.
func (d *Daemon) activeJobs(ustate map[string]UnitState, agent string) int {
	n := 0
	for name, u := range ustate {
		if !u.Active() {
			continue
		}
		owner := d.unitAgent[name]
		if owner == "" {
			owner = d.index.manualAgent(name)
		}
		if owner != "" && (agent == "" || owner == agent) {
			n++
		}
	}
	return n
}

// startManual starts the transient unit of a manual job. The prompt goes
// through a root-only file, never the command line (which ps shows).
func (d *Daemon) startManual(ctx context.Context, a *policy.Agent, s policy.Schedule, job *api.Job, prompt string) error {
	js := units.NewJobService(a, s, job, units.Options{Runner: d.Runner})
	if prompt != "" {
		// The runner finds it by the job's id.
		if err := d.Layout.WritePrompt(job.ID, prompt); err != nil {
			return d.failJob(job, err)
		}
	}
	if err := d.Systemd.StartTransient(ctx, js.Name, units.TransientProperties(js)); err != nil {
		d.Layout.RemovePrompt(job.ID)
		return d.failJob(job, err)
	}
	d.Log.Info("job started", zap.String("job", job.ID), zap.String("agent", a.Name), zap.String("unit", js.Name), zap.String("trigger", state.TriggerManual))
	return nil
}

func (d *Daemon) failJob(job *api.Job, err error) error {
	end := d.now()
	job.Status, job.Error, job.Finished = state.StatusFailed, err.Error(), &end
	job.ExitReason = "the job could not be started"
	d.records().Write(job)
	return fmt.Errorf("starting job %s: %w", job.ID, err)
}

// startQueued starts queued manual jobs whose agent has a free slot.
func (d *Daemon) startQueued(ctx context.Context) {
	d.apply.Lock()
	defer d.apply.Unlock()
	d.mu.Lock()
	q := d.queue
	d.queue = nil
	d.mu.Unlock()
	var keep []queued
	for _, item := range q {
		d.mu.Lock()
		a := d.agents[item.job.Agent]
		d.mu.Unlock()
		if a == nil {
			d.failJob(item.job, errors.New("the agent was removed from the fleet while the job was queued"))
			continue
		}
		n, err := d.running(ctx, a.Name)
		if err != nil || n >= a.MaxConcurrent {
			keep = append(keep, item)
			continue
		}
		s, ok := jobSchedule(a, item.job.Schedule)
		if !ok {
			// Without it there is no prompt or timeout to run it with.
			d.failJob(item.job, fmt.Errorf("schedule %q was removed from agent %s while the job was queued", item.job.Schedule, a.Name))
			continue
		}
		if err := d.startManual(ctx, a, s, item.job, item.prompt); err != nil {
			d.Log.Error("queued job could not start", zap.String("job", item.job.ID), zap.Error(err))
		}
	}
	d.mu.Lock()
	d.queue = append(keep, d.queue...)
	d.mu.Unlock()
}

// Cancel stops a running job (its runner records it cancelled) or drops
// a queued one.
func (d *Daemon) Cancel(ctx context.Context, id string) error {
	j, err := d.GetJob(ctx, id)
	if err != nil {
		return err
	}
	id = j.ID
	if api.Finished(j.Status) {
		return errorf(ErrInvalidArgs, "job %s already ended: %s", id, j.Status)
	}
	d.mu.Lock()
	for i, item := range d.queue {
		if item.job.ID == id {
			d.queue = append(d.queue[:i], d.queue[i+1:]...)
			d.mu.Unlock()
			end := d.now()
			item.job.Status, item.job.Finished, item.job.ExitReason = state.StatusCancelled, &end, "cancelled while queued"
			return d.records().Write(item.job)
		}
	}
	d.mu.Unlock()
	if j.Unit == "" {
		return errorf(ErrRefused, "job %s has no unit to stop", id)
	}
	d.Log.Info("cancelling job", zap.String("job", id), zap.String("unit", j.Unit))
	if err := d.Systemd.Stop(ctx, j.Unit); err != nil {
		return fmt.Errorf("stopping %s: %w", j.Unit, err)
	}
	return nil
}

// maxPrefixMatches bounds the ids an ambiguous prefix error lists.
const maxPrefixMatches = 8

// findJob finds a job's id by the id or a unique prefix of it, as git
// and docker do; an ambiguous prefix is an error listing the matches.
func (d *Daemon) findJob(id string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.index.get(id) != nil {
		return id, nil
	}
	var matches []string
	if id != "" {
		matches = d.index.withPrefix(id)
	}
	switch len(matches) {
	case 0:
		return "", errorf(ErrNotFound, "no job %q: list jobs with herdctlctl jobs", id)
	case 1:
		return matches[0], nil
	}
	sort.Sort(sort.Reverse(sort.StringSlice(matches)))
	more := ""
	if len(matches) > maxPrefixMatches {
		more = fmt.Sprintf(" and %d more", len(matches)-maxPrefixMatches)
		matches = matches[:maxPrefixMatches]
	}
	return "", errorf(ErrInvalidArgs, "job id prefix %q is ambiguous: it matches %s%s; give more of the id", id, strings.Join(matches, ", "), more)
}

// jobRecord is the whole record of the job findJob finds: an unfinished
// job's from the index, a finished one's from disk.
func (d *Daemon) jobRecord(id string) (*api.Job, error) {
	id, err := d.findJob(id)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	rec := d.index.open[id]
	d.mu.Unlock()
	if rec != nil {
		return rec, nil
	}
	if rec, err = d.records().Read(id); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errorf(ErrNotFound, "no job %q: list jobs with herdctlctl jobs", id)
		}
		return nil, fmt.Errorf("reading job %s: %w", id, err)
	}
	return rec, nil
}

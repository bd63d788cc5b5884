package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herdctl/herdctl/chat"
	"github.com/herdctl/herdctl/containerd"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/policy/claudecli"
	"github.com/herdctl/herdctl/policy/spec"
	"github.com/herdctl/herdctl/service/runner/proxy"
	"github.com/herdctl/herdctl/state"
)

// TaskRunner runs one container task to its end; *containerd.Client is
// the real one.
type TaskRunner interface {
	Run(ctx context.Context, t containerd.Task) (containerd.Exit, error)
}

// Job says which job the runner runs.
type Job struct {
	Agent      string
	Schedule   string // "" for a manual job without a schedule
	ID         string // "" makes a new one; a manual job's prompt file is found by it
	Trigger    string // state.TriggerSchedule or state.TriggerManual
	Unit       string // the systemd unit running this job, if any
	Invocation string // systemd's INVOCATION_ID of that unit run
	// Resume is a session of the agent to continue (a manual --resume,
	// checked by the daemon); "" continues the latest one only when the
	// schedule has resume_session.
	Resume string
	// Inbox names the chat attachments herdctl-chat staged for a manual
	// job, copied into the workspace's inbox/ before it starts.
	Inbox string
}

// Runner runs jobs.
type Runner struct {
	Layout state.Layout
	Tasks  TaskRunner
	Sink   Sink
	Now    func() time.Time
	// StopGrace is the time between SIGTERM and SIGKILL when a job stops.
	StopGrace time.Duration
	// JournalBudget, when not 0, replaces the agent's log_budget (tests).
	JournalBudget int64
	// DiskInterval is how often the disk limit is checked while a job
	// runs (DefaultDiskInterval if 0).
	DiskInterval time.Duration
	// Resolver resolves names for the egress proxy (the host's resolver
	// if nil; tests give their own).
	Resolver proxy.Resolver
}

// DefaultDiskInterval is how often a running job's disk use is measured.
const DefaultDiskInterval = 10 * time.Second

func (r *Runner) diskInterval() time.Duration {
	if r.DiskInterval > 0 {
		return r.DiskInterval
	}
	return DefaultDiskInterval
}

// Run runs one job of agent a to its end and records it. Cancelling ctx
// (SIGTERM from systemd: a stop or the unit's runtime limit) stops the
// task; the job is then recorded cancelled or timed_out. The returned
// record is always written, also when err is not nil.
func (r *Runner) Run(ctx context.Context, a *policy.Agent, j Job) (*state.Job, error) {
	now := r.now()
	if j.ID == "" {
		j.ID = state.NewJobID(now)
	}
	if j.Trigger == "" {
		j.Trigger = state.TriggerSchedule
	}
	rec := &state.Job{ID: j.ID, Agent: a.Name, Schedule: j.Schedule, Trigger: j.Trigger, Unit: j.Unit, Invocation: j.Invocation, Started: now, Status: state.StatusRunning}
	records := state.Records{Layout: r.Layout}
	fields := map[string]string{state.FieldAgent: a.Name, state.FieldSchedule: j.Schedule, state.FieldJob: j.ID}

	sched, prompt, err := r.jobPrompt(a, j)
	rec.Prompt = prompt
	if err == nil {
		err = records.Write(rec)
	}
	if err == nil {
		a, err = r.openSecrets(a)
	}
	if err != nil {
		return r.finish(rec, records, fields, nil, err)
	}
	r.Sink.Send(fmt.Sprintf("job %s of %s started (%s)", j.ID, a.Name, j.Trigger), PriInfo,
		with(fields, "MESSAGE_ID", state.MessageIDJobStarted, state.FieldEvent, "job_started", "HERDCTL_TRIGGER", j.Trigger))

	last := r.Layout.ReadLastSession(a.Name)
	resume := r.resumeSession(a, j, sched, last, fields)
	rec.Resume = resume
	cj := claudecli.Job{Prompt: prompt, Resume: resume}
	// Claude Code goes on counting from the session's total when it
	// continues the agent's last session: that part is not the job's.
	var prior float64
	if resume != "" && resume == last.ID {
		prior = last.TotalCostUSD
	}
	if len(a.Command) == 0 {
		left, reason := r.budgetLeft(a, now)
		if reason != "" {
			rec.Status, rec.ExitReason = state.StatusSkipped, reason
			return r.finish(rec, records, fields, nil, nil)
		}
		// Claude Code checks --max-budget-usd against what this run
		// spent, not the session's total (shown with the real CLI).
		cj.MaxBudgetUSD = left
	}
	out, err := r.runTask(ctx, a, j, cj, fields, rec)
	if out != nil {
		out.priorCost = prior
	}
	if err == nil && ctx.Err() != nil {
		rec.Status = state.StatusCancelled
		if sched.Timeout > 0 && r.now().Sub(now) >= sched.Timeout-time.Second {
			rec.Status = state.StatusTimedOut
		}
	}
	return r.finish(rec, records, fields, out, err)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// jobPrompt finds the schedule and the prompt of the job.
func (r *Runner) jobPrompt(a *policy.Agent, j Job) (policy.Schedule, string, error) {
	var s policy.Schedule
	if j.Schedule != "" {
		var ok bool
		if s, ok = a.Schedule(j.Schedule); !ok {
			return s, "", fmt.Errorf("agent %q has no schedule %q: check herdctlctl agent %s", a.Name, j.Schedule, a.Name)
		}
	}
	prompt := s.Prompt
	if prompt == "" {
		prompt = a.DefaultPrompt
	}
	if j.Trigger == state.TriggerManual && j.ID != "" {
		p, ok, err := r.Layout.TakePrompt(j.ID)
		if err != nil {
			return s, "", err
		}
		if ok {
			prompt = p
		}
	}
	if prompt == "" && len(a.Command) == 0 {
		return s, "", fmt.Errorf("no prompt: give one with --prompt or set default_prompt for agent %q", a.Name)
	}
	return s, prompt, nil
}

type taskOutcome struct {
	exit   containerd.Exit
	result *Result
	sessID string
	// limit is why herdctl stopped the task itself (a disk limit).
	limit error
	// apiErr is the last API error Claude Code reported.
	apiErr *apiError
	// priorCost is the resumed session's total before the job: Claude
	// Code's total_cost_usd starts from it.
	priorCost float64
	// budget stops the job when its agent's day's budget is crossed
	// (budget_action = "cancel"); nil otherwise.
	budget *budgetWatch
}

func (r *Runner) runTask(ctx context.Context, a *policy.Agent, j Job, cj claudecli.Job, fields map[string]string, rec *state.Job) (*taskOutcome, error) {
	sc, err := newScratch(r.Layout.JobScratch(j.ID))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := sc.remove(); err != nil {
			r.Sink.Send("cleaning up: "+err.Error(), PriWarning, with(fields, state.FieldEvent, "cleanup"))
		}
	}()
	scratch := sc.dir
	js := spec.Job{ID: j.ID, Home: r.Layout.AgentHome(a.Name)}
	if js.Workspace, js.Volumes, err = bindHostPaths(sc, a); err != nil {
		return nil, err
	}
	if len(a.Command) > 0 {
		js.Args = a.Command
		js.Env = []string{claudecli.EnvPrompt + "=" + cj.Prompt}
	} else {
		if a.Claude.Path == "" {
			return nil, errors.New("claude not found on this host: install Claude Code, or set claude_path in the fleet file")
		}
		js.Args = claudecli.Args(a, cj)
	}
	if err := r.Layout.ClaimIdentity(a.Name, a.File); err != nil {
		return nil, err
	}
	if err := prepareHome(js.Home, a); err != nil {
		return nil, err
	}
	image := ""
	if a.Container.Image == policy.HostImage {
		root, err := spec.PrepareHostRoot(scratch, a)
		if err != nil {
			return nil, fmt.Errorf("preparing the host image root: %w", err)
		}
		js.Root = root
	} else {
		image = a.Container.Image
	}
	// An egress agent's credential stays with the runner: its container
	// gets the relay's address and a placeholder.
	seen, relay := a, (*relayConfig)(nil)
	if policy.UsesRelay(a) {
		if seen, relay, err = relayFor(a); err != nil {
			return nil, err
		}
	}
	s, err := spec.Build(ctx, seen, js)
	if err != nil {
		return nil, fmt.Errorf("building the container spec: %w", err)
	}

	// Disk: what the workspace (when writable) and the home hold, before
	// the job and while it runs.
	diskDirs := []string{js.Home}
	if a.WorkspaceMode != "ro" {
		diskDirs = append(diskDirs, js.Workspace)
	}
	if j.Inbox != "" {
		if err := copyInbox(chat.StagePath(j.Inbox), js.Workspace, a, diskDirs); err != nil {
			return nil, fmt.Errorf("the chat attachments: %w", err)
		}
	}
	if err := checkDisk(diskDirs, a.Container.DiskBytes, a.Container.Inodes); err != nil {
		return nil, err
	}
	out := &taskOutcome{}
	taskCtx, stopTask := context.WithCancelCause(ctx)
	defer stopTask(nil)
	// A limit stops the task with its reason as the cause: the first
	// one wins, and becomes the job's reason below.
	go watchDisk(taskCtx, diskDirs, a.Container.DiskBytes, a.Container.Inodes, r.diskInterval(), stopTask)
	out.budget = r.newBudgetWatch(a, stopTask)
	log := r.newJobLog(a, fields)
	defer log.close(rec)
	stdoutW, stderrW, drained := log.output(out)
	var egressProxy *egressProxy
	var apiRelay *apiRelay
	defer func() {
		if egressProxy != nil {
			egressProxy.stop()
			egressProxy.record(rec)
		}
		if apiRelay != nil {
			apiRelay.stop()
			apiRelay.record(rec)
		}
	}()
	out.exit, err = r.Tasks.Run(taskCtx, containerd.Task{
		ID:        "herdctl-" + j.ID,
		Spec:      s,
		Image:     image,
		Labels:    with(map[string]string{containerd.LabelJob: j.ID, containerd.LabelAgent: a.Name}, containerd.LabelUnit, j.Unit),
		Stdout:    stdoutW,
		Stderr:    stderrW,
		StopGrace: r.StopGrace,
		FIFODir:   scratch,
		BeforeStart: func(pid uint32) error {
			if a.Container.Network != policy.NetworkEgress {
				return nil
			}
			var err error
			if egressProxy, err = r.startEgress(taskCtx, a, pid, log); err != nil || relay == nil {
				return err
			}
			apiRelay, err = r.startRelay(taskCtx, relay, pid, log, out.budget.metered, r.relayBudget(a), stopTask)
			return err
		},
		Progress: func(msg string) {
			r.Sink.Send(msg, PriInfo, with(fields, state.FieldEvent, "image"))
		},
	})
	stdoutW.Close()
	stderrW.Close()
	drained()
	if cause := context.Cause(taskCtx); ctx.Err() == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		out.limit = cause
	}
	return out, err
}

// prepareHome makes the agent's persistent home, owned by its user, so
// ~/.claude sessions survive from one job to the next. Its parent is
// root's, so the agent cannot swap the home itself; it is changed with
// no-follow calls all the same.
func prepareHome(home string, a *policy.Agent) error {
	if err := os.MkdirAll(filepath.Dir(home), 0o755); err != nil {
		return fmt.Errorf("agent home %s: %w", home, err)
	}
	if err := os.Mkdir(home, 0o700); err != nil && !os.IsExist(err) {
		return fmt.Errorf("agent home %s: %w", home, err)
	}
	fi, err := os.Lstat(home)
	if err != nil || !fi.IsDir() {
		return fmt.Errorf("agent home %s is not a directory: remove it", home)
	}
	if err := os.Lchown(home, int(a.Container.UID), int(a.Container.GID)); err != nil {
		return fmt.Errorf("agent home %s: %w", home, err)
	}
	return nil
}

func (r *Runner) finish(rec *state.Job, records state.Records, fields map[string]string, out *taskOutcome, runErr error) (*state.Job, error) {
	end := r.now()
	rec.Finished = &end
	rec.DurationMS = end.Sub(rec.Started).Milliseconds()
	if out != nil {
		out.fill(rec)
	}
	switch {
	case runErr != nil:
		rec.Status, rec.Error = state.StatusFailed, runErr.Error()
		rec.ExitReason = "the job could not run: " + firstLine(runErr.Error())
	case rec.Status == state.StatusSkipped:
	case rec.Status == state.StatusCancelled:
		rec.ExitReason = "stopped (herdctlctl cancel or systemctl stop)"
	case rec.Status == state.StatusTimedOut:
		rec.ExitReason = "timed out: the job's timeout was reached; raise the schedule's timeout if the agent needs longer"
	default:
		rec.Status, rec.ExitReason = outcomeReason(out)
	}
	if out != nil && out.result != nil {
		rec.Result = capText(out.result.Result, MaxResult)
	}
	// The day's budget counts the larger of what Claude Code reported
	// and what the API reported through the relay.
	if spent := rec.Spent(); spent > 0 {
		if err := r.costPool(rec.Agent).Add(end, spent); err != nil {
			r.Sink.Send("counting the job's cost for the day's budget: "+err.Error(), PriWarning, with(fields, state.FieldEvent, "budget"))
		}
	}
	if rec.SessionID != "" {
		r.Layout.WriteLastSession(rec.Agent, state.LastSession{ID: rec.SessionID, TotalCostUSD: rec.SessionCostUSD})
	}
	werr := records.Write(rec)
	r.logJobEnd(rec, fields)
	if runErr != nil {
		return rec, runErr
	}
	if werr != nil {
		return rec, fmt.Errorf("writing the job record: %w", werr)
	}
	return rec, nil
}

// fill puts what the task said into the job's record: its exit, session,
// turns, cost and tokens.
func (out *taskOutcome) fill(rec *state.Job) {
	code := int(out.exit.Code)
	rec.ExitCode = &code
	rec.SessionID = out.sessID
	if res := out.result; res != nil {
		rec.Turns, rec.SessionCostUSD = res.NumTurns, res.TotalCostUSD
		rec.CostUSD = jobCost(res.TotalCostUSD, out.priorCost)
		rec.InputTokens = res.Usage.InputTokens + res.Usage.CacheCreationInputTokens + res.Usage.CacheReadInputTokens
		rec.OutputTokens = res.Usage.OutputTokens
	}
}

// MaxResult bounds the result text kept in a job's record.
const MaxResult = 16 << 10

// capText cuts s to at most n bytes, on a rune boundary, and says so.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "\n[… cut at " + strconv.Itoa(n) + " bytes]"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// resumeSession is the session the job continues, or "": the one the
// daemon checked for a manual --resume, else the agent's latest when the
// schedule has resume_session. A session whose transcript is gone from
// the agent's home (pruned, removed) is not resumed: the job starts a
// fresh one and says why.
func (r *Runner) resumeSession(a *policy.Agent, j Job, sched policy.Schedule, last state.LastSession, fields map[string]string) string {
	id := j.Resume
	if id == "" && sched.ResumeSession {
		id = last.ID
	}
	if id == "" || len(a.Command) > 0 {
		return ""
	}
	if !state.SessionFileExists(r.Layout.AgentHome(a.Name), id) {
		r.Sink.Send(fmt.Sprintf("session %s is not in the agent's home any more (~/.claude/projects): starting a fresh session", id), PriWarning,
			with(fields, state.FieldEvent, "session_gone", state.FieldSession, id))
		return ""
	}
	return id
}

// jobCost is what a job spent, from Claude Code's total for the session
// at its end and the session's total before it (0 for a fresh session):
// never negative, and the whole total when the session's count started
// over.
func jobCost(total, prior float64) float64 {
	if prior > 0 && total >= prior {
		return total - prior
	}
	return max(total, 0)
}

// with returns a copy of fields with more key/value pairs.
func with(fields map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(fields)+len(kv)/2)
	for k, v := range fields {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// logJobEnd writes the job's end entry (MessageIDJobFinished), with more
// fields if given.
func (r *Runner) logJobEnd(rec *state.Job, fields map[string]string, more ...string) {
	msg := fmt.Sprintf("job %s of %s %s: %s", rec.ID, rec.Agent, rec.Status, rec.ExitReason)
	if rec.Error != "" {
		msg += ": " + rec.Error
	}
	pri := PriInfo
	if rec.Status != state.StatusCompleted {
		pri = PriErr
	}
	r.Sink.Send(msg, pri, with(fields, append([]string{"MESSAGE_ID", state.MessageIDJobFinished, state.FieldEvent, "job_finished",
		"HERDCTL_STATUS", rec.Status, state.FieldSession, rec.SessionID, "HERDCTL_DURATION_MS", strconv.FormatInt(rec.DurationMS, 10)}, more...)...))
}

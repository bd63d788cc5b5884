package runner

import (
	"fmt"
	"io"

	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

// jobLog is where everything a job says goes: journal entries paid from
// its log budget. An agent must not be able to flood the host's journal
// and rotate other services' logs away: every entry (its output, its
// egress attempts) is paid from the job's log budget, within its agent's
// and the fleet's for the day (logBudget); past it, events are still
// parsed (session, result) but not logged, and one entry says how much
// was dropped. Entries are sent by one goroutine, in order.
type jobLog struct {
	r            *Runner
	a            *policy.Agent
	fields       map[string]string
	budget       *logBudget
	jobBudget    int64
	entries      chan func()
	done         chan struct{}
	dropped      int64
	droppedLines int64
}

func (r *Runner) newJobLog(a *policy.Agent, fields map[string]string) *jobLog {
	jobBudget := a.LogBudget
	if r.JournalBudget > 0 {
		jobBudget = r.JournalBudget
	}
	return r.startJobLog(a, fields, jobBudget, []state.LogPool{
		{Path: r.Layout.AgentLogDay(a.Name), Limit: a.LogBudgetDaily},
		{Path: r.Layout.FleetLogDay(), Limit: a.FleetLogBudgetDaily},
	})
}

// startJobLog starts the log of a job whose own budget is jobBudget,
// within pools (none: the job's budget alone).
func (r *Runner) startJobLog(a *policy.Agent, fields map[string]string, jobBudget int64, pools []state.LogPool) *jobLog {
	l := &jobLog{r: r, a: a, fields: fields, jobBudget: jobBudget,
		budget:  newLogBudget(jobBudget, pools, r.now),
		entries: make(chan func(), 64), done: make(chan struct{})}
	go func() {
		for f := range l.entries {
			f()
		}
		close(l.done)
	}()
	return l
}

// entry queues one journal entry; size is what it stands for of the
// agent's output, for the count of what was dropped.
func (l *jobLog) entry(msg string, pri int, f map[string]string, size int) {
	l.entries <- func() {
		if !l.budget.take(entryCost(msg, f)) {
			l.dropped += int64(size)
			l.droppedLines++
			return
		}
		l.r.Sink.Send(msg, pri, f)
	}
}

// close sends what is queued, gives back the unused budget and says what
// was dropped; the record gets the count.
func (l *jobLog) close(rec *state.Job) {
	close(l.entries)
	<-l.done
	l.budget.close()
	if l.dropped > 0 {
		rec.OutputDropped = l.dropped
		// This one is always logged: it says the rest is missing.
		l.r.Sink.Send(fmt.Sprintf("log budget reached: %d entries (%d bytes of output) of this job were not logged; the job's budget is %d bytes (log_budget), its agent's %d a day (log_budget_daily)",
			l.droppedLines, l.dropped, l.jobBudget, l.a.LogBudgetDaily), PriWarning, with(l.fields, state.FieldEvent, "output_dropped"))
	}
}

// output returns the writers to hand the task: each line of stdout a
// stream-json event (its summary as MESSAGE, the raw line as a field),
// each line of stderr a warning; and a function that waits until both are
// drained (call it after closing them).
func (l *jobLog) output(out *taskOutcome) (stdout, stderr io.WriteCloser, wait func()) {
	stdoutR, stdoutW := io.Pipe()
	stderrR, stderrW := io.Pipe()
	readers := make(chan struct{}, 2)
	go func() {
		defer func() { readers <- struct{}{} }()
		ReadLines(stdoutR, MaxLine, func(line []byte, truncated bool) {
			ev := ParseEvent(line)
			// The job's session is the first one Claude Code names (its
			// init event, before any tool runs): a line a tool forges
			// later cannot change it, nor can one that is not a session
			// id. A command agent has no session.
			if out.sessID == "" && len(l.a.Command) == 0 && state.IsSessionID(ev.SessionID) {
				out.sessID = ev.SessionID
			}
			if ev.Result != nil {
				out.result = ev.Result
			}
			if ev.APIError != nil {
				out.apiErr = ev.APIError
			}
			if ev.Message != nil {
				out.budget.message(ev.Message)
			}
			f := with(l.fields, state.FieldEvent, ev.Type, state.FieldEventJSON, string(ev.Raw))
			if out.sessID != "" {
				f[state.FieldSession] = out.sessID
			}
			if ev.Tool != "" {
				f[state.FieldTool] = ev.Tool
			}
			if truncated {
				f["HERDCTL_TRUNCATED"] = "1"
			}
			l.entry(ev.Summary, PriInfo, f, len(line))
		})
		io.Copy(io.Discard, stdoutR)
	}()
	go func() {
		defer func() { readers <- struct{}{} }()
		ReadLines(stderrR, 64*1024, func(line []byte, _ bool) {
			l.entry("stderr: "+string(line), PriWarning, with(l.fields, state.FieldEvent, "stderr"), len(line))
		})
		io.Copy(io.Discard, stderrR)
	}()
	return stdoutW, stderrW, func() {
		<-readers
		<-readers
	}
}

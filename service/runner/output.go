package runner

import (
	"fmt"
	"io"

	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

// logOutput turns the task's output into journal entries: each line of
// stdout is a stream-json event (its summary as MESSAGE, the raw line as
// a field), each line of stderr a warning. An agent must not be able to
// flood the host's journal and rotate other services' logs away: every
// entry is paid from the job's log budget, within its agent's and the
// fleet's for the day (logBudget); past it, events are still parsed
// (session, result) but not logged, and one entry says how much was
// dropped. It returns the writers to hand the task and a function that
// waits until both are drained (call it after closing them).
func (r *Runner) logOutput(a *policy.Agent, fields map[string]string, rec *state.Job, out *taskOutcome) (stdout, stderr io.WriteCloser, wait func()) {
	jobBudget := a.LogBudget
	if r.JournalBudget > 0 {
		jobBudget = r.JournalBudget
	}
	budget := newLogBudget(jobBudget, []state.LogPool{
		{Path: r.Layout.AgentLogDay(a.Name), Limit: a.LogBudgetDaily},
		{Path: r.Layout.FleetLogDay(), Limit: a.FleetLogBudgetDaily},
	}, r.now)
	var dropped, droppedLines int64
	send := func(msg string, pri int, f map[string]string, size int) {
		if !budget.take(entryCost(msg, f)) {
			dropped += int64(size)
			droppedLines++
			return
		}
		r.Sink.Send(msg, pri, f)
	}

	stdoutR, stdoutW := io.Pipe()
	stderrR, stderrW := io.Pipe()
	lines := make(chan func(), 64) // one sender, so drops are counted in order
	done := make(chan struct{})
	go func() {
		for f := range lines {
			f()
		}
		budget.close()
		if dropped > 0 {
			rec.OutputDropped = dropped
			// This one is always logged: it says the rest is missing.
			r.Sink.Send(fmt.Sprintf("log budget reached: %d lines (%d bytes) of this job's output were not logged; the job's budget is %d bytes (log_budget), its agent's %d a day (log_budget_daily)",
				droppedLines, dropped, jobBudget, a.LogBudgetDaily), PriWarning, with(fields, state.FieldEvent, "output_dropped"))
		}
		close(done)
	}()
	readers := make(chan struct{}, 2)
	go func() {
		defer func() { readers <- struct{}{} }()
		ReadLines(stdoutR, MaxLine, func(line []byte, truncated bool) {
			ev := ParseEvent(line)
			if ev.SessionID != "" {
				out.sessID = ev.SessionID
			}
			if ev.Result != nil {
				out.result = ev.Result
			}
			f := with(fields, state.FieldEvent, ev.Type, state.FieldEventJSON, string(ev.Raw))
			if out.sessID != "" {
				f[state.FieldSession] = out.sessID
			}
			if ev.Tool != "" {
				f[state.FieldTool] = ev.Tool
			}
			if truncated {
				f["HERDCTL_TRUNCATED"] = "1"
			}
			n := len(line)
			lines <- func() { send(ev.Summary, PriInfo, f, n) }
		})
		io.Copy(io.Discard, stdoutR)
	}()
	go func() {
		defer func() { readers <- struct{}{} }()
		ReadLines(stderrR, 64*1024, func(line []byte, _ bool) {
			msg, n := "stderr: "+string(line), len(line)
			lines <- func() { send(msg, PriWarning, with(fields, state.FieldEvent, "stderr"), n) }
		})
		io.Copy(io.Discard, stderrR)
	}()
	return stdoutW, stderrW, func() {
		<-readers
		<-readers
		close(lines)
		<-done
	}
}

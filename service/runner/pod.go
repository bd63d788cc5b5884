package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/herdctl/herdctl/containerd"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/policy/claudecli"
	"github.com/herdctl/herdctl/state"
)

// PodJob is one job run in place, as the process of a Kubernetes pod (the
// export's CronJobs, package kube): the pod is the job's container, so
// the runner starts the process itself, with the pod's environment, and
// writes the entries it would put into the journal on one host to its
// Sink (JSON lines on the pod's log), the job's outcome last.
type PodJob struct {
	Agent, Schedule string
	ID              string // the Kubernetes Job's name
	// Args is the process: claudecli.Args (a Claude agent) or the fleet's
	// command (Command).
	Args    []string
	Command bool
	// Home is the agent's home. With Resume, the job continues the
	// agent's last session, which the runner keeps there (a claim that
	// outlives the pod), and keeps the job's session for the next.
	Home   string
	Resume bool
	// LogBudget bounds what the job logs (policy's log_budget).
	LogBudget int64
}

// LastSessionFile is where a pod's runner keeps the agent's last session,
// under its home.
func LastSessionFile(home string) string { return filepath.Join(home, ".herdctl", "last-session") }

// podStopGrace is the time between SIGTERM and SIGKILL of a pod job's
// process when the pod stops (its deadline, or kubectl delete).
const podStopGrace = 10 * time.Second

// RunPod runs j to its end. Cancelling ctx (the pod's SIGTERM) stops the
// process; the job is then cancelled. The returned record says how it
// ended, as a job's record on one host does.
func (r *Runner) RunPod(ctx context.Context, j PodJob) *state.Job {
	now := r.now()
	rec := &state.Job{ID: j.ID, Agent: j.Agent, Schedule: j.Schedule, Trigger: state.TriggerSchedule, Started: now, Status: state.StatusRunning}
	fields := map[string]string{state.FieldAgent: j.Agent, state.FieldSchedule: j.Schedule, state.FieldJob: j.ID}
	r.Sink.Send(fmt.Sprintf("job %s of %s started (%s)", j.ID, j.Agent, rec.Trigger), PriInfo,
		with(fields, "MESSAGE_ID", state.MessageIDJobStarted, state.FieldEvent, "job_started", "HERDCTL_TRIGGER", rec.Trigger))
	args := j.Args
	if j.Resume && !j.Command {
		if b, err := state.ReadFileCapped(LastSessionFile(j.Home), 128); err == nil {
			rec.Resume = strings.TrimSpace(string(b))
			args = claudecli.WithResume(args, rec.Resume)
		}
	}
	a := &policy.Agent{Name: j.Agent}
	if j.Command {
		a.Command = args
	}
	out := &taskOutcome{}
	log := r.startJobLog(a, fields, j.LogBudget, nil)
	stdoutW, stderrW, drained := log.output(out)
	var runErr error
	if len(args) == 0 {
		runErr = errors.New("no command to run: the pod's command ends with -- and the job's process")
	} else {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = stdoutW, stderrW
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = podStopGrace
		runErr = cmd.Run()
		var exit *exec.ExitError
		switch {
		case errors.As(runErr, &exit):
			code := exit.ExitCode()
			if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
			out.exit = containerd.Exit{Code: uint32(code)}
			runErr = nil
		case runErr == nil:
			out.exit = containerd.Exit{Code: 0}
		}
	}
	stdoutW.Close()
	stderrW.Close()
	drained()
	log.close(rec)
	end := r.now()
	rec.Finished = &end
	rec.DurationMS = end.Sub(rec.Started).Milliseconds()
	switch {
	case runErr != nil:
		rec.Status, rec.Error = state.StatusFailed, runErr.Error()
		rec.ExitReason = "the job could not run: " + firstLine(runErr.Error())
	case ctx.Err() != nil:
		out.fill(rec)
		rec.Status, rec.ExitReason = state.StatusCancelled, "stopped: the pod was stopped (its deadline, the job's timeout, or kubectl delete)"
	default:
		out.fill(rec)
		rec.Status, rec.ExitReason = outcomeReason(out)
	}
	if out.result != nil {
		rec.Result = capText(out.result.Result, MaxResult)
	}
	if j.Resume && rec.SessionID != "" {
		if err := keepSession(j.Home, rec.SessionID); err != nil {
			r.Sink.Send("keeping the session for the next job: "+err.Error(), PriWarning, with(fields, state.FieldEvent, "session"))
		}
	}
	r.logJobEnd(rec, fields, "HERDCTL_COST_USD", strconv.FormatFloat(rec.CostUSD, 'f', 6, 64), "HERDCTL_TURNS", strconv.Itoa(rec.Turns))
	return rec
}

// keepSession writes the job's session for the agent's next job; the home
// is the agent's own, as is everything in the pod.
func keepSession(home, id string) error {
	p := LastSessionFile(home)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return state.WriteFileAtomic(p, []byte(id+"\n"), 0o600)
}

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// triggerOptions are trigger's flags.
type triggerOptions struct {
	schedule, prompt          string
	resume                    resumeFlag
	queue, wait, follow, json bool
}

// resumeFlag is --resume, alone (the latest session) or --resume=SESSION.
type resumeFlag struct{ session string }

func (f *resumeFlag) String() string   { return f.session }
func (f *resumeFlag) IsBoolFlag() bool { return true }
func (f *resumeFlag) Set(v string) error {
	switch v {
	case "true":
		f.session = api.ResumeLatest
	case "false":
		f.session = ""
	default:
		f.session = v
	}
	return nil
}

func triggerFlags() (*flag.FlagSet, *triggerOptions) {
	fs := newFlagSet("trigger", "herdctlctl trigger [--schedule S] [--prompt P] [--resume[=SESSION]] [--queue] [--wait] [-f] [--json] AGENT",
		`Start a job of AGENT now, as a transient systemd unit with the same
limits as a scheduled job, and print its id (--json: the job as it
starts). The prompt is the schedule's (--schedule) or the agent's
default_prompt unless --prompt gives one; it is handed to the job through
a root-only file, never a command line.

--resume continues the agent's latest Claude Code session, --resume=SESSION
(or AGENT --resume SESSION) one of its sessions (herdctlctl sessions AGENT
lists them); a session of another agent is refused. A session whose files
are gone from the agent's home starts afresh, and the job's log says so.

When the agent already runs max_concurrent jobs the trigger is refused
(exit 1) unless --queue, which starts it when a slot frees.

--wait waits for the job to end (and its unit to stop, so that a trigger
right after it finds the slot free) and prints the agent's final answer on
standard output (--json: the finished job); -f also prints its events as
they come (implies --wait). Then the exit status is the job's: 0
completed, 1 failed, cancelled or timed out. Interrupting herdctlctl does
not stop the job: herdctlctl cancel ID does. Needs root or group herdctl.

Example:
  sudo herdctlctl trigger gardener
  sudo herdctlctl trigger --wait -f --prompt "Check the roses" gardener
  sudo herdctlctl trigger gardener --resume --prompt "And the tulips?"`)
	var o triggerOptions
	fs.StringVar(&o.schedule, "schedule", "", "use the prompt and timeout of schedule `S`")
	fs.StringVar(&o.prompt, "prompt", "", "the prompt `P` (default: the schedule's or the agent's)")
	fs.Var(&o.resume, "resume", "continue the agent's latest session, or with =`SESSION` that one")
	fs.BoolVar(&o.queue, "queue", false, "queue the job when the agent is busy instead of refusing")
	fs.BoolVar(&o.wait, "wait", false, "wait for the job to end; exit with its outcome")
	fs.BoolVar(&o.follow, "f", false, "print the job's events until it ends (implies --wait)")
	fs.BoolVar(&o.json, "json", false, "print the job as JSON: as it starts, or finished with --wait")
	return fs, &o
}

func runTrigger(c *ctl, args []string) error {
	fs, o := triggerFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	// AGENT --resume SESSION: the session is the word after the flag.
	if fs.NArg() == 2 && o.resume.session == api.ResumeLatest {
		o.resume.session = fs.Arg(1)
	} else if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "trigger takes one AGENT: herdctlctl agents lists them")
	}
	cl, err := dial()
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := callCtx()
	defer cancel()
	id, err := cl.Trigger(ctx, fs.Arg(0), o.schedule, o.prompt, api.TriggerOptions{Queue: o.queue, Resume: o.resume.session})
	if err != nil {
		return daemonError(err)
	}
	if !o.wait && !o.follow {
		if !o.json {
			_, err := fmt.Fprintln(c.stdout, safe(id))
			return err
		}
		j, err := cl.Job(ctx, id)
		if err != nil {
			return daemonError(err)
		}
		return writeJSON(c.stdout, j)
	}
	fmt.Fprintf(c.stderr, "job %s started; herdctlctl cancel %s stops it\n", safe(id), safe(id))
	ictx, stop := interruptible()
	defer stop()
	var j *api.Job
	if o.follow {
		j, err = c.followJob(ictx, cl, id)
	} else {
		j, err = waitJob(ictx, cl, id)
	}
	if err != nil {
		if ictx.Err() != nil {
			return cli.Exitf(cli.ExitJobFailed, "stopped waiting; job %s goes on (herdctlctl job %s)", safe(id), safe(id))
		}
		return daemonError(err)
	}
	if o.json {
		if err := writeJSON(c.stdout, j); err != nil {
			return err
		}
	}
	if j.Status != api.StatusCompleted {
		return cli.Exitf(cli.ExitJobFailed, "%s", jobOutcome(*j))
	}
	fmt.Fprintf(c.stderr, "job %s completed in %s\n", safe(j.ID), duration(*j, time.Now()))
	// The agent's answer, on stdout, for a script to keep (with -f it
	// was printed as the job's last event).
	if !o.json && !o.follow && j.Result != "" {
		fmt.Fprintln(c.stdout, safeText(j.Result))
	}
	return nil
}

// jobOutcome says how a job that did not complete ended, its reason
// cut to its first line (herdctlctl job ID has it whole).
func jobOutcome(j api.Job) string {
	s := fmt.Sprintf("job %s %s", safe(j.ID), safe(j.Status))
	if j.ExitReason != "" {
		s += ": " + cell(j.ExitReason, 0)
	}
	return s
}

// waitJob waits for the job to end: woken by the daemon's JobFinished
// signal, with a slow poll as a safety net. Then it waits, a little, for
// the job's unit to stop as well: a runner records the job's end before
// it has removed the container, and until the unit has stopped it counts
// against max_concurrent, so a trigger right after --wait was refused.
func waitJob(ctx context.Context, cl *api.Client, id string) (*api.Job, error) {
	finished, stop := cl.JobFinished(id)
	defer stop()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		j, err := getJob(cl, id)
		if err != nil {
			return nil, err
		}
		if api.Finished(j.Status) {
			return waitUnitStopped(ctx, cl, j), nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-finished:
		case <-tick.C:
		}
	}
}

// unitStopWait bounds waitUnitStopped: a job unit's stop timeout is 30 s,
// and a scheduled job's unit may already run the schedule's next job.
const (
	unitStopWait = 35 * time.Second
	unitStopPoll = 100 * time.Millisecond
)

// waitUnitStopped polls until the ended job j's unit has stopped, for at
// most unitStopWait, and returns the job as last read.
func waitUnitStopped(ctx context.Context, cl *api.Client, j *api.Job) *api.Job {
	deadline := time.Now().Add(unitStopWait)
	for state.UnitActive(j.UnitState) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return j
		case <-time.After(unitStopPoll):
		}
		next, err := getJob(cl, j.ID)
		if err != nil {
			return j
		}
		j = next
	}
	return j
}

// getJob is one GetJob call within the usual call timeout.
func getJob(cl *api.Client, id string) (*api.Job, error) {
	cctx, cancel := callCtx()
	defer cancel()
	return cl.Job(cctx, id)
}

// followJob prints the job's journal entries while waiting for it, then
// the ones journald had not handed out yet when it ended.
func (c *ctl) followJob(ctx context.Context, cl *api.Client, id string) (*api.Job, error) {
	fctx, stopFollow := context.WithCancel(ctx)
	jr := newJournalReader(cl, c.entryPrinter(false))
	q := api.JournalQuery{Job: id}
	done := make(chan error, 1)
	go func() { done <- jr.read(fctx, q, true) }()
	j, err := waitJob(ctx, cl, id)
	stopFollow()
	if ferr := <-done; ferr != nil && fctx.Err() == nil {
		// The job is waited for all the same; say why its events are not.
		fmt.Fprintf(c.stderr, "herdctlctl: %s\n", ferr)
	}
	if err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(5 * time.Second); !jr.sawEnd && time.Now().Before(deadline); {
		if jr.read(ctx, q, false) != nil {
			break
		}
		if !jr.sawEnd {
			time.Sleep(200 * time.Millisecond)
		}
	}
	return j, nil
}

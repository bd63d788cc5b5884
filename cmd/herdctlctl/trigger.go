package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func runTrigger(args []string) error {
	fs := cli.NewFlagSet("trigger", "herdctlctl trigger [--schedule S] [--prompt P] [--queue] [--wait] [-f] AGENT",
		`Start a job of AGENT now, as a transient systemd unit with the same
limits as a scheduled job, and print its id. The prompt is the schedule's
(--schedule) or the agent's default_prompt unless --prompt gives one; it is
handed to the job through a root-only file, never a command line.

When the agent already runs max_concurrent jobs the trigger is refused
(exit 1) unless --queue, which starts it when a slot frees.

--wait waits for the job to end; -f also prints its events as they come
(implies --wait). Then the exit status is the job's: 0 completed, 1
failed, cancelled or timed out. Interrupting herdctlctl does not stop the
job: herdctlctl cancel ID does. Needs root or group herdctl.`)
	schedule := fs.String("schedule", "", "use this schedule's prompt and timeout")
	prompt := fs.String("prompt", "", "the prompt (default: the schedule's or the agent's)")
	queue := fs.Bool("queue", false, "queue the job when the agent is busy instead of refusing")
	wait := fs.Bool("wait", false, "wait for the job to end; exit with its outcome")
	follow := fs.Bool("f", false, "print the job's events until it ends (implies --wait)")
	asJSON := fs.Bool("json", false, "with --wait, print the finished job as JSON")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "trigger takes one AGENT: herdctlctl agents lists them")
	}
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := callCtx()
	id, err := c.Trigger(ctx, fs.Arg(0), *schedule, *prompt, api.TriggerOptions{Queue: *queue})
	cancel()
	if err != nil {
		return daemonError(err)
	}
	if !*wait && !*follow {
		fmt.Println(id)
		return nil
	}
	fmt.Fprintf(os.Stderr, "job %s started; herdctlctl cancel %s stops it\n", id, id)
	ctx, stop := interruptible()
	defer stop()
	var j *api.Job
	if *follow {
		j, err = followJob(ctx, c, id)
	} else {
		j, err = waitJob(ctx, c, id)
	}
	if err != nil {
		if ctx.Err() != nil {
			return cli.Exitf(cli.ExitJobFailed, "stopped waiting; job %s goes on (herdctlctl job %s)", id, id)
		}
		return daemonError(err)
	}
	if *asJSON {
		cli.WriteJSON(os.Stdout, j)
	}
	if j.Status != api.StatusCompleted {
		return cli.Exitf(cli.ExitJobFailed, "job %s %s: %s", j.ID, j.Status, j.ExitReason)
	}
	fmt.Fprintf(os.Stderr, "job %s completed in %s\n", j.ID, duration(*j))
	return nil
}

// waitJob waits for the job to end: woken by the daemon's JobFinished
// signal, with a slow poll as a safety net.
func waitJob(ctx context.Context, c *api.Client, id string) (*api.Job, error) {
	finished, stop := c.JobFinished(id)
	defer stop()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		cctx, cancel := callCtx()
		j, err := c.Job(cctx, id)
		cancel()
		if err != nil {
			return nil, err
		}
		if api.Finished(j.Status) {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-finished:
		case <-tick.C:
		}
	}
}

// followJob prints the job's journal entries while waiting for it, then
// the ones journald had not handed out yet when it ended.
func followJob(ctx context.Context, c *api.Client, id string) (*api.Job, error) {
	fctx, stopFollow := context.WithCancel(ctx)
	print := printer(false)
	type result struct {
		cursor string
		end    bool
	}
	done := make(chan result, 1)
	go func() {
		cur, end, _ := journal(fctx, []string{"--no-pager", "-o", "json", "--lines=all", "-f", "HERDCTL_JOB=" + id}, print)
		done <- result{cur, end}
	}()
	j, err := waitJob(ctx, c, id)
	stopFollow()
	r := <-done
	if err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(5 * time.Second); !r.end && time.Now().Before(deadline); {
		args := []string{"--no-pager", "-o", "json", "HERDCTL_JOB=" + id}
		if r.cursor != "" {
			args = append(args, "--after-cursor="+r.cursor)
		}
		cur, end, err := journal(ctx, args, print)
		if err != nil {
			break
		}
		if cur != "" {
			r.cursor = cur
		}
		r.end = end
		if !r.end {
			time.Sleep(200 * time.Millisecond)
		}
	}
	return j, nil
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/herdctl/herdctl/chat"
	"github.com/herdctl/herdctl/containerd"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/internal/nsjournal"
	"github.com/herdctl/herdctl/service/runner"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

func runJob(args []string) error {
	fs := cli.NewFlagSet("run", "herdctl-runner run --agent NAME [--schedule NAME] [OPTIONS]",
		`Run one job of an agent in a containerd task and wait for it: what every
herdctl job unit executes. The agent's snapshot is read from
/run/herdctl/agents/NAME.json (the daemon writes it); a manual job's
prompt from /run/herdctl/prompts/ID. Each line Claude Code prints becomes a
journald entry; the outcome is recorded in /var/lib/herdctl/jobs/ID.json.
SIGTERM or SIGINT stops the task (SIGTERM, then SIGKILL after the grace
period) and records the job cancelled, or timed_out when the schedule's
timeout was reached.
Exit status: 0 when the job completed, 1 otherwise.

Example:
  herdctl-runner run --agent gardener --schedule weekly`)
	o := runner.Job{Trigger: state.TriggerSchedule}
	fs.StringVar(&o.Agent, "agent", "", "the agent to run (required)")
	fs.StringVar(&o.Schedule, "schedule", "", "the schedule whose prompt and timeout to use")
	fs.StringVar(&o.ID, "job", "", "the job id (default: a new one)")
	fs.StringVar(&o.Trigger, "trigger", state.TriggerSchedule, "what started the job: "+state.TriggerSchedule+" or "+state.TriggerManual)
	fs.StringVar(&o.Resume, "resume", "", "continue this Claude Code session of the agent (a session id)")
	fs.StringVar(&o.Inbox, "inbox", "", "copy the chat attachments herdctl-chat staged under this name into the workspace's inbox/")
	l := layoutFlags(fs)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if o.Agent == "" {
		return cli.Exitf(cli.ExitUsage, "run: --agent is required")
	}
	if o.Resume != "" && !state.IsSessionID(o.Resume) {
		return cli.Exitf(cli.ExitUsage, "run: --resume %q is not a session id Claude Code makes", o.Resume)
	}
	if o.Inbox != "" && !chat.IsStageName(o.Inbox) {
		return cli.Exitf(cli.ExitUsage, "run: --inbox %q is not a name herdctl-chat stages attachments under", o.Inbox)
	}
	if o.ID != "" && !state.IsJobID(o.ID) {
		return cli.Exitf(cli.ExitUsage, "run: --job %q is not a job id herdctl makes", o.ID)
	}
	o.Unit = os.Getenv("HERDCTL_UNIT")
	o.Invocation = os.Getenv("INVOCATION_ID")
	if o.Invocation != "" {
		// A job unit: what the runner prints goes where its entries go,
		// the jobs' journal namespace, not the main journal.
		if err := nsjournal.RedirectStdio(state.JournalNamespace, units.JobIdentifier); err != nil {
			fmt.Fprintf(os.Stderr, "herdctl-runner: stdout and stderr stay in the main journal: %v\n", err)
		}
	}
	a, err := l.ReadSnapshot(o.Agent)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	client, err := containerd.Connect(context.Background(), a.Containerd.Address, a.Containerd.Namespace)
	if err != nil {
		return err
	}
	defer client.Close()
	r := &runner.Runner{Layout: *l, Tasks: client, Sink: runner.NewSink(os.Stderr)}
	rec, err := r.Run(ctx, a, o)
	if err != nil {
		return err
	}
	if rec.Status != state.StatusCompleted {
		return cli.Exitf(cli.ExitJobFailed, "job %s %s: %s", rec.ID, rec.Status, rec.ExitReason)
	}
	fmt.Fprintf(os.Stderr, "job %s completed\n", rec.ID)
	return nil
}

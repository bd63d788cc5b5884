package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/herdctl/herdctl/containerd"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service"
)

func runJob(args []string) error {
	if len(args) == 0 || args[0] != "run" {
		return cli.Exitf(cli.ExitUsage, "usage: herdctl job run --agent NAME [--schedule NAME] (see herdctl job run --help)")
	}
	fs := cli.NewFlagSet("job run", "herdctl job run --agent NAME [--schedule NAME] [OPTIONS]",
		`Run one job of an agent in a containerd task and wait for it: what every
herdctl job unit executes. The agent's resolved configuration is read from
/run/herdctl/agents/NAME.json (written by the daemon). Each line Claude
Code prints becomes a journald entry; the outcome is recorded in
/var/lib/herdctl/jobs/ID.json. SIGTERM or SIGINT stops the task (SIGTERM,
then SIGKILL after the grace period) and records the job cancelled, or
timed_out when the schedule's timeout was reached.
Exit status: 0 when the job completed, 1 otherwise.`)
	o := service.Job{Trigger: "schedule"}
	fs.StringVar(&o.Agent, "agent", "", "the agent to run (required)")
	fs.StringVar(&o.Schedule, "schedule", "", "the schedule whose prompt and timeout to use")
	fs.StringVar(&o.ID, "job", "", "the job id (default: a new one)")
	fs.StringVar(&o.Trigger, "trigger", "schedule", "what started the job: schedule or manual")
	fs.StringVar(&o.PromptFile, "prompt-file", "", "read the prompt from this file and remove it")
	agentFile := fs.String("agent-file", "", "resolved agent file (default /run/herdctl/agents/NAME.json)")
	stateDir := fs.String("state-dir", policy.DefaultStateDir, "herdctl's state directory")
	runtimeDir := fs.String("runtime-dir", policy.DefaultRuntimeDir, "herdctl's runtime directory")
	address := fs.String("containerd", containerd.DefaultAddress, "containerd's socket")
	if err := cli.Parse(fs, args[1:]); err != nil {
		return err
	}
	if o.Agent == "" {
		return cli.Exitf(cli.ExitUsage, "job run: --agent is required")
	}
	o.Unit = os.Getenv("HERDCTL_UNIT")
	o.Invocation = os.Getenv("INVOCATION_ID")
	if *agentFile == "" {
		*agentFile = service.AgentFile(*runtimeDir, o.Agent)
	}
	a, err := service.LoadAgent(*agentFile)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	client, err := containerd.Connect(context.Background(), *address, containerd.DefaultNamespace)
	if err != nil {
		return err
	}
	defer client.Close()
	r := &service.Runner{StateDir: *stateDir, RuntimeDir: *runtimeDir, Tasks: client, Sink: service.NewSink(os.Stderr)}
	rec, err := r.Run(ctx, a, o)
	if err != nil {
		return err
	}
	if rec.Status != service.StatusCompleted {
		return cli.Exitf(cli.ExitJobFailed, "job %s %s: %s", rec.ID, rec.Status, rec.ExitReason)
	}
	fmt.Fprintf(os.Stderr, "job %s completed\n", rec.ID)
	return nil
}

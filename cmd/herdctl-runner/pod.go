package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/kube"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/runner"
	"github.com/herdctl/herdctl/state"
	"golang.org/x/sys/unix"
)

func runPod(args []string) error {
	fs := cli.NewFlagSet("pod", "herdctl-runner pod --agent NAME --schedule NAME [--resume-session] [--command] [--log-budget BYTES] -- PROCESS...",
		`Run one job in place, as the process of a Kubernetes pod: what the
CronJobs of "herdctlctl export kubernetes" execute. The pod is the job's
container, so PROCESS (Claude Code's command line, or the fleet's command
with --command) is started directly, with stdin from /dev/null. Each line
it prints becomes an entry, written as a JSON line on stdout (the pod's
log) with the fields journald gets on one host; the job's outcome is the
last. With --resume-session the job continues the agent's last session,
kept in $HOME/.herdctl/last-session. SIGTERM stops the process.
Exit status: 0 when the job completed, 1 otherwise.

Example:
  herdctl-runner pod --agent gardener --schedule weekly -- /opt/herdctl/bin/claude -p -- "Check the forecast"`)
	o := runner.PodJob{ID: os.Getenv("HERDCTL_JOB"), Home: os.Getenv("HOME")}
	fs.StringVar(&o.Agent, "agent", "", "the agent (required)")
	fs.StringVar(&o.Schedule, "schedule", "", "the schedule")
	fs.BoolVar(&o.Resume, "resume-session", false, "continue the agent's last session")
	fs.BoolVar(&o.Command, "command", false, "PROCESS is the fleet's command, not Claude Code")
	fs.Int64Var(&o.LogBudget, "log-budget", policy.DefaultLogBudget, "the bytes the job may log")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if o.Agent == "" || fs.NArg() == 0 {
		return cli.Exitf(cli.ExitUsage, "pod: --agent and the process after -- are required")
	}
	o.Args = fs.Args()
	// The pod's process runs as the runner's own uid (the pod's): were
	// the runner dumpable, it could ptrace it or open /proc/PID/mem and
	// write the job's log, cost and outcome. On one host the runner is
	// root. A process it starts is dumpable again after its exec.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("pod: making the runner undumpable: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	r := &runner.Runner{Sink: &runner.JSONSink{W: os.Stdout}}
	rec := r.RunPod(ctx, o)
	if rec.Status != state.StatusCompleted {
		return cli.Exitf(cli.ExitJobFailed, "job %s %s: %s", rec.ID, rec.Status, rec.ExitReason)
	}
	return nil
}

func runEgress(args []string) error {
	fs := cli.NewFlagSet("egress", "herdctl-runner egress [--config FILE]",
		`Serve the egress of a fleet exported to Kubernetes: what the
herdctl-egress Deployment of "herdctlctl export kubernetes" executes. For
each agent with network = "egress" in FILE (the Deployment's ConfigMap),
the egress proxy with the agent's allowlist (private ranges refused), and
the API relay that holds its credential, on the agent's own ports. The
credentials are read from the environment (the Secret made from the
fleet's env file). Every attempt is a JSON line on stdout.

Example:
  herdctl-runner egress --config /etc/herdctl/egress/egress.json`)
	file := fs.String("config", kube.EgressConfigFile, "the egress configuration")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	b, err := state.ReadFileCapped(*file, 4<<20)
	if err != nil {
		return err
	}
	var cfg kube.EgressConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("%s: %w: export the fleet again", *file, err)
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	r := &runner.Runner{Sink: &runner.JSONSink{W: os.Stdout}}
	return r.ServeEgress(ctx, cfg, env, func(port int32) (net.Listener, error) {
		return net.Listen("tcp", ":"+strconv.Itoa(int(port)))
	})
}

package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

func runJobs(args []string) error {
	fs := cli.NewFlagSet("jobs", "herdctlctl jobs [--agent NAME] [--status STATUS] [--limit N] [--json]",
		`List jobs, newest first, from the job records in /var/lib/herdctl/jobs
and systemd's view of their units. STATUS is one of queued, running,
completed, failed, cancelled, timed_out.`)
	var f api.JobFilter
	fs.StringVar(&f.Agent, "agent", "", "only this agent's jobs")
	fs.StringVar(&f.Status, "status", "", "only jobs in this status")
	fs.IntVar(&f.Limit, "limit", 20, "at most this many (0: all)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Exitf(cli.ExitUsage, "jobs takes no arguments; see herdctlctl jobs --help")
	}
	return withClient(func(ctx context.Context, c *api.Client) error {
		js, err := c.Jobs(ctx, f)
		if err != nil {
			return err
		}
		if js == nil {
			js = []api.Job{}
		}
		return output(*asJSON, js, func() { printJobs(js) })
	})
}

func printJobs(js []api.Job) {
	now := time.Now()
	w := table(os.Stdout)
	fmt.Fprintln(w, "JOB\tAGENT\tSCHEDULE\tTRIGGER\tSTATUS\tSTARTED\tDURATION\tTURNS\tCOST\tREASON")
	for _, j := range js {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t$%.2f\t%s\n", j.ID, j.Agent, orDash(j.Schedule), j.Trigger,
			status(j.Status), since(j.Started, now), duration(j), j.Turns, j.CostUSD, orDash(j.ExitReason))
	}
	w.Flush()
}

func runJob(args []string) error {
	fs := cli.NewFlagSet("job", "herdctlctl job [--json] ID",
		`Show one job: its record (prompt, times, status, exit reason, session,
turns, tokens, cost) and the state of its systemd unit. Its events:
herdctlctl logs ID, or journalctl HERDCTL_JOB=ID.`)
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "job takes one ID: herdctlctl jobs lists them")
	}
	return withClient(func(ctx context.Context, c *api.Client) error {
		j, err := c.Job(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		return output(*asJSON, j, func() { printJob(*j) })
	})
}

func printJob(j api.Job) {
	now := time.Now()
	w := table(os.Stdout)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%s:\t%s\n", k, v)
		}
	}
	row("Job", j.ID)
	row("Agent", j.Agent)
	row("Schedule", j.Schedule)
	row("Trigger", j.Trigger)
	row("Status", status(j.Status))
	row("Reason", j.ExitReason)
	row("Error", j.Error)
	row("Unit", fmt.Sprintf("%s (%s)", j.Unit, orDash(j.UnitState)))
	row("Started", fmt.Sprintf("%s (%s)", j.Started.Local().Format(time.DateTime), since(j.Started, now)))
	if j.Finished != nil {
		row("Finished", j.Finished.Local().Format(time.DateTime))
	}
	row("Duration", duration(j))
	if j.ExitCode != nil {
		row("Exit code", fmt.Sprint(*j.ExitCode))
	}
	row("Session", j.SessionID)
	row("Usage", fmt.Sprintf("%d turns, %d input tokens, %d output tokens, $%.4f", j.Turns, j.InputTokens, j.OutputTokens, j.CostUSD))
	row("Prompt", j.Prompt)
	row("Logs", "herdctlctl logs "+j.ID+"  (journalctl HERDCTL_JOB="+j.ID+")")
	w.Flush()
}

func runCancel(args []string) error {
	fs := cli.NewFlagSet("cancel", "herdctlctl cancel ID",
		`Cancel a job: a running job's unit is stopped (its task gets SIGTERM,
then SIGKILL after the grace period, and the job is recorded cancelled); a
queued job is dropped. Returns once the job has stopped. Needs root or
group herdctl.`)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "cancel takes one job ID: herdctlctl jobs --status running lists them")
	}
	return withClient(func(ctx context.Context, c *api.Client) error {
		if err := c.Cancel(ctx, fs.Arg(0)); err != nil {
			return err
		}
		j, err := c.Job(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Printf("job %s %s\n", j.ID, status(j.Status))
		return nil
	})
}

// reloadTimeout bounds a reload: thousands of agents take seconds.
const reloadTimeout = 10 * time.Minute

func runReload(args []string) error {
	fs := cli.NewFlagSet("reload", "herdctlctl reload [--quiet]",
		`Reread the fleet file and every agent file and wait until the new fleet
is live: exit 0 when it was applied, exit 2 with every error (file:line)
when it was refused, in which case the running fleet is unchanged.
systemctl reload herdctl runs it (ExecReload=), so both wait and both
fail alike. Needs root or group herdctl.

Example:
  sudo herdctlctl reload`)
	quiet := fs.Bool("quiet", false, "print nothing when the reload succeeds")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	return daemonError(func() error {
		if err := c.Reload(ctx); err != nil {
			return err
		}
		if *quiet {
			return nil
		}
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("fleet %q reloaded: %d agents, %d timers\n", st.FleetName, st.Agents, st.Timers)
		return nil
	}())
}

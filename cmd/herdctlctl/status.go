package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

// statusView is what status prints, and its --json.
type statusView struct {
	*api.Status
	AgentList []api.Agent `json:"agent_list"`
	Running   []api.Job   `json:"running"`
	Failures  []api.Job   `json:"recent_failures"`
}

func runStatus(args []string) error {
	fs := cli.NewFlagSet("status", "herdctlctl status [--json]",
		`Show the fleet at a glance, like systemctl status: the daemon's version,
uptime and last reload (with its errors when the last reload was refused),
every schedule with its next and last run, running jobs, and the last
failures. Anyone may run it; it reads through D-Bus.`)
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	return withClient(func(ctx context.Context, c *api.Client) error {
		var v statusView
		var err error
		if v.Status, err = c.Status(ctx); err != nil {
			return err
		}
		if v.AgentList, err = c.Agents(ctx); err != nil {
			return err
		}
		if v.Running, err = c.Jobs(ctx, api.JobFilter{Status: api.StatusRunning}); err != nil {
			return err
		}
		if v.Failures, err = c.Jobs(ctx, api.JobFilter{Status: api.StatusFailed, Limit: 5}); err != nil {
			return err
		}
		return output(*asJSON, v, func() { printStatus(v) })
	})
}

func printStatus(v statusView) {
	now := time.Now()
	dot := paint("32", "●")
	if v.ReloadError != "" {
		dot = paint("1;31", "●")
	}
	fmt.Printf("%s herdctl: fleet %q (%s)\n", dot, v.FleetName, v.ConfigFile)
	fmt.Printf("    Version: %s\n     Active: since %s (%s)\n", v.Version, v.Since.Format(time.DateTime), since(v.Since, now))
	reload := "ok"
	if v.ReloadError != "" {
		reload = paint("1;31", "refused, the fleet above is still the last good one")
	}
	fmt.Printf("Last reload: %s, %s\n", since(v.LastReload, now), reload)
	for _, e := range v.Errors {
		fmt.Printf("             %s\n", configError(e))
	}
	fmt.Printf("     Agents: %d   Timers: %d   Running jobs: %d\n\n", v.Status.Agents, v.Timers, v.RunningJobs)

	w := table(os.Stdout)
	fmt.Fprintln(w, "AGENT\tSCHEDULE\tWHEN\tNEXT\tLAST\tLAST JOB\tSTATUS")
	for _, a := range v.AgentList {
		if len(a.Schedules) == 0 {
			fmt.Fprintf(w, "%s\t-\t-\t-\t-\t%s\t%s\n", a.Name, orDash(a.LastJob), status(orDash(a.LastStatus)))
		}
		for i, s := range a.Schedules {
			next := since(s.NextRun, now)
			if !s.Enabled {
				next = "disabled"
			}
			job, st := "", ""
			if i == 0 {
				job, st = orDash(a.LastJob), status(orDash(a.LastStatus))
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, s.Name, schedDesc(s), next, since(s.LastRun, now), job, st)
		}
	}
	w.Flush()
	if len(v.Running) > 0 {
		fmt.Printf("\nRunning:\n")
		printJobs(v.Running)
	}
	if len(v.Failures) > 0 {
		fmt.Printf("\nRecent failures:\n")
		printJobs(v.Failures)
	}
}

func configError(e api.ConfigError) string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d:%d", e.Line, e.Column)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	if s != "" {
		s += ": "
	}
	return s + e.Message
}

func runAgents(args []string) error {
	fs := cli.NewFlagSet("agents", "herdctlctl agents [--json]",
		`List the fleet's agents: schedules, next run, running jobs and the
outcome of the last job.`)
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	return withClient(func(ctx context.Context, c *api.Client) error {
		as, err := c.Agents(ctx)
		if err != nil {
			return err
		}
		return output(*asJSON, as, func() {
			now := time.Now()
			w := table(os.Stdout)
			fmt.Fprintln(w, "NAME\tSCHEDULES\tNEXT RUN\tRUNNING\tLAST JOB\tSTATUS\tDESCRIPTION")
			for _, a := range as {
				var next time.Time
				for _, s := range a.Schedules {
					if s.Enabled && !s.NextRun.IsZero() && (next.IsZero() || s.NextRun.Before(next)) {
						next = s.NextRun
					}
				}
				fmt.Fprintf(w, "%s\t%d\t%s\t%d/%d\t%s\t%s\t%s\n", a.Name, len(a.Schedules), since(next, now),
					a.Running, a.MaxConcurrent, orDash(a.LastJob), status(orDash(a.LastStatus)), a.Description)
			}
			w.Flush()
		})
	})
}

func runAgent(args []string) error {
	fs := cli.NewFlagSet("agent", "herdctlctl agent [--json] NAME",
		`Show one agent: its file, workspace, container (image, network, user),
its schedules with their timers, and its last job.`)
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "agent takes one NAME: herdctlctl agents lists them")
	}
	return withClient(func(ctx context.Context, c *api.Client) error {
		a, err := c.Agent(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		return output(*asJSON, a, func() {
			now := time.Now()
			fmt.Printf("%s - %s\n", a.Name, a.Description)
			w := table(os.Stdout)
			fmt.Fprintf(w, "  File:\t%s\n  Workspace:\t%s (%s)\n  Container:\timage %s, network %s, user %s\n  Jobs:\t%d running, at most %d\n",
				a.File, a.Workspace, a.WorkspaceMode, a.Image, a.Network, a.User, a.Running, a.MaxConcurrent)
			if a.LastJob != "" {
				fmt.Fprintf(w, "  Last job:\t%s %s %s\n", a.LastJob, status(a.LastStatus), since(a.LastFinished, now))
			}
			w.Flush()
			fmt.Println()
			if len(a.Schedules) == 0 {
				fmt.Printf("  No schedules: manual jobs only (herdctlctl trigger %s).\n", a.Name)
				return
			}
			w = table(os.Stdout)
			fmt.Fprintln(w, "  SCHEDULE\tWHEN\tTIMEOUT\tTIMER\tSTATE\tNEXT\tLAST")
			for _, s := range a.Schedules {
				next := since(s.NextRun, now)
				if !s.Enabled {
					next = "disabled"
				}
				fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, schedDesc(s), human(s.Timeout), orDash(s.Timer),
					orDash(s.TimerUnit), next, since(s.LastRun, now))
			}
			w.Flush()
		})
	})
}

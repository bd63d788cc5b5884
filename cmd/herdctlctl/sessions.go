package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

// sessionsOptions are sessions's flags.
type sessionsOptions struct{ json bool }

func sessionsFlags() (*flag.FlagSet, *sessionsOptions) {
	fs := newFlagSet("sessions", "herdctlctl sessions [--json] AGENT",
		`List AGENT's Claude Code sessions, newest first, from its job records:
each with its first and last job, how many jobs ran in it, their turns,
tokens and cost. A schedule with resume_session = true continues the
latest session; herdctlctl trigger --resume=SESSION continues any of
them. Open to every user, like jobs.

Example:
  herdctlctl sessions gardener
  sudo herdctlctl trigger --resume=SESSION gardener`)
	var o sessionsOptions
	fs.BoolVar(&o.json, "json", false, "print as JSON")
	return fs, &o
}

func runSessions(c *ctl, args []string) error {
	fs, o := sessionsFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "sessions takes one AGENT; see herdctlctl sessions --help")
	}
	return withClient(func(ctx context.Context, cl *api.Client) error {
		ss, err := cl.Sessions(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		ss = nonNil(ss)
		return c.output(o.json, ss, func(w io.Writer) error { return printSessions(w, c.colour, time.Now(), ss) })
	})
}

// printSessions writes the sessions table.
func printSessions(w io.Writer, colour bool, now time.Time, ss []api.Session) error {
	if len(ss) == 0 {
		_, err := fmt.Fprintln(w, "no sessions yet: a session starts with the agent's first Claude Code job")
		return err
	}
	var t table
	t.add("SESSION", "FIRST JOB", "LAST JOB", "LAST RUN", "JOBS", "TURNS", "COST")
	for _, s := range ss {
		t.add(s.ID, s.FirstJob, s.LastJob, since(s.LastStarted, now), fmt.Sprint(s.Jobs), fmt.Sprint(s.Turns), cost(s.CostUSD))
	}
	return t.write(w, colour)
}

// costOptions are cost's flags.
type costOptions struct {
	since, agent string
	json         bool
}

func costFlags() (*flag.FlagSet, *costOptions) {
	fs := newFlagSet("cost", "herdctlctl cost [--since DURATION] [--agent NAME] [--json]",
		`Show what the fleet's jobs cost, per agent per day (the host's local
days, as max_cost_usd_per_day counts them), with tokens and job counts,
from the job records. Each job counts what it spent itself: a job that
continues a session does not count the session's earlier jobs again.
Open to every user, like jobs.

Example:
  herdctlctl cost
  herdctlctl cost --since 30d --agent gardener --json`)
	var o costOptions
	fs.StringVar(&o.since, "since", "7d", "jobs started in the last `DURATION` (e.g. 24h, 7d; 0: all)")
	fs.StringVar(&o.agent, "agent", "", "only the jobs of agent `NAME`")
	fs.BoolVar(&o.json, "json", false, "print as JSON")
	return fs, &o
}

func runCost(c *ctl, args []string) error {
	fs, o := costFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Exitf(cli.ExitUsage, "cost takes no arguments; see herdctlctl cost --help")
	}
	now := time.Now()
	f := api.CostFilter{Agent: o.agent}
	if o.since != "0" {
		d, err := config.ParseDuration(o.since)
		if err != nil {
			return cli.Exitf(cli.ExitUsage, "--since: %v", err)
		}
		// Whole days: --since 7d is today and the six days before.
		y, m, day := now.Add(-d).Date()
		f.Since = time.Date(y, m, day, 0, 0, 0, 0, now.Location())
		if d < 24*time.Hour {
			f.Since = now.Add(-d)
		}
	}
	return withClient(func(ctx context.Context, cl *api.Client) error {
		days, err := cl.Cost(ctx, f)
		if err != nil {
			return err
		}
		days = nonNil(days)
		return c.output(o.json, days, func(w io.Writer) error { return printCost(w, c.colour, days) })
	})
}

// printCost writes cost per agent per day, and the totals.
func printCost(w io.Writer, colour bool, days []api.CostDay) error {
	if len(days) == 0 {
		_, err := fmt.Fprintln(w, "no jobs in that time")
		return err
	}
	var t table
	t.add("DAY", "AGENT", "JOBS", "TURNS", "INPUT", "OUTPUT", "COST")
	var total api.CostDay
	for _, d := range days {
		t.add(d.Day, d.Agent, fmt.Sprint(d.Jobs), fmt.Sprint(d.Turns), fmt.Sprint(d.InputTokens), fmt.Sprint(d.OutputTokens), cost(d.CostUSD))
		total.Jobs += d.Jobs
		total.Turns += d.Turns
		total.InputTokens += d.InputTokens
		total.OutputTokens += d.OutputTokens
		total.CostUSD += d.CostUSD
	}
	t.addCols(col{text: "total", colour: bold}, col{text: ""}, col{text: fmt.Sprint(total.Jobs)}, col{text: fmt.Sprint(total.Turns)},
		col{text: fmt.Sprint(total.InputTokens)}, col{text: fmt.Sprint(total.OutputTokens)}, col{text: cost(total.CostUSD), colour: bold})
	return t.write(w, colour)
}

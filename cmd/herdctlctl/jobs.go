package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

// jobsOptions are jobs's flags.
type jobsOptions struct {
	filter api.JobFilter
	json   bool
}

func jobsFlags() (*flag.FlagSet, *jobsOptions) {
	fs := newFlagSet("jobs", "herdctlctl jobs [--agent NAME] [--status STATUS] [--session ID] [--limit N] [--offset N] [--json]",
		`List jobs, newest first, from the job records in /var/lib/herdctl/jobs
and systemd's view of their units. STATUS is one of queued, running,
completed, failed, cancelled, timed_out, skipped. A reason of several lines shows
its first line and …; herdctlctl job ID shows it whole. --session keeps
the jobs of one Claude Code session (herdctlctl sessions NAME lists them):
a conversation, turn by turn. --limit and --offset page through the list.

Example:
  herdctlctl jobs --agent gardener --status failed
  herdctlctl jobs --limit 20 --offset 20
  herdctlctl jobs --limit 0 --json`)
	var o jobsOptions
	fs.StringVar(&o.filter.Agent, "agent", "", "only the jobs of agent `NAME`")
	fs.StringVar(&o.filter.Status, "status", "", "only jobs in `STATUS`")
	fs.StringVar(&o.filter.Session, "session", "", "only the jobs of session `ID`")
	fs.IntVar(&o.filter.Limit, "limit", 20, "at most `N` jobs (0: all)")
	fs.IntVar(&o.filter.Offset, "offset", 0, "skip the newest `N` matching jobs")
	fs.BoolVar(&o.json, "json", false, "print as JSON")
	return fs, &o
}

func runJobs(c *ctl, args []string) error {
	fs, o := jobsFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Exitf(cli.ExitUsage, "jobs takes no arguments; see herdctlctl jobs --help")
	}
	return withClient(func(ctx context.Context, cl *api.Client) error {
		js, err := cl.Jobs(ctx, o.filter)
		if err != nil {
			return err
		}
		js = nonNil(js)
		return c.output(o.json, js, func(w io.Writer) error { return printJobs(w, c.colour, time.Now(), js) })
	})
}

// printJobs writes the jobs table.
func printJobs(w io.Writer, colour bool, now time.Time, js []api.Job) error {
	return jobsTable(js, now).write(w, colour)
}

func jobsTable(js []api.Job, now time.Time) *table {
	t := &table{}
	t.add("JOB", "AGENT", "SCHEDULE", "TRIGGER", "STATUS", "STARTED", "DURATION", "TURNS", "COST", "REASON")
	for _, j := range js {
		t.addCols(col{text: j.ID}, col{text: j.Agent}, col{text: orDash(j.Schedule)}, col{text: orDash(j.Trigger)},
			col{j.Status, statusColour(j.Status)}, col{text: since(j.Started, now)}, col{text: duration(j, now)},
			col{text: fmt.Sprint(j.Turns)}, col{text: cost(j.Spent())}, col{text: orDash(cell(j.ExitReason, freeTextWidth))})
	}
	return t
}

// jobOptions are job's flags.
type jobOptions struct{ json bool }

func jobFlags() (*flag.FlagSet, *jobOptions) {
	fs := newFlagSet("job", "herdctlctl job [--json] ID",
		`Show one job: its record (prompt, times, status, exit reason, error,
session, turns, tokens, cost), the state of its systemd unit, and how its
agent's hooks went (ok, failed and why, HTTP status, attempts, time).
Values of several lines are shown whole, indented under their first line.
Its events: herdctlctl logs ID, or journalctl HERDCTL_JOB=ID (a hook's
own output: journalctl HERDCTL_HOOK=on_error[0] HERDCTL_JOB=ID).

Example:
  herdctlctl job 20261130-020031-4fa9c2`)
	var o jobOptions
	fs.BoolVar(&o.json, "json", false, "print as JSON")
	return fs, &o
}

func runJob(c *ctl, args []string) error {
	fs, o := jobFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "job takes one ID: herdctlctl jobs lists them")
	}
	return withClient(func(ctx context.Context, cl *api.Client) error {
		j, err := cl.Job(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		return c.output(o.json, j, func(w io.Writer) error { return printJob(w, c.colour, time.Now(), *j) })
	})
}

// printJob writes one job, like systemctl status writes a unit.
func printJob(w io.Writer, colour bool, now time.Time, j api.Job) error {
	var f fields
	f.add("Job", j.ID)
	f.add("Agent", j.Agent)
	f.add("Schedule", j.Schedule)
	f.add("Trigger", j.Trigger)
	f.addColour("Status", j.Status, statusColour(j.Status))
	f.addText("Reason", j.ExitReason)
	f.addText("Error", j.Error)
	if j.Unit != "" {
		f.add("Unit", fmt.Sprintf("%s (%s)", j.Unit, orDash(j.UnitState)))
	}
	if !j.Started.IsZero() {
		f.add("Started", fmt.Sprintf("%s (%s)", clock(j.Started, now), since(j.Started, now)))
	}
	if j.Finished != nil {
		f.add("Finished", clock(*j.Finished, now))
	}
	f.add("Duration", duration(j, now))
	if j.ExitCode != nil {
		f.add("Exit code", fmt.Sprint(*j.ExitCode))
	}
	f.add("Session", j.SessionID)
	f.add("Usage", fmt.Sprintf("%d turns, %d input tokens, %d output tokens, %s",
		j.Turns, j.InputTokens, j.OutputTokens, cost(j.CostUSD)))
	if j.APIRequests > 0 {
		f.add("API", fmt.Sprintf("%d requests through the job's relay, %s at list prices by the API's own counts", j.APIRequests, cost(j.APICostUSD)))
	}
	if j.OutputDropped > 0 {
		f.addColour("Output", fmt.Sprintf("%d bytes not logged: over the journal budget", j.OutputDropped), yellow)
	}
	if j.EgressAllowed+j.EgressDenied > 0 {
		egress := fmt.Sprintf("%d connections allowed (%d bytes up, %d down), %d denied",
			j.EgressAllowed, j.EgressBytesUp, j.EgressBytesDown, j.EgressDenied)
		if j.EgressDenied > 0 {
			f.addColour("Egress", egress, yellow)
		} else {
			f.add("Egress", egress)
		}
	}
	if j.Redacted {
		f.add("Prompt", "withheld: root, group herdctl and the agent's own user may read it")
		f.add("Result", "withheld, like the prompt")
	} else {
		f.addText("Prompt", j.Prompt)
		f.addText("Result", j.Result)
	}
	for i, h := range j.Hooks {
		label := ""
		if i == 0 {
			label = "Hooks"
		}
		f.addColour(label, hookLine(h), hookColour(h.Status))
	}
	f.add("Logs", "herdctlctl logs "+j.ID+"  (journalctl HERDCTL_JOB="+j.ID+")")
	var b bytes.Buffer
	f.write(&b, colour)
	_, err := w.Write(b.Bytes())
	return err
}

// cancelOptions are cancel's flags.
type cancelOptions struct{ json bool }

func cancelFlags() (*flag.FlagSet, *cancelOptions) {
	fs := newFlagSet("cancel", "herdctlctl cancel [--json] ID",
		`Cancel a job: a running job's unit is stopped (its task gets SIGTERM,
then SIGKILL after the grace period, and the job is recorded cancelled); a
queued job is dropped. Returns once the job has stopped, and prints its
status (--json: the job, as herdctlctl job --json prints it). Needs root
or group herdctl.

Example:
  herdctlctl jobs --status running
  sudo herdctlctl cancel 20261130-020031-4fa9c2`)
	var o cancelOptions
	fs.BoolVar(&o.json, "json", false, "print the stopped job as JSON")
	return fs, &o
}

func runCancel(c *ctl, args []string) error {
	fs, o := cancelFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "cancel takes one job ID: herdctlctl jobs --status running lists them")
	}
	return withClient(func(ctx context.Context, cl *api.Client) error {
		if err := cl.Cancel(ctx, fs.Arg(0)); err != nil {
			return err
		}
		j, err := cl.Job(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		return c.output(o.json, j, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "job %s %s\n", safe(j.ID), paint(c.colour, statusColour(j.Status), safe(j.Status)))
			return err
		})
	})
}

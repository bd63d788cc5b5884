package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

// agentsOptions are agents's flags.
type agentsOptions struct{ json bool }

func agentsFlags() (*flag.FlagSet, *agentsOptions) {
	fs := newFlagSet("agents", "herdctlctl agents [--json]",
		`List the fleet's agents: schedules, next run, running jobs and the
outcome of the last job.

Example:
  herdctlctl agents
  herdctlctl agents --json | jq -r '.[].name'`)
	var o agentsOptions
	fs.BoolVar(&o.json, "json", false, "print as JSON")
	return fs, &o
}

func runAgents(c *ctl, args []string) error {
	fs, o := agentsFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Exitf(cli.ExitUsage, "agents takes no arguments; herdctlctl agent NAME shows one")
	}
	return withClient(func(ctx context.Context, cl *api.Client) error {
		as, err := cl.Agents(ctx)
		if err != nil {
			return err
		}
		as = nonNil(as)
		return c.output(o.json, as, func(w io.Writer) error { return printAgents(w, c.colour, time.Now(), as) })
	})
}

// printAgents writes the agents table.
func printAgents(w io.Writer, colour bool, now time.Time, as []api.Agent) error {
	var t table
	t.add("NAME", "SCHEDULES", "NEXT RUN", "RUNNING", "LAST JOB", "STATUS", "DESCRIPTION")
	for _, a := range as {
		var next time.Time
		for _, s := range a.Schedules {
			if s.Enabled && !s.NextRun.IsZero() && (next.IsZero() || s.NextRun.Before(next)) {
				next = s.NextRun
			}
		}
		nextCol := since(next, now)
		if a.Disabled {
			nextCol = "disabled"
		}
		t.addCols(col{text: a.Name}, col{text: fmt.Sprint(len(a.Schedules))}, col{text: nextCol},
			col{text: fmt.Sprintf("%d/%d", a.Running, a.MaxConcurrent)}, col{text: orDash(a.LastJob)},
			col{orDash(a.LastStatus), statusColour(a.LastStatus)}, col{text: cell(a.Description, freeTextWidth)})
	}
	return t.write(w, colour)
}

// agentOptions are agent's flags.
type agentOptions struct{ json bool }

func agentFlags() (*flag.FlagSet, *agentOptions) {
	fs := newFlagSet("agent", "herdctlctl agent [--json] NAME",
		`Show one agent: its file, workspace, container (image, network, user),
its schedules with their timers, and its last job.

Example:
  herdctlctl agent gardener`)
	var o agentOptions
	fs.BoolVar(&o.json, "json", false, "print as JSON")
	return fs, &o
}

func runAgent(c *ctl, args []string) error {
	fs, o := agentFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "agent takes one NAME: herdctlctl agents lists them")
	}
	return withClient(func(ctx context.Context, cl *api.Client) error {
		a, err := cl.Agent(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		return c.output(o.json, a, func(w io.Writer) error { return printAgent(w, c.colour, time.Now(), *a) })
	})
}

// printAgent writes one agent: a header like systemctl status's, its
// settings, and its schedules.
func printAgent(w io.Writer, colour bool, now time.Time, a api.Agent) error {
	var b bytes.Buffer
	var f fields
	f.indent = "  "
	desc := strings.TrimRight(a.Description, "\r\n")
	switch {
	case desc == "":
		fmt.Fprintf(&b, "%s\n", paint(colour, bold, safe(a.Name)))
	case !strings.Contains(desc, "\n"):
		fmt.Fprintf(&b, "%s - %s\n", paint(colour, bold, safe(a.Name)), safe(desc))
	default: // too long for the header line: under it, whole
		fmt.Fprintf(&b, "%s\n", paint(colour, bold, safe(a.Name)))
		f.addText("Description", desc)
	}
	if a.Disabled {
		f.addColour("State", "disabled: no timers, no triggers (herdctlctl enable "+safe(a.Name)+")", yellow)
	}
	f.add("File", a.File)
	f.add("Workspace", fmt.Sprintf("%s (%s)", a.Workspace, orDash(a.WorkspaceMode)))
	f.add("Container", fmt.Sprintf("image %s, network %s, user %s", orDash(a.Image), orDash(a.Network), orDash(a.User)))
	f.add("Jobs", fmt.Sprintf("%d running, at most %d", a.Running, a.MaxConcurrent))
	if a.LastJob != "" {
		f.addColour("Last job", fmt.Sprintf("%s %s %s", a.LastJob, orDash(a.LastStatus), since(a.LastFinished, now)),
			statusColour(a.LastStatus))
	}
	if a.LastEgressDenied > 0 {
		f.addColour("Egress", fmt.Sprintf("%d connections of the last job denied (herdctlctl logs %s)",
			a.LastEgressDenied, a.LastJob), yellow)
	}
	f.write(&b, colour)
	b.WriteByte('\n')
	if len(a.Schedules) == 0 {
		fmt.Fprintf(&b, "  No schedules: manual jobs only (herdctlctl trigger %s).\n", safe(a.Name))
	} else {
		t := table{indent: "  "}
		t.add("SCHEDULE", "WHEN", "TIMEOUT", "TIMER", "STATE", "NEXT", "LAST")
		for _, s := range a.Schedules {
			t.add(s.Name, schedDesc(s), human(s.Timeout), orDash(s.Timer), orDash(s.TimerUnit),
				nextRun(a, s, now), lastRun(s.LastRun, now))
		}
		t.write(&b, colour)
	}
	_, err := w.Write(b.Bytes())
	return err
}

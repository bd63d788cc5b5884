package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
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
	// Chat is the chat bridge's bots (chat.go).
	Chat []api.ChatConnector `json:"chat,omitempty"`
}

// statusOptions are status's flags.
type statusOptions struct{ json bool }

func statusFlags() (*flag.FlagSet, *statusOptions) {
	fs := newFlagSet("status", "herdctlctl status [--json] [AGENT]",
		`Show the fleet at a glance, like systemctl status: the daemon's version,
uptime and last reload (with its errors when the last reload was refused),
the agents left out for errors in their files, every schedule with its
next and last run, running jobs, and the last failures. With AGENT, only
that agent's schedules, jobs and errors (exit 2 if there is no such
agent). Anyone may run it; it reads through D-Bus.

Example:
  herdctlctl status
  herdctlctl status gardener --json`)
	var o statusOptions
	fs.BoolVar(&o.json, "json", false, "print as JSON")
	return fs, &o
}

func runStatus(c *ctl, args []string) error {
	fs, o := statusFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return cli.Exitf(cli.ExitUsage, "status takes at most one AGENT; see herdctlctl status --help")
	}
	return withClient(func(ctx context.Context, cl *api.Client) error {
		v, err := loadStatus(ctx, cl, fs.Arg(0))
		if err != nil {
			return err
		}
		return c.output(o.json, v, func(w io.Writer) error { return printStatus(w, c.colour, time.Now(), v) })
	})
}

// recentFailures is how many failed or timed-out jobs status lists.
const recentFailures = 5

// loadStatus asks the daemon for the fleet, or for agent's part of it
// when agent is not "".
func loadStatus(ctx context.Context, cl *api.Client, agent string) (statusView, error) {
	var v statusView
	var err error
	if v.Status, err = cl.Status(ctx); err != nil {
		return v, err
	}
	if v.AgentList, err = cl.Agents(ctx); err != nil {
		return v, err
	}
	if agent != "" && !onlyAgent(&v, agent) {
		return v, cli.Exitf(cli.ExitUsage, "no agent %q in the fleet: herdctlctl agents lists them", safe(agent))
	}
	if v.Running, err = cl.Jobs(ctx, api.JobFilter{Agent: agent, Status: api.StatusRunning}); err != nil {
		return v, err
	}
	// Recent failures: failed, timed out and skipped, newest first.
	for _, st := range []string{api.StatusFailed, api.StatusTimedOut, api.StatusSkipped} {
		js, err := cl.Jobs(ctx, api.JobFilter{Agent: agent, Status: st, Limit: recentFailures})
		if err != nil {
			return v, err
		}
		v.Failures = append(v.Failures, js...)
	}
	slices.SortStableFunc(v.Failures, func(a, b api.Job) int { return b.Started.Compare(a.Started) })
	v.Failures = v.Failures[:min(len(v.Failures), recentFailures)]
	v.Running, v.Failures = nonNil(v.Running), nonNil(v.Failures)
	v.Chat = loadChat(ctx, cl, agent)
	return v, nil
}

// onlyAgent narrows v to one agent, in the fleet or left out of it for
// its errors; false when there is none of that name.
func onlyAgent(v *statusView, name string) bool {
	var agents []api.Agent
	for _, a := range v.AgentList {
		if a.Name == name {
			agents = append(agents, a)
		}
	}
	st := *v.Status
	st.BrokenAgents = nil
	for _, b := range v.Status.BrokenAgents {
		if b.Name == name {
			st.BrokenAgents = append(st.BrokenAgents, b)
		}
	}
	v.Status, v.AgentList = &st, nonNil(agents)
	return len(agents)+len(st.BrokenAgents) > 0
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// printStatus writes the fleet at a glance.
func printStatus(w io.Writer, colour bool, now time.Time, v statusView) error {
	var b bytes.Buffer
	dot := paint(colour, green, "●")
	if v.ReloadError != "" || len(v.BrokenAgents) > 0 || v.LastGood {
		dot = paint(colour, boldRed, "●")
	}
	fmt.Fprintf(&b, "%s herdctl: fleet \"%s\" (%s)\n", dot, safe(v.FleetName), safe(v.ConfigFile))

	var f fields
	f.add("Version", v.Version)
	f.add("Active", fmt.Sprintf("since %s (%s)", clock(v.Since, now), since(v.Since, now)))
	switch {
	case v.LastGood:
		f.addColour("Last reload", since(v.LastReload, now)+", the fleet's files are broken: running the last good fleet", boldRed)
	case v.ReloadError != "":
		f.addColour("Last reload", since(v.LastReload, now)+", refused: the fleet below is still the last good one", boldRed)
	case len(v.BrokenAgents) > 0:
		f.addColour("Last reload", fmt.Sprintf("%s, applied without %d agent(s) left out for errors in their files", since(v.LastReload, now), len(v.BrokenAgents)), boldRed)
	default:
		f.add("Last reload", since(v.LastReload, now)+", ok")
	}
	errs := v.Errors
	if len(errs) == 0 && v.ReloadError != "" {
		errs = []api.ConfigError{{Message: v.ReloadError}}
	}
	for _, e := range errs {
		f.addItem(configError(e))
	}
	for _, a := range v.BrokenAgents {
		name := a.Name
		if name == "" {
			name = "(unnamed)"
		}
		f.addColour("Left out", fmt.Sprintf("%s (%s): its timers are stopped until its file is fixed", name, a.File), boldRed)
		for _, e := range a.Errors {
			f.addItem(configError(e))
		}
	}
	for _, e := range v.Warnings {
		f.addColour("Warning", configError(e), yellow)
	}
	f.add("Agents", fmt.Sprintf("%d   Timers: %d   Running jobs: %d", v.Status.Agents, v.Timers, v.RunningJobs))
	f.write(&b, colour)
	b.WriteByte('\n')

	var t table
	t.add("AGENT", "SCHEDULE", "WHEN", "NEXT", "LAST", "LAST JOB", "STATUS")
	for _, a := range v.AgentList {
		last := col{orDash(a.LastStatus), statusColour(a.LastStatus)}
		if len(a.Schedules) == 0 {
			next := "-"
			if a.Disabled {
				next = "disabled"
			}
			t.addCols(col{text: a.Name}, col{text: "-"}, col{text: "manual only"}, col{text: next}, col{text: "-"},
				col{text: orDash(a.LastJob)}, last)
		}
		for i, s := range a.Schedules {
			job := col{}
			if i > 0 {
				last = col{}
			} else {
				job.text = orDash(a.LastJob)
			}
			t.addCols(col{text: a.Name}, col{text: s.Name}, col{text: schedDesc(s)}, col{text: nextRun(a, s, now)},
				col{text: lastRun(s.LastRun, now)}, job, last)
		}
	}
	t.write(&b, colour)
	writeChat(&b, colour, now, v.Chat)
	if len(v.Running) > 0 {
		b.WriteString("\nRunning:\n")
		jobsTable(v.Running, now).write(&b, colour)
	}
	if len(v.Failures) > 0 {
		b.WriteString("\nRecent failures:\n")
		jobsTable(v.Failures, now).write(&b, colour)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// configError is one error in a file, as the compilers write them:
// file:line:column: field: message.
func configError(e api.ConfigError) string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
		if e.Column > 0 {
			s += fmt.Sprintf(":%d", e.Column)
		}
	}
	if e.Field != "" {
		if s != "" {
			s += ": "
		}
		s += e.Field
	}
	if s != "" {
		s += ": "
	}
	return s + e.Message
}

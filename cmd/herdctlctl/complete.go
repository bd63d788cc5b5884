package main

import (
	"bytes"
	"context"
	"flag"
	"io"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// completeCommand is the hidden command the shell completions call.
const completeCommand = "__complete"

// completeJobs is how many of the newest jobs are offered.
const completeJobs = 50

// completeOptions are __complete's flags: none.
type completeOptions struct{}

func completeFlags() (*flag.FlagSet, *completeOptions) {
	fs := newFlagSet(completeCommand,
		"herdctlctl __complete agents | jobs [STATUS...] | schedules AGENT",
		`Print words for the shell completions (packaging/completion), one a line:
the agents' names, the ids of the newest jobs (in any of the STATUSes),
or the names of an agent's schedules. Only words made of the characters
names and ids may have are printed: they go into a shell.

Example:
  herdctlctl __complete jobs running queued`)
	return fs, &completeOptions{}
}

func runComplete(c *ctl, args []string) error {
	fs, _ := completeFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	what := fs.Args()
	if len(what) == 0 {
		return cli.Exitf(cli.ExitUsage, "__complete takes agents, jobs or schedules")
	}
	return withClient(func(ctx context.Context, cl *api.Client) error {
		words, err := completions(ctx, cl, what[0], what[1:])
		if err != nil {
			return err
		}
		return writeWords(c.stdout, words)
	})
}

// completions lists the words for what; args are its arguments.
func completions(ctx context.Context, cl *api.Client, what string, args []string) ([]string, error) {
	var words []string
	switch what {
	case "agents":
		as, err := cl.Agents(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			words = append(words, a.Name)
		}
	case "jobs":
		statuses := args
		if len(statuses) == 0 {
			statuses = []string{""}
		}
		for _, s := range statuses {
			js, err := cl.Jobs(ctx, api.JobFilter{Status: s, Limit: completeJobs})
			if err != nil {
				return nil, err
			}
			for _, j := range js {
				words = append(words, j.ID)
			}
		}
	case "schedules":
		if len(args) != 1 {
			return nil, cli.Exitf(cli.ExitUsage, "__complete schedules takes one AGENT")
		}
		a, err := cl.Agent(ctx, args[0])
		if err != nil {
			return nil, err
		}
		for _, s := range a.Schedules {
			words = append(words, s.Name)
		}
	default:
		return nil, cli.Exitf(cli.ExitUsage, "__complete takes agents, jobs or schedules, not %q", safe(what))
	}
	return words, nil
}

// writeWords prints the words that are names or job ids, one a line.
func writeWords(w io.Writer, words []string) error {
	var b bytes.Buffer
	for _, s := range words {
		if config.NameRe.MatchString(s) || state.IsJobID(s) {
			b.WriteString(s + "\n")
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

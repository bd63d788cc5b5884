package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

// reloadTimeout bounds a reload: thousands of agents take seconds.
const reloadTimeout = 10 * time.Minute

// reloadOptions are reload's flags.
type reloadOptions struct{ quiet, json bool }

func reloadFlags() (*flag.FlagSet, *reloadOptions) {
	fs := newFlagSet("reload", "herdctlctl reload [--quiet] [--json]",
		`Reread the fleet file and every agent file and wait until the new fleet
is live: exit 0 when it was applied, exit 2 with every error (file:line)
when it was refused, in which case the running fleet is unchanged, or when
agents were left out for errors in their files. systemctl reload herdctl
runs it (ExecReload=), so both wait and both fail alike. Needs root or
group herdctl.

Example:
  sudo herdctlctl reload
  sudo herdctlctl reload --json | jq .agents`)
	var o reloadOptions
	fs.BoolVar(&o.quiet, "quiet", false, "print nothing when the reload succeeds")
	fs.BoolVar(&o.json, "json", false, "print the daemon's status after the reload as JSON")
	return fs, &o
}

func runReload(c *ctl, args []string) error {
	fs, o := reloadFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Exitf(cli.ExitUsage, "reload takes no arguments; herdctlctl validate FILE checks a file")
	}
	cl, err := dial()
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	return daemonError(func() error {
		if err := cl.Reload(ctx); err != nil {
			return err
		}
		if o.quiet && !o.json {
			return nil
		}
		st, err := cl.Status(ctx)
		if err != nil {
			return err
		}
		return c.output(o.json, st, func(w io.Writer) error { return printReloaded(w, *st) })
	}())
}

// printReloaded says what a successful reload made live.
func printReloaded(w io.Writer, st api.Status) error {
	_, err := fmt.Fprintf(w, "fleet \"%s\" reloaded: %d agents, %d timers\n", safe(st.FleetName), st.Agents, st.Timers)
	return err
}

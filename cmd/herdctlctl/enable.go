package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

type enableOptions struct{ json bool }

func enableFlags(name string) func() (*flag.FlagSet, *enableOptions) {
	return func() (*flag.FlagSet, *enableOptions) {
		var desc string
		if name == "disable" {
			desc = `Disable an agent: its timers stop and new triggers are refused with a clear
message, until herdctlctl enable. The agent stays in the fleet (status shows
it disabled), and a job that is running goes on. The choice survives
reloads, restarts and reboots. Needs root or group herdctl.

Example:
  sudo herdctlctl disable gardener`
		} else {
			desc = `Enable an agent that herdctlctl disable stopped: its timers start again and
it may be triggered. Needs root or group herdctl.

Example:
  sudo herdctlctl enable gardener`
		}
		fs := newFlagSet(name, "herdctlctl "+name+" [--json] AGENT", desc)
		var o enableOptions
		fs.BoolVar(&o.json, "json", false, "print the agent as JSON afterwards")
		return fs, &o
	}
}

func runEnable(enabled bool) func(c *ctl, args []string) error {
	name := map[bool]string{true: "enable", false: "disable"}[enabled]
	return func(c *ctl, args []string) error {
		fs, o := enableFlags(name)()
		if err := cli.Parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return cli.Exitf(cli.ExitUsage, "%s takes one AGENT: herdctlctl agents lists them", name)
		}
		return withClient(func(ctx context.Context, cl *api.Client) error {
			if err := cl.SetEnabled(ctx, fs.Arg(0), enabled); err != nil {
				return err
			}
			a, err := cl.Agent(ctx, fs.Arg(0))
			if err != nil {
				return err
			}
			return c.output(o.json, a, func(w io.Writer) error {
				state := "enabled: its timers run"
				if a.Disabled {
					state = "disabled: no timers, no triggers (herdctlctl enable " + safe(a.Name) + ")"
				}
				_, err := fmt.Fprintf(w, "agent %s %s\n", safe(a.Name), state)
				return err
			})
		})
	}
}

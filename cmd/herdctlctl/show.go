package main

import (
	"context"
	"flag"
	"io"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

type showOptions struct{ json bool }

func showFlags() (*flag.FlagSet, *showOptions) {
	fs := newFlagSet("show", "herdctlctl show [--json] AGENT",
		`Show an agent's effective configuration, after the fleet's defaults, its
agent file and the fleet's overrides, each value with where it comes from:
FILE:LINE:COLUMN, or which default it is. The environment's values are
withheld (they may be secrets); credentials are never shown. Anyone may run
it.

Example:
  herdctlctl show gardener`)
	var o showOptions
	fs.BoolVar(&o.json, "json", false, "print as JSON")
	return fs, &o
}

func runShow(c *ctl, args []string) error {
	fs, o := showFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "show takes one AGENT: herdctlctl agents lists them")
	}
	return withClient(func(ctx context.Context, cl *api.Client) error {
		vs, err := cl.ShowAgent(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		if vs == nil {
			vs = []api.ConfigValue{}
		}
		return c.output(o.json, vs, func(w io.Writer) error { return printShow(w, c.colour, vs) })
	})
}

// printShow prints FIELD VALUE FROM, one line per value (the first line
// of a long text, and an ellipsis).
func printShow(w io.Writer, colour bool, vs []api.ConfigValue) error {
	var t table
	t.addCols(col{"FIELD", bold}, col{"VALUE", bold}, col{"FROM", bold})
	for _, v := range vs {
		t.add(cell(v.Field, 0), cell(v.Value, 80), cell(v.From, 0))
	}
	return t.write(w, colour)
}

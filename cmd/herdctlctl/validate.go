package main

import (
	"fmt"
	"os"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

func runValidate(args []string) error {
	fs := cli.NewFlagSet("validate", "herdctlctl validate [--json] [FILE]",
		`Check the fleet file FILE (default /etc/herdctl/herdctl.toml) and every
agent file it lists, exactly as the daemon would on start or reload:
syntax, unknown fields, schedules, the two tiers (what an agent file may
set, what only the fleet file may), workspaces and limits. Needs no daemon.
Exit 0 when valid; exit 2 with every error, each naming
file:line:column, the field path, and what is allowed.`)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	path := config.DefaultFleetFile
	if fs.NArg() > 1 {
		return cli.Exitf(cli.ExitUsage, "validate takes at most one FILE")
	}
	if fs.NArg() == 1 {
		path = fs.Arg(0)
	}
	l := state.Default()
	f, agents, err := policy.Load(path, config.LoadOptions{}, policy.Options{StateDir: l.StateDir, RuntimeDir: l.RuntimeDir})
	if *asJSON {
		res := map[string]any{"file": path, "valid": err == nil}
		if err != nil {
			res["errors"] = api.ConfigErrorsOf(err)
		} else {
			res["fleet"] = f.Name
			res["agents"] = len(agents)
		}
		if werr := cli.WriteJSON(os.Stdout, res); werr != nil {
			return werr
		}
		if err != nil {
			return &cli.ExitError{Code: cli.ExitUsage, Err: cli.ErrSilent}
		}
		return nil
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return &cli.ExitError{Code: cli.ExitUsage, Err: cli.ErrSilent}
	}
	schedules := 0
	for _, a := range agents {
		schedules += len(a.Schedules)
	}
	fmt.Printf("%s: fleet %q is valid: %d agents, %d schedules\n", path, f.Name, len(agents), schedules)
	return nil
}

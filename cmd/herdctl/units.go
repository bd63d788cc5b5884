package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

func runUnits(args []string) error {
	fs := cli.NewFlagSet("units", "herdctl units [--config FILE] --out DIR",
		`Render the timer and job service of every enabled schedule, exactly as the
daemon writes them to /run/systemd/system, into DIR (created if missing).
Nothing is installed and systemd is not told: this is for review, diffs and
tests. The fleet is validated first; an invalid fleet writes nothing and
exits 2 with every error, each naming file:line:column and field.`)
	cfg := fs.String("config", config.DefaultFleetFile, "the fleet file")
	out := fs.String("out", "", "directory to write the units into (required)")
	runner := fs.String("runner", units.DefaultRunner, "herdctl binary the job units execute")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return cli.Exitf(cli.ExitUsage, "units: --out DIR is required")
	}
	l := state.Default()
	_, agents, err := policy.Load(*cfg, config.LoadOptions{}, policy.Options{StateDir: l.StateDir, RuntimeDir: l.RuntimeDir, PrivateTmp: true})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	rendered := units.RenderFleet(agents, units.Options{Runner: *runner})
	for _, u := range rendered {
		if err := os.WriteFile(filepath.Join(*out, u.Name), []byte(u.Content), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %d units for %d agents to %s\n", len(rendered), len(agents), *out)
	return nil
}

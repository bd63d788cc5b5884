package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// validateOptions are validate's flags.
type validateOptions struct{ json bool }

func validateFlags() (*flag.FlagSet, *validateOptions) {
	fs := newFlagSet("validate", "herdctlctl validate [--json] [FILE]",
		`Check the fleet file FILE (default /etc/herdctl/herdctl.toml) and every
agent file it lists, exactly as the daemon would on start or reload:
syntax, unknown fields, schedules, the two tiers (what an agent file may
set, what only the fleet file may), workspaces and limits. Needs no daemon.
Exit 0 when valid; exit 2 with every error, each naming
file:line:column, the field path, and what is allowed.

A valid fleet is also checked against this host, as the daemon does at
each reload: a missing or unexecutable claude, an agent without
credentials, a Claude agent without a network, network = "host", a fleet
or env file others can write or read, hard links the kernel does not
protect. Each is printed as a warning, with what to do; warnings do not
change the exit status.

Example:
  herdctlctl validate
  herdctlctl validate --json examples/herdctl.toml`)
	var o validateOptions
	fs.BoolVar(&o.json, "json", false, "print the result as JSON")
	return fs, &o
}

// validation is validate's result, and its --json.
type validation struct {
	File      string            `json:"file"`
	Valid     bool              `json:"valid"`
	Errors    []api.ConfigError `json:"errors,omitempty"`
	Fleet     string            `json:"fleet,omitempty"`
	Agents    int               `json:"agents"`
	Schedules int               `json:"schedules"`
	Warnings  []api.ConfigError `json:"warnings,omitempty"`
}

func runValidate(c *ctl, args []string) error {
	fs, o := validateFlags()
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
	f, agents, err := policy.Load(path, config.LoadOptions{}, policy.Options{StateDir: l.StateDir, RuntimeDir: l.RuntimeDir, PrivateTmp: true})
	v := validation{File: path, Valid: err == nil}
	if err != nil {
		v.Errors = api.ConfigErrorsOf(err)
	} else {
		v.Fleet, v.Agents = f.Name, len(agents)
		for _, a := range agents {
			v.Schedules += len(a.Schedules)
		}
		if w := policy.Preflight(f, agents, policy.Options{}); len(w) > 0 {
			v.Warnings = api.ConfigErrorsOf(w)
		}
	}
	switch {
	case o.json:
		if err := writeJSON(c.stdout, v); err != nil {
			return err
		}
	case v.Valid:
		if err := printWarnings(c.stderr, c.colourErr, v.Warnings); err != nil {
			return err
		}
		if err := printValid(c.stdout, c.colour, v); err != nil {
			return err
		}
	default:
		if err := printConfigErrors(c.stderr, c.colourErr, v.Errors); err != nil {
			return err
		}
	}
	if !v.Valid {
		return &cli.ExitError{Code: cli.ExitUsage, Err: cli.ErrSilent}
	}
	return nil
}

// printValid says a fleet is valid.
func printValid(w io.Writer, colour bool, v validation) error {
	_, err := fmt.Fprintf(w, "%s: fleet \"%s\" is %s: %d agents, %d schedules\n",
		safe(v.File), safe(v.Fleet), paint(colour, green, "valid"), v.Agents, v.Schedules)
	return err
}

// printWarnings writes preflight findings one a line, as
// "warning: file:line:column: field: message".
func printWarnings(w io.Writer, colour bool, warns []api.ConfigError) error {
	var b bytes.Buffer
	for _, e := range warns {
		fmt.Fprintf(&b, "%s %s\n", paint(colour, yellow, "warning:"), safe(configError(e)))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// printConfigErrors writes configuration errors one a line, each with
// its file:line:column in bold; a message of several lines goes on
// indented.
func printConfigErrors(w io.Writer, colour bool, errs []api.ConfigError) error {
	var b bytes.Buffer
	for _, e := range errs {
		msg := e.Message
		e.Message = ""
		where := configError(e)
		for i, line := range safeLines(msg) {
			switch {
			case i == 0:
				fmt.Fprintf(&b, "%s%s\n", paint(colour, bold, safe(where)), line)
			case line == "":
				b.WriteByte('\n')
			default:
				fmt.Fprintf(&b, "    %s\n", line)
			}
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

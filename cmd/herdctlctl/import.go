package main

import (
	"bytes"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/herdctl/herdctl/importer"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

// importOptions are import's flags.
type importOptions struct {
	out, user           string
	dryRun, force, json bool
}

func importFlags() (*flag.FlagSet, *importOptions) {
	fs := newFlagSet("import", "herdctlctl import FLEET.yaml [--out DIR] [--user USER] [--dry-run] [--force] [--json]",
		`Bring a fleet of the original, TypeScript herdctl over: read its fleet
file FLEET.yaml and every agent file it lists (paths relative to the file
that names them, ${VAR} from the environment or the .env beside it), and
write DIR/herdctl.toml and DIR/agents/NAME/agent.toml. What an agent may
set on its own goes in its agent file; what only a fleet may set (network,
volumes, env, image, chat tokens, hooks, workspaces) in the fleet's
[agents.overrides]. Every ${VAR} stays a reference, and the variables are
listed for the env file. Each option with no counterpart here is listed
on stderr, per agent, with why. Needs no daemon; --out is required unless
--dry-run.

An existing DIR/herdctl.toml or DIR/agents is not overwritten without
--force. Each agent's directory (its default workspace) is owned by USER,
the user its jobs run as. Exit 2 on an error in the YAML, naming its
file:line.

Example:
  herdctlctl import ~/fleet/herdctl.yaml --dry-run
  sudo herdctlctl import ~/fleet/herdctl.yaml --out /srv/herdctl --user agents
  sudo herdctlctl validate /srv/herdctl/herdctl.toml`)
	var o importOptions
	fs.StringVar(&o.out, "out", "", "write the fleet into `DIR`")
	fs.StringVar(&o.user, "user", "", "owner of each agent's directory: a `USER` name, uid or uid:gid")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the files instead of writing them")
	fs.BoolVar(&o.force, "force", false, "overwrite the files of an earlier import in DIR")
	fs.BoolVar(&o.json, "json", false, "print the notes, variables and files as JSON")
	return fs, &o
}

// importReport is import's --json.
type importReport struct {
	Source string         `json:"source"`
	Out    string         `json:"out,omitempty"`
	DryRun bool           `json:"dry_run"`
	Agents []string       `json:"agents"`
	Files  []importFile   `json:"files"`
	Notes  []importNote   `json:"notes"`
	Vars   []importer.Var `json:"vars"`
}

// importNote is one option not mapped, or mapped with a difference, and
// the agent it belongs to ("" for the fleet).
type importNote struct {
	Agent string `json:"agent,omitempty"`
	api.ConfigError
}

type importFile struct {
	Path    string `json:"path"`
	Content string `json:"content,omitempty"`
}

func runImport(c *ctl, args []string) error {
	fs, o := importFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "import takes one FLEET.yaml, the original herdctl's fleet file")
	}
	if o.out == "" && !o.dryRun {
		return cli.Exitf(cli.ExitUsage, "import needs --out DIR, the directory to write the fleet into (or --dry-run to print it)")
	}
	var owner *importer.Owner
	if o.user != "" {
		var err error
		if owner, err = importer.LookupOwner(o.user); err != nil {
			return cli.Exitf(cli.ExitUsage, "%v", err)
		}
	}
	res, err := importer.Import(importer.Options{Fleet: fs.Arg(0)})
	if err != nil {
		if o.json {
			return writeJSON(c.stdout, validation{File: fs.Arg(0), Errors: api.ConfigErrorsOf(err)})
		}
		if perr := printConfigErrors(c.stderr, c.colourErr, api.ConfigErrorsOf(err)); perr != nil {
			return perr
		}
		return &cli.ExitError{Code: cli.ExitUsage, Err: cli.ErrSilent}
	}
	files := res.Files(o.out)
	out := o.out
	if out == "" {
		out = "."
	}
	rep := importReport{Source: res.Source, Out: o.out, DryRun: o.dryRun, Vars: res.Vars}
	for _, a := range res.Agents {
		rep.Agents = append(rep.Agents, a.Name)
	}
	for _, f := range files {
		jf := importFile{Path: filepath.Join(out, f.Path)}
		if o.dryRun {
			jf.Content = string(f.Data)
		}
		rep.Files = append(rep.Files, jf)
	}
	for _, n := range res.Notes {
		rep.Notes = append(rep.Notes, importNote{n.Agent, api.ConfigError{File: n.File, Line: n.Line, Column: n.Col, Field: n.Field, Message: n.Msg}})
	}
	if !o.dryRun {
		if err := importer.Write(files, importer.WriteOptions{Out: o.out, Owner: owner, Force: o.force}); err != nil {
			return cli.Exitf(cli.ExitUsage, "%v", err)
		}
	}
	if o.json {
		return writeJSON(c.stdout, rep)
	}
	if o.dryRun {
		if err := importer.Print(c.stdout, out, files); err != nil {
			return err
		}
	}
	return printImport(c, res, rep)
}

// printImport tells, on stderr, what was not mapped (per agent), the
// variables for the env file, and what was written.
func printImport(c *ctl, res *importer.Result, rep importReport) error {
	var b bytes.Buffer
	agent := "\x00"
	for i, n := range res.Notes {
		if n.Agent != agent {
			agent = n.Agent
			if agent == "" {
				fmt.Fprintf(&b, "%s\n", paint(c.colourErr, bold, "fleet:"))
			} else {
				fmt.Fprintf(&b, "%s\n", paint(c.colourErr, bold, "agent "+safe(agent)+":"))
			}
		}
		fmt.Fprintf(&b, "  %s\n", safe(configError(rep.Notes[i].ConfigError)))
	}
	if len(res.Vars) > 0 {
		b.WriteString("variables for the env file (/etc/herdctl/herdctl.env):")
		for _, v := range res.Vars {
			fmt.Fprintf(&b, " %s", safe(v.Name))
			if v.Optional {
				b.WriteString(" (optional)")
			}
		}
		b.WriteString("\n")
	}
	if !rep.DryRun {
		fmt.Fprintf(&b, "wrote %s and %d agents: check it with herdctlctl validate %s\n",
			safe(filepath.Join(rep.Out, importer.FleetFileName)), len(res.Agents), safe(filepath.Join(rep.Out, importer.FleetFileName)))
	}
	_, err := c.stderr.Write(b.Bytes())
	return err
}

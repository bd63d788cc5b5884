package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/internal/version"
	"github.com/herdctl/herdctl/kube"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// exportOptions are export's flags.
type exportOptions struct {
	namespace, image, secret string
	json                     bool
}

func exportFlags() (*flag.FlagSet, *exportOptions) {
	fs := newFlagSet("export", "herdctlctl export kubernetes [--namespace NS] [--image REF] [--secret NAME] [--json] [FLEET]",
		`Write the fleet FLEET (default /etc/herdctl/herdctl.toml) as Kubernetes
manifests on stdout, for a fleet that outgrows one host. Needs no cluster
and no daemon; the fleet is validated first, exactly as validate does, and
the same fleet gives the same bytes.

Each enabled schedule becomes a CronJob (concurrencyPolicy Forbid, the
timeout as activeDeadlineSeconds, no retry) whose pod meets Pod Security
"restricted": the agent's uid, no capability, no privilege escalation,
seccomp RuntimeDefault, a read-only root, no service account token, the
agent's memory, CPU and disk limits. The job runs herdctl-runner with the
Claude Code command line herdctl runs on one host. Each agent gets a
NetworkPolicy: network = "none" allows nothing out; network = "egress"
allows only the herdctl-egress Deployment, which runs the egress proxy
(the agent's allowlist, private ranges refused) and the API relay, which
holds the credential so that agent pods never see it. An agent with
resume_session or chat keeps its home in a PersistentVolumeClaim.

No credential is ever written: the pods read the fleet's env file from
the Secret --secret, created with the line the output's first comment
gives. An interval with no exact cron form and network = "host" are
refused, naming the agent; what the fleet has and Kubernetes has no form
of is named on stderr.

Example:
  herdctlctl export kubernetes --image registry.example.org/herdctl:`+version.Version+` > fleet.yaml
  kubectl create namespace herdctl
  kubectl -n herdctl create secret generic herdctl-env --from-env-file=/etc/herdctl/herdctl.env
  kubectl apply --server-side -f fleet.yaml`)
	o := exportOptions{}
	fs.StringVar(&o.namespace, "namespace", kube.DefaultNamespace, "the namespace of every object")
	fs.StringVar(&o.image, "image", kube.DefaultImageRepo+":"+version.Version, "the image every pod runs (packaging/kubernetes/Containerfile)")
	fs.StringVar(&o.secret, "secret", kube.DefaultSecret, "the Secret holding the fleet's env file")
	fs.BoolVar(&o.json, "json", false, "write a v1 List as JSON instead of YAML documents")
	return fs, &o
}

func runExport(c *ctl, args []string) error {
	fs, o := exportFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.Arg(0) != "kubernetes" {
		return cli.Exitf(cli.ExitUsage, "export needs a format: herdctlctl export kubernetes [FLEET]")
	}
	if fs.NArg() > 2 {
		return cli.Exitf(cli.ExitUsage, "export kubernetes takes at most one FLEET")
	}
	path := config.DefaultFleetFile
	if fs.NArg() == 2 {
		path = fs.Arg(1)
	}
	l := state.Default()
	fleet, err := policy.LoadFleet(path, config.LoadOptions{}, policy.Options{StateDir: l.StateDir, RuntimeDir: l.RuntimeDir, PrivateTmp: true})
	if err == nil {
		err = fleet.Errs().Err()
	}
	if err != nil {
		return c.configFailure(err)
	}
	opts := kube.Options{Namespace: o.namespace, Image: o.image, Secret: o.secret, TimeZone: kube.LocalZone(), EnvFile: fleet.Config.Env,
		Where: func(agent, field string) config.Location {
			for _, a := range fleet.Config.Agents {
				if a.Name == agent {
					return a.Where(field)
				}
			}
			return config.Location{File: path, Field: field}
		}}
	e, err := kube.Render(fleet.Agents, opts)
	if err != nil {
		return c.configFailure(err)
	}
	var out bytes.Buffer
	if o.json {
		err = writeJSON(&out, kube.List(e.Objects))
	} else {
		err = e.WriteYAML(&out, kube.Header{Fleet: fleet.Config.File, EnvFile: fleet.Config.EnvFile, Version: version.Version}, opts)
	}
	if err != nil {
		return err
	}
	if err := printNotes(c.stderr, c.colourErr, e.Notes); err != nil {
		return err
	}
	_, err = c.stdout.Write(out.Bytes())
	return err
}

// configFailure prints configuration errors as validate does and exits 2.
func (c *ctl) configFailure(err error) error {
	if perr := printConfigErrors(c.stderr, c.colourErr, api.ConfigErrorsOf(err)); perr != nil {
		return perr
	}
	return &cli.ExitError{Code: cli.ExitUsage, Err: cli.ErrSilent}
}

// printNotes names what the export leaves out, one a line.
func printNotes(w io.Writer, colour bool, notes []string) error {
	var b bytes.Buffer
	for _, n := range notes {
		fmt.Fprintf(&b, "%s %s\n", paint(colour, yellow, "note:"), safe(n))
	}
	_, err := w.Write(b.Bytes())
	return err
}

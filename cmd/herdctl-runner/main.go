// Command herdctl-runner runs herdctl's jobs: every job unit executes
// "herdctl-runner run". It is the only herdctl program that talks to
// containerd, so the long-lived daemon (herdctl) links no containerd code.
// See herdctl(8).
package main

import (
	"os"

	"github.com/herdctl/herdctl/internal/cli"
)

const usage = `Usage: herdctl-runner COMMAND [OPTIONS]

herdctl-runner is herdctl's job runner, installed in /usr/libexec/herdctl.
systemd runs it: job units run "herdctl-runner run", herdctl-reap.service
runs "herdctl-runner reap" before each start of herdctl.service. Operators use herdctlctl(1);
"herdctl image import" runs "herdctl-runner image import".

Commands:
  run                run one job of an agent (what job units execute)
  reap               remove containers whose job unit is gone
  image import FILE  load an OCI image archive into containerd
  pod                run one job in place, as a Kubernetes pod's process
  egress             serve an exported fleet's egress proxy and API relay
  help               show this help (--version: the version)

Run "herdctl-runner COMMAND --help" for a command's options. See herdctl(8).
`

func main() {
	cli.Main("herdctl-runner", func() error {
		return cli.Dispatch("herdctl-runner", usage, os.Args[1:], map[string]func([]string) error{
			"run":    runJob,
			"reap":   runReap,
			"image":  runImage,
			"pod":    runPod,
			"egress": runEgress,
		})
	})
}

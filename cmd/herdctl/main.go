// Command herdctl is the herdctl daemon (run by herdctl.service) and its
// tools. Jobs are run by herdctl-runner, a separate program, so that the
// long-lived daemon links no containerd code. See herdctl(8).
package main

import (
	"os"

	"github.com/herdctl/herdctl/internal/cli"
)

const usage = `Usage: herdctl COMMAND [OPTIONS]

herdctl runs a fleet of Claude Code agents on schedules, each locked inside
a containerd task. Its daemon is started by systemd (herdctl.service); job
units run herdctl-runner. Operators use herdctlctl(1), systemctl(1) and
journalctl(1).

Commands:
  daemon             run the daemon in the foreground (what herdctl.service runs)
  hook webhook       send one webhook (what the daemon's webhook units run)
  image import FILE  load an OCI image archive for agents that name an image
  job run            run one job of an agent (herdctl-runner run)
  prune-transcripts  remove old transcripts (what herdctlctl prune's unit runs)
  teardown           stop and remove every herdctl timer, job unit and container
  units              render the systemd units the daemon would write, for review
  help               show this help (--version: the version)

Run "herdctl COMMAND --help" for a command's options. See herdctl(8).
`

func main() {
	cli.Main("herdctl", func() error {
		return cli.Dispatch("herdctl", usage, os.Args[1:], map[string]func([]string) error{
			"daemon":            runDaemon,
			"hook":              runHook,
			"image":             forward("image"),
			"job":               forwardJob,
			"prune-transcripts": runPruneTranscripts,
			"teardown":          runTeardown,
			"units":             runUnits,
		})
	})
}

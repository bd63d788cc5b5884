// Command herdctlctl controls a running herdctl daemon over D-Bus and
// checks fleet configurations. See herdctlctl(1).
package main

import (
	"os"

	"github.com/herdctl/herdctl/internal/cli"
)

const usage = `Usage: herdctlctl COMMAND [OPTIONS]

herdctlctl inspects and steers the herdctl daemon. Every read command takes
--json. Exit codes: 0 ok, 1 job failed, 2 usage or invalid configuration,
3 daemon unreachable, 4 permission denied.

Commands:
  validate [FILE]   check a fleet file and every agent file it lists
                    (works without the daemon)
  help              show this help

Run "herdctlctl COMMAND --help" for a command's options. See herdctlctl(1).
`

func main() {
	cli.Main("herdctlctl", func() error {
		return cli.Dispatch("herdctlctl", usage, os.Args[1:], map[string]func([]string) error{
			"validate": runValidate,
		})
	})
}

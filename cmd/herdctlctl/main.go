// Command herdctlctl controls a running herdctl daemon over D-Bus and
// checks fleet configurations. See herdctlctl(1).
package main

import (
	"fmt"
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
		if len(os.Args) < 2 {
			fmt.Fprint(os.Stderr, usage)
			return &cli.ExitError{Code: cli.ExitUsage, Err: cli.ErrSilent}
		}
		args := os.Args[2:]
		switch os.Args[1] {
		case "validate":
			return runValidate(args)
		case "help", "-h", "--help":
			fmt.Print(usage)
			return nil
		default:
			return cli.Exitf(cli.ExitUsage, "unknown command %q: run herdctlctl --help", os.Args[1])
		}
	})
}

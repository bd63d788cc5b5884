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
  status            the fleet at a glance: schedules, next runs, running
                    jobs, last failures, the last reload's errors
  agents            list the agents
  agent NAME        one agent: workspace, container, schedules, timers
  jobs              list jobs (--agent, --status, --limit)
  job ID            one job: status, exit reason, session, usage, prompt
  trigger AGENT     start a job now (--prompt, --schedule, --queue,
                    --wait, -f to stream its events)
  cancel ID         stop a running job or drop a queued one
  logs JOB|AGENT    journal entries of a job or an agent (-f, -n)
  reload            reread the fleet and wait for the verdict
  validate [FILE]   check a fleet file and every agent file it lists
                    (works without the daemon)
  help              show this help

Reading (status, agents, agent, jobs, job) is open to every user; trigger,
cancel and reload need root or membership in group herdctl. The daemon is
reached on the system bus (DBUS_SYSTEM_BUS_ADDRESS overrides it).

Run "herdctlctl COMMAND --help" for a command's options. See herdctlctl(1).
`

func main() {
	cli.Main("herdctlctl", func() error {
		return cli.Dispatch("herdctlctl", usage, os.Args[1:], map[string]func([]string) error{
			"status":   runStatus,
			"agents":   runAgents,
			"agent":    runAgent,
			"jobs":     runJobs,
			"job":      runJob,
			"trigger":  runTrigger,
			"cancel":   runCancel,
			"logs":     runLogs,
			"reload":   runReload,
			"validate": runValidate,
		})
	})
}

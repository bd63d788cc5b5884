// Command herdctlctl controls a running herdctl daemon over D-Bus and
// checks fleet configurations. See herdctlctl(1).
//
// Every command parses its flags into an options struct, asks the daemon,
// and hands what it got to a printer: a pure function of an io.Writer,
// whether to colour, the time to show times against, and the data, tested
// against golden files. Everything an agent wrote is sanitized on its way
// to the terminal (sanitize.go); --json prints it raw, escaped by JSON.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/internal/version"
)

const usage = `Usage: herdctlctl COMMAND [OPTIONS]
       herdctlctl --version

herdctlctl inspects and steers the herdctl daemon. Every command that
prints something takes --json. Exit codes: 0 ok, 1 job failed, 2 usage or
invalid configuration, 3 daemon unreachable, 4 permission denied.

Commands:
  status [AGENT]    the fleet at a glance: schedules, next runs, running
                    jobs, last failures, the last reload's errors
  agents            list the agents
  agent NAME        one agent: workspace, container, schedules, timers
  show AGENT        an agent's effective configuration, and where each
                    value comes from
  jobs              list jobs (--agent, --status, --limit)
  job ID            one job: status, exit reason, session, usage, prompt
  sessions AGENT    an agent's Claude Code sessions, to resume one
  cost              cost and tokens per agent per day (--since, --agent)
  trigger AGENT     start a job now (--prompt, --schedule, --resume,
                    --queue, --wait, -f to stream its events)
  cancel ID         stop a running job or drop a queued one
  disable AGENT     stop an agent's timers and refuse its triggers
  enable AGENT      undo disable
  logs JOB|AGENT    journal entries of a job or an agent (-f, -n)
  reload            reread the fleet and wait for the verdict
  prune             remove what ended longer ago than the retention
                    (--older-than, --dry-run)
  validate [FILE]   check a fleet file and every agent file it lists
                    (works without the daemon)
  import FLEET.yaml bring a fleet of the original (YAML) herdctl over:
                    writes herdctl.toml and agents/NAME/agent.toml
                    (--out, --user, --dry-run, --force)
  export kubernetes [FLEET]
                    the fleet as Kubernetes manifests, for more than one
                    host (works without the daemon)
  help              show this help

Reading (status, agents, agent, show, jobs, job, sessions, cost, logs as
journalctl allows) is open to every user; trigger, cancel, disable,
enable, reload and prune need root or membership in group herdctl. The
daemon is reached on the system bus (DBUS_SYSTEM_BUS_ADDRESS overrides it). Output
is coloured on a terminal unless NO_COLOR is set or TERM is dumb.

Example:
  herdctlctl status
  herdctlctl jobs --agent gardener --status failed
  sudo herdctlctl trigger --wait -f gardener

Run "herdctlctl COMMAND --help" for a command's options. See herdctlctl(1).
`

// ctl is where commands write and how, decided once in main.
type ctl struct {
	stdout, stderr io.Writer
	// colour and colourErr say whether stdout and stderr get colour.
	colour, colourErr bool
}

// command is one subcommand: its flags (for help and the completion
// tests) and what it runs.
type command struct {
	name  string
	flags func() *flag.FlagSet
	run   func(c *ctl, args []string) error
}

// commands lists the subcommands in the order of the usage text.
func commands() []command {
	return []command{
		{"status", flagsOf(statusFlags), runStatus},
		{"agents", flagsOf(agentsFlags), runAgents},
		{"agent", flagsOf(agentFlags), runAgent},
		{"show", flagsOf(showFlags), runShow},
		{"jobs", flagsOf(jobsFlags), runJobs},
		{"job", flagsOf(jobFlags), runJob},
		{"sessions", flagsOf(sessionsFlags), runSessions},
		{"cost", flagsOf(costFlags), runCost},
		{"trigger", flagsOf(triggerFlags), runTrigger},
		{"cancel", flagsOf(cancelFlags), runCancel},
		{"disable", flagsOf(enableFlags("disable")), runEnable(false)},
		{"enable", flagsOf(enableFlags("enable")), runEnable(true)},
		{"logs", flagsOf(logsFlags), runLogs},
		{"reload", flagsOf(reloadFlags), runReload},
		{"prune", flagsOf(pruneFlags), runPrune},
		{"validate", flagsOf(validateFlags), runValidate},
		{"import", flagsOf(importFlags), runImport},
		{"export", flagsOf(exportFlags), runExport},
		// Hidden: what the shell completions ask (complete.go).
		{completeCommand, flagsOf(completeFlags), runComplete},
	}
}

func flagsOf[O any](f func() (*flag.FlagSet, *O)) func() *flag.FlagSet {
	return func() *flag.FlagSet { fs, _ := f(); return fs }
}

func main() {
	getenv := os.Getenv
	c := &ctl{stdout: os.Stdout, stderr: os.Stderr,
		colour: colourOn(os.Stdout, getenv), colourErr: colourOn(os.Stderr, getenv)}
	cli.Main("herdctlctl", func() error { return c.dispatch(os.Args[1:]) })
}

// dispatch runs the command args name.
func (c *ctl) dispatch(args []string) error {
	if len(args) > 0 && args[0] == "--version" {
		_, err := fmt.Fprintf(c.stdout, "herdctlctl %s\n", version.Version)
		return err
	}
	run := map[string]func([]string) error{}
	for _, cmd := range commands() {
		run[cmd.name] = func(args []string) error { return cmd.run(c, args) }
	}
	return cli.Dispatch("herdctlctl", usage, args, run)
}

// colourOn says whether to colour what goes to f: only a terminal, and
// never with NO_COLOR set (https://no-color.org) or TERM=dumb.
func colourOn(f *os.File, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// output prints v as JSON with asJSON, else calls human.
func (c *ctl) output(asJSON bool, v any, human func(w io.Writer) error) error {
	if asJSON {
		return writeJSON(c.stdout, v)
	}
	return human(c.stdout)
}

// newFlagSet is cli.NewFlagSet: the options spelled --json.
func newFlagSet(name, synopsis, description string) *flag.FlagSet {
	return cli.NewFlagSet(name, synopsis, description)
}

package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/units"
)

// runnerPath is the runner binary: HERDCTL_RUNNER when set (tests), else
// where the package installs it.
func runnerPath() string {
	if p := os.Getenv("HERDCTL_RUNNER"); p != "" {
		return p
	}
	return units.DefaultRunner
}

// forward runs a herdctl-runner command in place of this process: the
// commands that talk to containerd live there.
func forward(command string) func([]string) error {
	return func(args []string) error {
		p := runnerPath()
		argv := append([]string{"herdctl-runner", command}, args...)
		if err := syscall.Exec(p, argv, os.Environ()); err != nil {
			return fmt.Errorf("running %s: %w (is the herdctl package complete? reinstall it)", p, err)
		}
		return nil
	}
}

// forwardJob keeps "herdctl job run" (the job units of herdctl before
// 0.2 ran it) working: it is "herdctl-runner run".
func forwardJob(args []string) error {
	if len(args) == 0 || args[0] != "run" {
		return cli.Exitf(cli.ExitUsage, "usage: herdctl job run --agent NAME [--schedule NAME] (herdctl-runner run --help)")
	}
	return forward("run")(args[1:])
}

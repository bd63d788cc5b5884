package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"

	"github.com/herdctl/herdctl/containerd"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/runner"
)

// reapTimeout bounds a reap: herdctl.service waits for it to start.
const reapTimeout = 60 * time.Second

func runReap(args []string) error {
	fs := cli.NewFlagSet("reap", "herdctl-runner reap [--all]",
		`Remove the containers earlier jobs left behind: every container in the
containerd namespaces the agents' snapshots name (and the default
namespace herdctl) whose job unit is no longer active, with its task and
snapshot, and the scratch directories (with the workspace binds in them)
of jobs whose unit is gone. herdctl-reap.service runs it before each
start of herdctl.service. With --all,
remove every herdctl container whatever its unit (herdctl teardown does,
when the package is removed). A containerd that is not running is
skipped. Exit status: 0, or 1 when a container could not be removed.

Example:
  herdctl-runner reap`)
	all := fs.Bool("all", false, "remove every herdctl container and job scratch directory, running or not")
	l := layoutFlags(fs)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), reapTimeout)
	defer cancel()
	var active runner.UnitActive
	if !*all {
		conn, err := sd.NewWithContext(ctx)
		if err != nil {
			return fmt.Errorf("connecting to systemd: %w", err)
		}
		defer conn.Close()
		active = func(ctx context.Context, unit string) (bool, error) {
			p, err := conn.GetUnitPropertyContext(ctx, unit, "ActiveState")
			if err != nil {
				return false, err
			}
			s, _ := p.Value.Value().(string)
			return s == "active" || s == "activating" || s == "deactivating" || s == "reloading", nil
		}
	}
	var errs []error
	for _, ep := range runner.Endpoints(*l) {
		if _, err := os.Stat(ep.Address); err != nil {
			continue // no containerd there: nothing to reap
		}
		c, err := containerd.Connect(ctx, ep.Address, ep.Namespace)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		reaped, err := runner.Reap(ctx, c, active, *all)
		c.Close()
		for _, r := range reaped {
			fmt.Fprintf(os.Stderr, "removed container %s of agent %s (job %s): %s\n", r.ID, r.Agent, r.Job, r.Why)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (namespace %s): %w", ep.Address, ep.Namespace, err))
		}
	}
	// Then what runners killed mid-job left: their scratch directories
	// and the workspace binds in them.
	cleaned, err := runner.ReapScratch(ctx, *l, active, *all)
	for _, id := range cleaned {
		fmt.Fprintf(os.Stderr, "removed the scratch directory of job %s\n", id)
	}
	if err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

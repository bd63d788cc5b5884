package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/herdctl/herdctl/containerd"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

// Containers is what reaping asks of containerd: *containerd.Client.
type Containers interface {
	List(ctx context.Context) ([]containerd.Container, error)
	Remove(ctx context.Context, id string) error
}

// UnitActive reports whether a systemd unit is active (running, starting
// or stopping).
type UnitActive func(ctx context.Context, unit string) (bool, error)

// Reaped is one container a reap removed.
type Reaped struct {
	containerd.Container
	Why string
}

// Reap removes the containers an earlier job left behind: those whose
// job unit is no longer active (its runner died with it: kill -9, a
// reboot, containerd restarted), and every one when all is set (herdctl
// teardown). A container without a unit label (a job run by hand) is left
// alone unless all is set.
func Reap(ctx context.Context, c Containers, active UnitActive, all bool) ([]Reaped, error) {
	ctrs, err := c.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	var out []Reaped
	var errs []error
	for _, ctr := range ctrs {
		why := "herdctl teardown"
		if !all {
			if ctr.Unit == "" {
				continue
			}
			on, err := active(ctx, ctr.Unit)
			if err != nil {
				errs = append(errs, fmt.Errorf("unit %s of container %s: %w", ctr.Unit, ctr.ID, err))
				continue
			}
			if on {
				continue
			}
			why = "its job unit " + ctr.Unit + " is not active"
		}
		if err := c.Remove(ctx, ctr.ID); err != nil {
			errs = append(errs, fmt.Errorf("removing container %s: %w", ctr.ID, err))
			continue
		}
		out = append(out, Reaped{Container: ctr, Why: why})
	}
	return out, errors.Join(errs...)
}

// Endpoints are the containerd sockets and namespaces the agents' snapshots
// name, and the default: where reaping looks.
func Endpoints(l state.Layout) []policy.Containerd {
	seen := map[policy.Containerd]bool{}
	out := []policy.Containerd{{Address: policy.DefaultContainerd, Namespace: policy.DefaultNamespace}}
	seen[out[0]] = true
	for _, name := range l.SnapshotNames() {
		a, err := l.ReadSnapshot(name)
		if err != nil || seen[a.Containerd] {
			continue
		}
		seen[a.Containerd] = true
		out = append(out, a.Containerd)
	}
	return out
}

// ReapScratch removes the scratch directories (and the binds in them) of
// jobs whose runner is gone: no record, a finished record, or a unit that
// is no longer active; every one when all is set.
func ReapScratch(ctx context.Context, l state.Layout, active UnitActive, all bool) ([]string, error) {
	dir := filepath.Dir(l.JobScratch("x"))
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		id := e.Name()
		if !all {
			if rec, err := (state.Records{Layout: l}).Read(id); err == nil && !state.Finished(rec.Status) && rec.Unit != "" {
				if on, err := active(ctx, rec.Unit); err != nil || on {
					continue
				}
			}
		}
		if err := removeScratch(filepath.Join(dir, id)); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, id)
	}
	return removed, errors.Join(errs...)
}

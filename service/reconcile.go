package service

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/service/api"
)

// reconcile cleans what an earlier daemon or runner left behind: job
// records that say running while their unit run is over are closed,
// queued jobs are queued again, and containers whose job unit is not
// active are deleted. Stale unit files are removed by applyFleet.
func (d *Daemon) reconcile(ctx context.Context) error {
	state, err := d.unitStates(ctx)
	if err != nil {
		return err
	}
	var errs []error
	d.mu.Lock()
	var open []*api.Job
	for _, j := range d.jobs {
		if j.Status == StatusRunning || j.Status == StatusQueued {
			open = append(open, j)
		}
	}
	d.mu.Unlock()
	sort.Slice(open, func(i, k int) bool { return open[i].Started.Before(open[k].Started) })
	for _, j := range open {
		if d.stillRunning(ctx, j, state) {
			continue
		}
		if j.Status == StatusQueued {
			// Still wanted: queued again, in the order they came (the
			// prompt is in the record). Start runs the queue once the
			// fleet is loaded.
			d.mu.Lock()
			d.queue = append(d.queue, queued{job: j, prompt: j.Prompt})
			d.mu.Unlock()
			continue
		}
		end := d.now()
		rec := *j
		rec.Finished = &end
		rec.Status = StatusFailed
		rec.ExitReason = "the job's unit ended without the runner recording an outcome"
		rec.Error = fmt.Sprintf("found by reconcile at daemon start; see journalctl -u %s", rec.Unit)
		if err := d.records().Write(&rec); err != nil {
			errs = append(errs, err)
			continue
		}
		d.mu.Lock()
		d.jobs[rec.ID] = &rec
		d.mu.Unlock()
		d.Log.Warn("closed a job left open", zap.String("job", rec.ID), zap.String("agent", rec.Agent), zap.String("status", rec.Status))
	}
	if d.Containers == nil {
		return errors.Join(errs...)
	}
	ctrs, err := d.Containers.List(ctx)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("listing containers: %w", err))...)
	}
	for _, c := range ctrs {
		if c.Unit != "" && state[c.Unit].Active() {
			continue
		}
		if err := d.Containers.Remove(ctx, c.ID); err != nil {
			errs = append(errs, fmt.Errorf("removing orphan container %s: %w", c.ID, err))
			continue
		}
		d.Log.Warn("removed an orphan container", zap.String("container", c.ID), zap.String("job", c.Job),
			zap.String("agent", c.Agent), zap.String("unit", c.Unit))
	}
	return errors.Join(errs...)
}

// stillRunning reports whether a job's own unit run is still going: its
// unit is active and, when the runner recorded systemd's invocation id,
// it is the same run.
func (d *Daemon) stillRunning(ctx context.Context, j *api.Job, state map[string]UnitState) bool {
	if j.Unit == "" || !state[j.Unit].Active() {
		return false
	}
	if j.Invocation == "" {
		return true
	}
	inv, err := d.Systemd.Invocation(ctx, j.Unit)
	return err != nil || inv == j.Invocation
}

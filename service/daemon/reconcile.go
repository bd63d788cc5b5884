package daemon

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// reconcile cleans what an earlier daemon or runner left behind: job
// records that say running while their unit run is over are closed, and
// queued jobs are queued again. Stale unit files are removed by
// applyFleet; containers whose job unit is gone are reaped by the runner
// binary before the daemon starts (herdctl-reap.service).
func (d *Daemon) reconcile(ctx context.Context) error {
	ustate, err := d.unitStates(ctx)
	if err != nil {
		return err
	}
	var errs []error
	d.mu.Lock()
	var open []*api.Job
	for _, j := range d.index.open {
		if j.Status == state.StatusRunning || j.Status == state.StatusQueued {
			open = append(open, j)
		}
	}
	d.mu.Unlock()
	sort.Slice(open, func(i, k int) bool { return open[i].Started.Before(open[k].Started) })
	for _, j := range open {
		if d.stillRunning(ctx, j, ustate) {
			continue
		}
		if j.Status == state.StatusQueued {
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
		rec.Status = state.StatusFailed
		rec.ExitReason = "the job's unit ended without the runner recording an outcome"
		rec.Error = fmt.Sprintf("found by reconcile at daemon start; see journalctl --namespace=%s -u %s", state.JournalNamespace, rec.Unit)
		if err := d.records().Write(&rec); err != nil {
			errs = append(errs, err)
			continue
		}
		d.mu.Lock()
		d.indexJob(&rec)
		d.mu.Unlock()
		d.Log.Warn("closed a job left open", zap.String("job", rec.ID), zap.String("agent", rec.Agent), zap.String("status", rec.Status))
	}
	return errors.Join(errs...)
}

// stillRunning reports whether a job's own unit run is still going: its
// unit is active and, when the runner recorded systemd's invocation id,
// it is the same run.
func (d *Daemon) stillRunning(ctx context.Context, j *api.Job, ustate map[string]UnitState) bool {
	if j.Unit == "" || !ustate[j.Unit].Active() {
		return false
	}
	if j.Invocation == "" {
		return true
	}
	inv, err := d.Systemd.Invocation(ctx, j.Unit)
	return err != nil || inv == j.Invocation
}

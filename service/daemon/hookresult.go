package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/herdctl/herdctl/hook"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

// How a hook's run ended: a webhook's own result, or systemd's word on
// its unit; and the runs an earlier daemon left unfinished.

// hookResult reads how hook run r went: a webhook's own result, else
// what systemd says of its unit.
func (d *Daemon) hookResult(ctx context.Context, r state.HookRun, jobResult string) hook.Result {
	if policy.SentHook(r.Type) {
		if b, err := state.ReadFileCapped(d.Layout.HookResultFile(r.Unit), maxHookResult); err == nil {
			var res hook.Result
			if json.Unmarshal(b, &res) == nil && (res.OK || res.Reason != "") {
				return res
			}
		}
	}
	if jobResult == "done" {
		return hook.Result{OK: true}
	}
	u, err := d.Hooks.UnitResult(ctx, r.Unit)
	if err != nil {
		return hook.Result{Reason: fmt.Sprintf("systemd says %q (see journalctl -u %s)", jobResult, r.Unit)}
	}
	return hook.Result{Reason: unitFailure(u, jobResult, r.Unit)}
}

// unitFailure says why a hook's unit failed.
func unitFailure(u UnitResult, jobResult, unit string) string {
	see := " (journalctl -u " + unit + ")"
	switch {
	case u.Result == "timeout" || jobResult == "timeout":
		return "did not finish in time: stopped" + see
	case u.Result == "oom-kill":
		return fmt.Sprintf("ran out of memory (MemoryMax=%d)%s", units.HookMemoryMax, see)
	case u.ExitCode == 1 && u.ExitStatus == 203:
		return "its program could not be run: check that command[0] exists and that " + units.HookUser + " may execute it" + see
	case u.ExitCode == 1 && u.ExitStatus == 217:
		return "the hook user " + units.HookUser + " is missing: reinstall the package or run systemd-sysusers" + see
	case u.ExitCode == 1 && u.ExitStatus >= 200 && u.ExitStatus < 256:
		return fmt.Sprintf("systemd could not set up the hook's sandbox (exit status %d)%s", u.ExitStatus, see)
	case u.ExitCode == 1:
		return fmt.Sprintf("exited with status %d%s", u.ExitStatus, see)
	case u.ExitCode == 2 || u.ExitCode == 3:
		return fmt.Sprintf("killed by signal %d%s", u.ExitStatus, see)
	case u.Result != "" && u.Result != "success":
		return "failed: " + u.Result + see
	}
	return fmt.Sprintf("systemd says %q%s", jobResult, see)
}

// resumeHooks settles the hooks of a job that an earlier daemon left
// unfinished: a hook unit still running is waited for, one that ended
// is read, and pending hooks run now.
func (d *Daemon) resumeHooks(ctx context.Context, s *state.HookState) {
	d.mu.Lock()
	var a *policy.Agent
	if e := d.index.get(s.Job); e != nil {
		a = d.agents[d.index.agent(e)]
	}
	fleet := d.fleetName
	d.mu.Unlock()
	var j *api.Job
	var sel []hook.Selected
	if a != nil {
		// The hooks' payload is the whole record.
		if rec, err := d.jobRecord(s.Job); err == nil {
			j = rec
			sel = hook.Select(a.Hooks, j.Status)
		}
	}
	for i := range s.Runs {
		if ctx.Err() != nil {
			return
		}
		r := s.Runs[i]
		switch r.Status {
		case state.HookRunning:
			d.settleHook(ctx, s, i)
		case state.HookPending:
			var x *hook.Selected
			for k := range sel {
				if sel[k].Name() == r.Hook {
					x = &sel[k]
				}
			}
			if x == nil {
				d.finishHook(s, i, hook.Result{Reason: "the agent no longer has this hook"}, "")
				continue
			}
			d.runHook(ctx, s, i, fleet, j, *x)
		}
	}
}

// settleHook finds out how a hook unit that an earlier daemon started
// ended, waiting for it if it still runs.
func (d *Daemon) settleHook(ctx context.Context, s *state.HookState, i int) {
	r := s.Runs[i]
	for {
		us, err := d.Systemd.Units(ctx, r.Unit)
		if err == nil && len(us) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(hookPoll):
		}
	}
	var dur int64
	if !r.Started.IsZero() {
		dur = d.now().Sub(r.Started).Milliseconds()
	}
	if policy.SentHook(r.Type) {
		if b, err := state.ReadFileCapped(d.Layout.HookResultFile(r.Unit), maxHookResult); err == nil {
			var res hook.Result
			if json.Unmarshal(b, &res) == nil && (res.OK || res.Reason != "") {
				d.finishHook(s, i, res, "")
				return
			}
		}
	}
	u, err := d.Hooks.UnitResult(ctx, r.Unit)
	switch {
	case err == nil && u.LoadState == "loaded" && u.ActiveState == "failed":
		d.finishHook(s, i, hook.Result{Reason: unitFailure(u, "failed", r.Unit), DurationMS: dur}, "")
	case err == nil && u.LoadState == "loaded" && u.Result == "success":
		d.finishHook(s, i, hook.Result{OK: true, DurationMS: dur}, "")
	default:
		d.finishHook(s, i, hook.Result{DurationMS: dur}, "the daemon stopped while the hook ran, and its unit left no result: see journalctl -u "+r.Unit)
	}
}

package daemon

import (
	"maps"
	"time"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

// firstElapses says, for each interval timer of agents, when it should
// first fire once started so that its schedule keeps its rhythm across
// daemon restarts and reboots: one interval after the schedule's last
// scheduled job, or after it was first applied when it has not run (kept
// in the agent's state directory). See units.FirstElapse.
func (d *Daemon) firstElapses(agents []*policy.Agent) map[string]time.Duration {
	now := d.now()
	last := map[[2]string]time.Time{}
	d.mu.Lock()
	x := &d.index
	for i := range x.entries {
		j := &x.entries[i]
		k := [2]string{x.agent(j), x.schedule(j)}
		if x.trigger(j) == state.TriggerSchedule && j.startedAt().After(last[k]) {
			last[k] = j.startedAt()
		}
	}
	d.mu.Unlock()
	out := map[string]time.Duration{}
	for _, a := range agents {
		since := d.scheduleSince(a, now)
		for _, s := range a.Schedules {
			if !s.Enabled || s.Type != "interval" {
				continue
			}
			anchor, ok := last[[2]string{a.Name, s.Name}]
			if !ok || anchor.Before(since[s.Name]) {
				anchor = since[s.Name]
			}
			out[units.TimerName(a.Name, s.Name)] = units.FirstElapse(s, anchor, now)
		}
	}
	return out
}

// scheduleSince returns when each interval schedule of a was first
// applied, recording now for the new ones and forgetting the removed
// ones (a schedule added back starts afresh).
func (d *Daemon) scheduleSince(a *policy.Agent, now time.Time) map[string]time.Time {
	if d.schedSince == nil {
		d.schedSince = map[string]map[string]time.Time{}
	}
	old, ok := d.schedSince[a.Name]
	if !ok {
		old = d.Layout.ReadScheduleSince(a.Name)
	}
	since := map[string]time.Time{}
	for _, s := range a.Schedules {
		if s.Enabled && s.Type == "interval" {
			if t, ok := old[s.Name]; ok {
				since[s.Name] = t
			} else {
				since[s.Name] = now
			}
		}
	}
	if !maps.Equal(since, old) {
		if err := d.Layout.WriteScheduleSince(a.Name, since); err != nil {
			d.Log.Warn("cannot record when the agent's schedules started: after a restart they count from then", zap.String("agent", a.Name), zap.Error(err))
		}
	}
	d.schedSince[a.Name] = since
	return since
}

package daemon

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/herdctl/herdctl/internal/version"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/units"
)

// ListAgents returns every agent of the fleet, by name.
func (d *Daemon) ListAgents(ctx context.Context) ([]*api.Agent, error) {
	d.mu.Lock()
	names := make([]string, 0, len(d.agents))
	for n := range d.agents {
		names = append(names, n)
	}
	d.mu.Unlock()
	sort.Strings(names)
	ustate, err := d.unitStates(ctx)
	if err != nil {
		return nil, err
	}
	timers := d.timerStates(ctx)
	out := make([]*api.Agent, 0, len(names))
	for _, n := range names {
		if a, err := d.agentInfo(ctx, n, ustate, timers); err == nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// GetAgent returns one agent.
func (d *Daemon) GetAgent(ctx context.Context, name string) (*api.Agent, error) {
	ustate, err := d.unitStates(ctx)
	if err != nil {
		return nil, err
	}
	return d.agentInfo(ctx, name, ustate, d.timerStates(ctx))
}

// timerStates are the active herdctl timers, asked once for all agents.
func (d *Daemon) timerStates(ctx context.Context) map[string]UnitState {
	out := map[string]UnitState{}
	if us, err := d.Systemd.Units(ctx, units.Prefix+"*.timer"); err == nil {
		for _, u := range us {
			out[u.Name] = u
		}
	}
	return out
}

func (d *Daemon) agentInfo(ctx context.Context, name string, ustate, timers map[string]UnitState) (*api.Agent, error) {
	d.mu.Lock()
	a := d.agents[name]
	x := &d.index
	var last *jobEntry
	for i := range x.entries {
		if j := &x.entries[i]; x.isAgent(j, name) && (last == nil || j.started > last.started) {
			last = j
		}
	}
	var lastJob, lastStatus string
	var lastDenied int
	var lastFinished time.Time
	if last != nil {
		lastJob, lastStatus, lastDenied, lastFinished = last.id(), x.status(last), int(last.egressDenied), last.finishedAt()
	}
	running := d.activeJobs(ustate, name)
	d.mu.Unlock()
	if a == nil {
		return nil, errorf(ErrNotFound, "no agent %q in the fleet: list them with herdctlctl agents", name)
	}
	info := &api.Agent{
		Name: a.Name, Description: a.Description, File: a.File, Image: a.Container.Image,
		Network: a.Container.Network, Workspace: a.Workspace, WorkspaceMode: a.WorkspaceMode,
		User:          fmt.Sprintf("%d:%d", a.Container.UID, a.Container.GID),
		MaxConcurrent: a.MaxConcurrent, Running: running, Schedules: []api.Schedule{},
		Disabled: d.disabled[name],
	}
	for _, s := range a.Schedules {
		info.Schedules = append(info.Schedules, d.scheduleInfo(ctx, a, s, timers))
	}
	info.LastJob, info.LastStatus, info.LastEgressDenied, info.LastFinished = lastJob, lastStatus, lastDenied, lastFinished
	return info, nil
}

func (d *Daemon) scheduleInfo(ctx context.Context, a *policy.Agent, s policy.Schedule, timers map[string]UnitState) api.Schedule {
	out := api.Schedule{Name: s.Name, Type: s.Type, Every: s.Interval, Enabled: s.Enabled, Timeout: s.Timeout}
	if s.Cron != nil {
		out.Cron = s.Cron.Expr
	}
	if !s.Enabled {
		return out
	}
	out.Timer = units.TimerName(a.Name, s.Name)
	out.TimerUnit = "inactive"
	if u, ok := timers[out.Timer]; ok {
		out.TimerUnit = u.ActiveState
	}
	out.NextRun, out.LastRun, _ = d.Systemd.Timer(ctx, out.Timer)
	return out
}

// Status summarizes the fleet.
func (d *Daemon) Status(ctx context.Context) (*api.Status, error) {
	ustate, err := d.unitStates(ctx)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	st := &api.Status{Version: version.Version, FleetName: d.fleetName, ConfigFile: d.ConfigFile,
		Agents: len(d.agents), Since: d.since, LastReload: d.lastReload}
	for name := range d.units {
		if strings.HasSuffix(name, ".timer") {
			st.Timers++
		}
	}
	st.RunningJobs = d.activeJobs(ustate, "")
	if d.reloadErr != nil {
		st.ReloadError = d.reloadErr.Error()
		st.Errors = api.ConfigErrorsOf(d.reloadErr)
	}
	for _, b := range d.broken {
		st.BrokenAgents = append(st.BrokenAgents, api.BrokenAgent{Name: b.Name, File: b.File, Errors: api.ConfigErrorsOf(b.Errors)})
	}
	st.LastGood = d.runningLastGood
	if len(d.warnings) > 0 {
		st.Warnings = api.ConfigErrorsOf(d.warnings)
	}
	return st, nil
}

// Validate checks a fleet file without applying it.
func (d *Daemon) Validate(path string) []api.ConfigError {
	if path == "" {
		path = d.ConfigFile
	}
	_, _, err := policy.Load(path, d.loadOptions(), d.policyOptions())
	if err == nil {
		return nil
	}
	return api.ConfigErrorsOf(err)
}

// AgentUID is the uid agent's jobs run as, when it is in the fleet.
func (d *Daemon) AgentUID(agent string) (uint32, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.agents[agent]
	if a == nil {
		return 0, false
	}
	return a.Container.UID, true
}

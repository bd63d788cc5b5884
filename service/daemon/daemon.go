package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

// DefaultUnitDir is where the daemon writes its generated units: runtime
// units, gone at reboot, rewritten at every start.
const DefaultUnitDir = "/run/systemd/system"

// Signals receives what the daemon announces (the D-Bus signals).
type Signals interface {
	JobStarted(j *api.Job)
	JobFinished(j *api.Job)
	Reloaded(ok bool, message string)
}

// Daemon is herdctl.service: it keeps systemd's units in step with the
// fleet file, starts manual jobs and answers questions about agents and
// jobs. Its exported fields are set before Start.
type Daemon struct {
	ConfigFile    string
	UnitDir       string // DefaultUnitDir if ""
	Layout        state.Layout
	Runner        string // the runner binary job units execute
	LoadOptions   config.LoadOptions
	PolicyOptions policy.Options
	Systemd       Systemd
	Log           *zap.Logger
	Signals       Signals // nil: none
	Now           func() time.Time
	// Hooks starts hook units (nil: hooks are off), and HookProgram is
	// the program webhook units run (this one if "").
	Hooks       HookUnits
	HookProgram string
	// Journalctl is the journalctl ReadJournal runs ("journalctl" on
	// PATH if "").
	Journalctl string

	apply sync.Mutex // serializes changes to units and jobs

	mu        sync.Mutex
	fleetName string
	agents    map[string]*policy.Agent
	units     map[string]string // unit name → content, as written
	// snapshots are the agent snapshots as written (writeAgents, under
	// apply), so unchanged ones are neither read back nor written.
	snapshots     map[string][]byte
	snapshotNames map[string]bool
	unitAgent     map[string]string // scheduled job unit name → agent (manual ones: jobIndex.manualAgent)
	since         time.Time
	lastReload    time.Time
	reloadErr     error
	broken        []config.BrokenAgent           // agents left out of the fleet for their errors
	disabled      map[string]bool                // agents the operator disabled: no timers, no triggers
	configs       map[string]*config.AgentConfig // each agent's configuration, for show
	// runningLastGood says the fleet's files were broken at start and the
	// last good fleet runs.
	runningLastGood bool
	warnings        config.Errors // the last loaded fleet's preflight findings
	// schedSince caches, by agent, when its interval schedules were first
	// applied (state.ScheduleSince); only applyFleet uses it.
	schedSince map[string]map[string]time.Time
	index      jobIndex      // the job index, kept by watchJobs
	retention  time.Duration // [fleet] retention, 0 for the default
	queue      []queued
	hooks      hookRunner
}

type queued struct {
	job    *api.Job
	prompt string
}

func (d *Daemon) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Daemon) unitDir() string {
	if d.UnitDir == "" {
		return DefaultUnitDir
	}
	return d.UnitDir
}

func (d *Daemon) records() state.Records { return state.Records{Layout: d.Layout} }

// Start loads the fleet, reconciles what an earlier run left behind,
// writes and starts the units. The daemon never stays down because of its
// configuration: when the fleet's own files are broken it starts from the
// last good fleet (kept in the state directory), or with no agents when
// there is none, and says so in status and the journal; a broken agent
// file leaves that agent out and the others run.
func (d *Daemon) Start(ctx context.Context) error {
	d.since = d.now()
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	if err := d.loadJobs(); err != nil {
		return err
	}
	d.loadHooks()
	if err := d.reconcile(ctx); err != nil {
		d.Log.Warn("reconcile incomplete", zap.Error(err))
	}
	fleet, err := d.load()
	if err != nil {
		d.logConfigError(err)
		name, agents, lerr := d.Layout.ReadLastGood()
		switch {
		case lerr != nil:
			d.Log.Error("the fleet's files are broken and there is no last good fleet: running no agents until they are fixed (herdctlctl status shows why)", zap.Error(lerr))
		default:
			d.Log.Warn("the fleet's files are broken: running the last good fleet until they are fixed (herdctlctl status shows why)",
				zap.String("fleet", name), zap.Int("agents", len(agents)))
		}
		if aerr := d.applyFleet(ctx, name, agents, nil); aerr != nil {
			return aerr
		}
		d.mu.Lock()
		d.reloadErr, d.runningLastGood = err, lerr == nil
		d.mu.Unlock()
		return nil
	}
	d.keepConfigs(fleet)
	d.keepRetention(fleet.Config.Retention)
	if err := d.applyFleet(ctx, fleet.Config.Name, fleet.Agents, fleet.Broken); err != nil {
		return err
	}
	d.startQueued(ctx)
	return nil
}

// loadTimeout bounds loading the fleet: the files are size-capped, so
// only a bug could take this long; the daemon goes on regardless.
const loadTimeout = 2 * time.Minute

// loadFleet loads the fleet on a goroutine of its own, bounded in time,
// and turns a panic into an error: nothing in a file stops the daemon.
func loadFleet(path string, lo config.LoadOptions, opts policy.Options) (*policy.Fleet, error) {
	type result struct {
		f   *policy.Fleet
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- result{err: fmt.Errorf("loading the fleet failed (%v): please report this as a bug", r)}
			}
		}()
		f, err := policy.LoadFleet(path, lo, opts)
		ch <- result{f, err}
	}()
	select {
	case r := <-ch:
		return r.f, r.err
	case <-time.After(loadTimeout):
		return nil, fmt.Errorf("loading the fleet took more than %s: the running fleet is unchanged", loadTimeout)
	}
}

func (d *Daemon) load() (*policy.Fleet, error) {
	f, err := loadFleet(d.ConfigFile, d.loadOptions(), d.policyOptions())
	if err != nil {
		return nil, err
	}
	d.checkIdentities(f)
	d.preflight(f)
	return f, nil
}

// checkIdentities leaves out every agent whose name's state (home,
// sessions) belongs to another agent file: an agent that renames itself
// to a removed agent's name does not get its home. The others' names are
// claimed as they first come into the fleet, not at their first job, so
// that an agent that has not run yet cannot be taken over either.
//
// A name bound to a file that is no longer in the fleet (neither loaded
// nor left out for errors) and that never ran (state.NeverRan: no home,
// no session) goes to the new file: there is nothing of the old agent's
// to take, and the package's example agent replaced by the operator's
// own must not hold its name.
func (d *Daemon) checkIdentities(f *policy.Fleet) {
	inFleet := map[string]bool{}
	for _, a := range f.Agents {
		inFleet[a.File] = true
	}
	for _, b := range f.Broken {
		inFleet[b.File] = true
	}
	ok := f.Agents[:0]
	for _, a := range f.Agents {
		err := d.Layout.ClaimIdentity(a.Name, a.File)
		var idErr *state.ErrIdentity
		if errors.As(err, &idErr) && !inFleet[idErr.Have] && d.Layout.NeverRan(a.Name) {
			err = d.Layout.ReclaimIdentity(a.Name, a.File)
		}
		if err != nil {
			f.Broken = append(f.Broken, config.BrokenAgent{Entry: config.Location{File: a.File, Line: 1, Col: 1, Field: "name"}, File: a.File, Name: a.Name,
				Errors: config.Errors{config.Errorf(config.Location{File: a.File, Line: 1, Col: 1, Field: "name"}, "%v", err)}})
			continue
		}
		ok = append(ok, a)
	}
	f.Agents = ok
}

// loadOptions are the options fleets are read with: a name belongs to
// the agent file its state is bound to (state.AgentIdentity).
func (d *Daemon) loadOptions() config.LoadOptions {
	lo := d.LoadOptions
	lo.NameOwner = d.Layout.IdentityOwner
	return lo
}

// policyOptions are the options fleets are resolved with: the daemon's
// own state and runtime directories are the ones no workspace may hold.
func (d *Daemon) policyOptions() policy.Options {
	opts := d.PolicyOptions
	opts.StateDir, opts.RuntimeDir = d.Layout.StateDir, d.Layout.RuntimeDir
	return opts
}

// Reload rereads the fleet. When the fleet's own files are invalid nothing
// changes: the running fleet stays exactly as it was, and the error is
// kept for Status. Otherwise the fleet is applied as a difference, without
// the agents whose files are broken (their timers stop; the error says
// which and why, and Reload returns it after applying the rest). Running
// jobs are not touched.
func (d *Daemon) Reload(ctx context.Context) error {
	d.apply.Lock()
	defer d.apply.Unlock()
	fleet, err := d.load()
	if err != nil {
		d.mu.Lock()
		d.reloadErr, d.lastReload = err, d.now()
		d.mu.Unlock()
		d.logConfigError(err)
		d.Log.Error("reload refused: the running fleet is unchanged; fix the file and run systemctl reload herdctl")
		d.signalReloaded(false, err.Error())
		return errorf(ErrInvalidConfig, "%v", err)
	}
	d.keepConfigs(fleet)
	d.keepRetention(fleet.Config.Retention)
	d.mu.Lock()
	before := len(d.agents)
	d.mu.Unlock()
	if err := d.applyFleet(ctx, fleet.Config.Name, fleet.Agents, fleet.Broken); err != nil {
		d.mu.Lock()
		d.reloadErr = err
		d.mu.Unlock()
		d.signalReloaded(false, err.Error())
		return err
	}
	// A fleet that shrank by hundreds of agents gives back the memory
	// they held at once, not over the Go runtime's minutes.
	if after := len(fleet.Agents); before-after >= shrinkFreesMemory && before >= 2*after {
		debug.FreeOSMemory()
	}
	if errs := fleet.Errs(); len(errs) > 0 {
		msg := fmt.Sprintf("applied without %d broken agent(s); their timers are stopped until their files are fixed:\n%v", len(fleet.Broken), errs)
		d.signalReloaded(false, msg)
		return errorf(ErrInvalidConfig, "%s", msg)
	}
	d.signalReloaded(true, "")
	return nil
}

func (d *Daemon) logConfigError(err error) {
	var ce config.Errors
	if !errors.As(err, &ce) {
		d.Log.Error("cannot load the fleet", zap.String("config_file", d.ConfigFile), zap.Error(err))
		return
	}
	for _, e := range ce {
		d.Log.Error(e.Error(), zap.String("config_file", e.File), zap.Int("config_line", e.Line),
			zap.Int("config_column", e.Col), zap.String("config_field", e.Field))
	}
}

// applyFleet makes the units in the unit directory exactly the rendered
// ones: agent snapshots first (a timer may fire at once), then the unit
// files, one daemon-reload, then timers started, restarted or stopped.
// unclaimedNames returns broken with the name of each broken agent left
// out where another file holds it: an agent in the fleet, or the owner of
// the name's state. A broken file's name is what its (agent-writable)
// file says, and it must not pass for another agent in status, logs or
// the web console: the entry is then known by its file alone, and its
// errors say which name it claimed.
func (d *Daemon) unclaimedNames(broken []config.BrokenAgent, byName map[string]*policy.Agent) []config.BrokenAgent {
	out := make([]config.BrokenAgent, len(broken))
	for i, b := range broken {
		out[i] = b
		if b.Name == "" {
			continue
		}
		if a := byName[b.Name]; a != nil && a.File != b.File {
			out[i].Name = ""
		} else if !config.NameRe.MatchString(b.Name) {
			continue // no agent can hold it, and it names no state directory
		} else if owner := d.Layout.IdentityOwner(b.Name); owner != "" && owner != b.File {
			out[i].Name = ""
		}
	}
	return out
}

// broken are the agents left out for their errors, for status.
func (d *Daemon) applyFleet(ctx context.Context, fleetName string, agents []*policy.Agent, broken []config.BrokenAgent) error {
	want := map[string]string{}
	owner := map[string]string{}
	// A disabled agent keeps its place in the fleet (status, show) but
	// has no timers.
	var scheduled []*policy.Agent
	disabled := map[string]bool{}
	for _, a := range agents {
		if _, err := os.Stat(d.Layout.AgentDisabled(a.Name)); err == nil {
			disabled[a.Name] = true
			continue
		}
		scheduled = append(scheduled, a)
	}
	for _, u := range units.RenderFleet(scheduled, units.Options{Runner: d.Runner, FirstElapse: d.firstElapses(scheduled)}) {
		want[u.Name] = u.Content
	}
	byName := map[string]*policy.Agent{}
	for _, a := range agents {
		byName[a.Name] = a
		for _, s := range a.Schedules {
			owner[units.ServiceName(a.Name, s.Name)] = a.Name
		}
	}
	if err := d.writeAgents(byName); err != nil {
		return err
	}
	d.writeChat(byName)
	if err := d.Layout.WriteLastGoodName(fleetName); err != nil {
		return fmt.Errorf("recording the last good fleet: %w", err)
	}
	// What is on disk: what the last apply wrote, or, at start, what
	// an earlier daemon left (scanned once).
	d.mu.Lock()
	have := d.units
	d.mu.Unlock()
	firstApply := have == nil
	if have == nil {
		var err error
		if have, err = d.scanUnits(); err != nil {
			return err
		}
	}
	var write, remove, startTimers, stopTimers, restartTimers []string
	for name, content := range want {
		old, ok := have[name]
		switch {
		case !ok:
			write = append(write, name)
			if strings.HasSuffix(name, ".timer") {
				startTimers = append(startTimers, name)
			}
		case old != content && !firstApply && units.SameTimer(old, content):
			// The same schedule: the running timer keeps counting.
			want[name] = old
		case old != content:
			write = append(write, name)
			if strings.HasSuffix(name, ".timer") {
				restartTimers = append(restartTimers, name)
			}
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			remove = append(remove, name)
			if strings.HasSuffix(name, ".timer") {
				stopTimers = append(stopTimers, name)
			}
		}
	}
	sort.Strings(write)
	sort.Strings(remove)
	// Units written but not yet seen by systemd (a daemon-reload that
	// failed, or a daemon that died before it) are recorded first, so
	// that the next apply reloads and restarts them even when nothing
	// differs any more.
	pending, hadPending := d.pendingUnits()
	for _, name := range pending {
		if _, ok := want[name]; ok {
			restartTimers = mergeNames(restartTimers, []string{name})
		}
	}
	needReload := len(write)+len(remove) > 0 || hadPending
	if needReload {
		if err := d.setPendingUnits(restartTimers); err != nil {
			return fmt.Errorf("recording the units to reload: %w", err)
		}
	}
	// Timers that go away stop first, so none fires into a removed unit.
	errs := d.each(ctx, stopTimers, d.Systemd.Stop)
	for _, name := range remove {
		if err := os.Remove(filepath.Join(d.unitDir(), name)); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	for _, name := range write {
		if err := state.WriteFileAtomic(filepath.Join(d.unitDir(), name), []byte(want[name]), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("writing unit %s: %w", name, err))
		}
	}
	if needReload {
		if err := d.Systemd.Reload(ctx); err != nil {
			return fmt.Errorf("daemon-reload: %w (the units are written; the next reload, or the daemon within a minute, tries again)", err)
		}
	}
	errs = append(errs, d.each(ctx, restartTimers, d.Systemd.Stop)...)
	// Every timer that is not running starts. At a daemon start (they
	// stopped with it) or when many are new, that is one systemd
	// transaction through the target that wants them all; for a few, one
	// start each is cheaper than a transaction over every timer.
	var startErr error
	if few := append(append([]string{}, startTimers...), restartTimers...); !firstApply && len(few) <= maxSingleStarts {
		sort.Strings(few)
		startErr = errors.Join(d.each(ctx, few, d.Systemd.Start)...)
	} else {
		startErr = d.Systemd.Start(ctx, units.TimersTarget)
	}
	if startErr != nil {
		errs = append(errs, startErr)
	}
	if needReload && startErr == nil {
		os.Remove(d.Layout.UnitsPending())
	}
	written := len(errs) == 0

	broken = d.unclaimedNames(broken, byName)
	d.mu.Lock()
	d.fleetName = fleetName
	d.agents = byName
	d.disabled = disabled
	d.broken = broken
	d.runningLastGood = false
	d.units = want
	if !written {
		d.units = nil // some file may not be as wanted: scan next time
	}
	for name, a := range owner {
		d.unitAgent[name] = a
	}
	d.lastReload = d.now()
	// The fleet is applied: agents left out are listed apart (status's
	// BrokenAgents); ReloadError is for a reload that changed nothing.
	d.reloadErr = nil
	d.mu.Unlock()
	for _, b := range broken {
		d.Log.Error("agent left out: its file is broken; the other agents run", zap.String("agent_file", b.File), zap.String("agent", b.Name))
		d.logConfigError(b.Errors)
	}
	d.Log.Info("fleet applied", zap.String("fleet", fleetName), zap.Int("agents", len(agents)), zap.Int("broken_agents", len(broken)),
		zap.Int("units_written", len(write)), zap.Int("units_removed", len(remove)),
		zap.Int("timers_new", len(startTimers)), zap.Int("timers_restarted", len(restartTimers)),
		zap.Int("timers_stopped", len(stopTimers)))
	return errors.Join(errs...)
}

// shrinkFreesMemory is how many agents a reload must drop (and at least
// half the fleet) for the daemon to return its free memory to the system
// at once.
const shrinkFreesMemory = 100

// maxSingleStarts is how many timers are started one by one; more go
// through the target in one transaction.
const maxSingleStarts = 16

// pendingUnits reads the record of units written but not yet reloaded:
// the timers to restart once systemd has seen them. ok says whether there
// is such a record.
func (d *Daemon) pendingUnits() (timers []string, ok bool) {
	b, err := os.ReadFile(d.Layout.UnitsPending())
	if err != nil {
		return nil, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, units.Prefix) && strings.HasSuffix(l, ".timer") {
			timers = append(timers, l)
		}
	}
	return timers, true
}

func (d *Daemon) setPendingUnits(timers []string) error {
	return state.WriteFileAtomic(d.Layout.UnitsPending(), []byte(strings.Join(timers, "\n")+"\n"), 0o600)
}

// retryPendingReload applies the fleet again when units are waiting for a
// daemon-reload that failed.
func (d *Daemon) retryPendingReload(ctx context.Context) {
	if _, ok := d.pendingUnits(); !ok {
		return
	}
	d.Log.Info("retrying the daemon-reload of units written earlier")
	if err := d.Reload(ctx); err != nil {
		d.Log.Error("retry failed", zap.Error(err))
	}
}

// mergeNames is the sorted union of a and b.
func mergeNames(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range append(append([]string{}, a...), b...) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// each runs op on every unit, a few at a time (systemd answers each call
// with a job to wait for).
func (d *Daemon) each(ctx context.Context, names []string, op func(context.Context, string) error) []error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, 16)
	)
	for _, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := op(ctx, name); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// scanUnits reads the units herdctl wrote earlier: files named herdctl-*
// whose first line is the generated marker. Nothing else is ever touched.
func (d *Daemon) scanUnits() (map[string]string, error) {
	out := map[string]string{}
	entries, err := os.ReadDir(d.unitDir())
	if err != nil {
		if os.IsNotExist(err) {
			return out, os.MkdirAll(d.unitDir(), 0o755)
		}
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, units.Prefix) || !e.Type().IsRegular() ||
			!(strings.HasSuffix(name, ".timer") || strings.HasSuffix(name, ".service") || strings.HasSuffix(name, ".target")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d.unitDir(), name))
		if err != nil || !bytes.HasPrefix(b, []byte(units.GeneratedMarker+"\n")) {
			continue
		}
		out[name] = string(b)
	}
	return out, nil
}

// writeAgents writes each agent's snapshot for its runner, root-only: it
// holds the credentials the runner passes to the agent. Snapshots of
// agents no longer in the fleet are removed.
func (d *Daemon) writeAgents(agents map[string]*policy.Agent) error {
	keep := map[string]bool{}
	written := make(map[string][]byte, len(agents))
	for name, a := range agents {
		keep[name] = true
		b, err := state.EncodeSnapshot(a)
		if err != nil {
			return err
		}
		old, known := d.snapshots[name]
		if !known {
			old, _ = os.ReadFile(d.Layout.Snapshot(name))
		}
		wrote, err := d.Layout.WriteSnapshotIfChanged(name, old, b)
		if err == nil && (wrote || !known) {
			// The last good fleet, for a start when the files are broken.
			err = d.Layout.WriteLastGood(name, b)
		}
		if err != nil {
			d.snapshots = nil
			return fmt.Errorf("writing the snapshot of agent %s: %w", name, err)
		}
		written[name] = b
	}
	d.snapshots = written
	if d.snapshotNames == nil || !sameKeys(d.snapshotNames, keep) {
		d.Layout.RemoveSnapshotsExcept(keep)
		d.Layout.RemoveLastGoodExcept(keep)
	}
	d.snapshotNames = keep
	return nil
}

func sameKeys(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func (d *Daemon) signalReloaded(ok bool, msg string) {
	if d.Signals != nil {
		d.Signals.Reloaded(ok, msg)
	}
}

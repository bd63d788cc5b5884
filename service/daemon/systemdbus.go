package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// D-Bus names of systemd's manager.
const (
	systemdDest    = "org.freedesktop.systemd1"
	systemdPath    = dbus.ObjectPath("/org/freedesktop/systemd1")
	systemdManager = "org.freedesktop.systemd1.Manager"
)

// SystemdConn talks to systemd over the system bus. It hears only about
// the jobs it made: before each call that makes a job it asks the bus for
// JobRemoved signals of that one unit (a match on the signal's unit
// argument), and drops the match when the job is done. So the daemon
// pays nothing for other units' activity, however busy the host is.
type SystemdConn struct {
	conn *dbus.Conn
	mgr  dbus.BusObject

	mu      sync.Mutex
	waiters map[dbus.ObjectPath]chan string // job → its result
	early   map[dbus.ObjectPath]string      // results heard before their waiter
	signals chan *dbus.Signal
	done    chan struct{}
	// owner is systemd's unique name on the bus: every local user may
	// send signals, and one sent to this connection passes any match
	// rule, so only the owner's JobRemoved is systemd's word.
	owner string
}

// busDaemon is the bus itself, the sender of NameOwnerChanged.
const busDaemon = "org.freedesktop.DBus"

// ConnectSystemd connects to systemd's manager through the system bus.
func ConnectSystemd(ctx context.Context) (*SystemdConn, error) {
	conn, err := dbus.ConnectSystemBus(dbus.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("connecting to the system bus: %w (is this host booted with systemd?)", err)
	}
	s := &SystemdConn{
		conn: conn, mgr: conn.Object(systemdDest, systemdPath),
		waiters: map[dbus.ObjectPath]chan string{}, early: map[dbus.ObjectPath]string{},
		signals: make(chan *dbus.Signal, 64), done: make(chan struct{}),
	}
	conn.Signal(s.signals)
	// systemd's name changes hands when it re-executes: follow it.
	if err := conn.AddMatchSignalContext(ctx, dbus.WithMatchSender(busDaemon), dbus.WithMatchInterface(busDaemon),
		dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, systemdDest)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("following %s on the system bus: %w", systemdDest, err)
	}
	// Asked after the subscription, so that a change in between is
	// heard; none yet (systemd not on the bus so early) is heard as it
	// comes.
	conn.BusObject().CallWithContext(ctx, busDaemon+".GetNameOwner", 0, systemdDest).Store(&s.owner)
	go s.dispatch()
	return s, nil
}

// Lost is closed when the connection to the bus is gone (dbus restarted).
func (s *SystemdConn) Lost() <-chan struct{} { return s.conn.Context().Done() }

// Close closes the connection.
func (s *SystemdConn) Close() {
	s.conn.Close()
	close(s.done)
}

// dispatch hands each JobRemoved signal to the job's waiter.
func (s *SystemdConn) dispatch() {
	for {
		select {
		case <-s.done:
			return
		case sig, ok := <-s.signals:
			if !ok {
				return
			}
			if sig.Name == busDaemon+".NameOwnerChanged" && sig.Sender == busDaemon && len(sig.Body) == 3 && sig.Body[0] == systemdDest {
				owner, _ := sig.Body[2].(string)
				s.mu.Lock()
				s.owner = owner
				s.mu.Unlock()
				continue
			}
			s.mu.Lock()
			fromSystemd := s.owner != "" && sig.Sender == s.owner
			s.mu.Unlock()
			if !fromSystemd || sig.Name != systemdManager+".JobRemoved" || len(sig.Body) < 4 {
				continue
			}
			job, _ := sig.Body[1].(dbus.ObjectPath)
			result, _ := sig.Body[3].(string)
			s.mu.Lock()
			if w, ok := s.waiters[job]; ok {
				w <- result
				delete(s.waiters, job)
			} else {
				if len(s.early) > 256 {
					// Jobs of our units that others made: nobody waits.
					clear(s.early)
				}
				s.early[job] = result
			}
			s.mu.Unlock()
		}
	}
}

func jobMatch(unit string) []dbus.MatchOption {
	return []dbus.MatchOption{dbus.WithMatchSender(systemdDest), dbus.WithMatchInterface(systemdManager),
		dbus.WithMatchMember("JobRemoved"), dbus.WithMatchArg(2, unit)}
}

// runJob makes a job for unit with call and waits until systemd says it
// is done.
func (s *SystemdConn) runJob(ctx context.Context, unit, verb string, call func() (dbus.ObjectPath, error)) error {
	r, err := s.jobResult(ctx, unit, verb, call)
	if err == nil && r != "done" {
		return fmt.Errorf("%s %s: systemd says %q (see systemctl status %s)", verb, unit, r, unit)
	}
	return err
}

// jobResult makes a job for unit with call and returns systemd's result
// for it when it is done: "done", "failed", "timeout", "canceled", ...
func (s *SystemdConn) jobResult(ctx context.Context, unit, verb string, call func() (dbus.ObjectPath, error)) (string, error) {
	match := jobMatch(unit)
	if err := s.conn.AddMatchSignalContext(ctx, match...); err != nil {
		return "", fmt.Errorf("%s %s: %w", verb, unit, err)
	}
	defer s.conn.RemoveMatchSignalContext(context.WithoutCancel(ctx), match...)
	job, err := call()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", verb, unit, err)
	}
	ch := make(chan string, 1)
	s.mu.Lock()
	if r, ok := s.early[job]; ok {
		delete(s.early, job)
		ch <- r
	} else {
		s.waiters[job] = ch
	}
	s.mu.Unlock()
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		s.mu.Lock()
		delete(s.waiters, job)
		s.mu.Unlock()
		return "", ctx.Err()
	}
}

// Reload implements Systemd: systemd answers when the reload is done.
func (s *SystemdConn) Reload(ctx context.Context) error {
	return s.mgr.CallWithContext(ctx, systemdManager+".Reload", 0).Err
}

func (s *SystemdConn) unitJob(ctx context.Context, method, unit, verb string) error {
	return s.runJob(ctx, unit, verb, func() (dbus.ObjectPath, error) {
		var job dbus.ObjectPath
		err := s.mgr.CallWithContext(ctx, systemdManager+"."+method, 0, unit, "replace").Store(&job)
		return job, err
	})
}

// Start implements Systemd.
func (s *SystemdConn) Start(ctx context.Context, unit string) error {
	return s.unitJob(ctx, "StartUnit", unit, "start")
}

// Stop implements Systemd.
func (s *SystemdConn) Stop(ctx context.Context, unit string) error {
	return s.unitJob(ctx, "StopUnit", unit, "stop")
}

// StartTransient implements Systemd.
func (s *SystemdConn) StartTransient(ctx context.Context, unit string, props []sd.Property) error {
	return s.runJob(ctx, unit, "start", s.startTransient(ctx, unit, props))
}

// startTransient is the StartTransientUnit call of unit with props, for
// runJob or jobResult to make and wait for.
func (s *SystemdConn) startTransient(ctx context.Context, unit string, props []sd.Property) func() (dbus.ObjectPath, error) {
	return func() (dbus.ObjectPath, error) {
		var job dbus.ObjectPath
		aux := []struct {
			Name  string
			Props []sd.Property
		}{}
		err := s.mgr.CallWithContext(ctx, systemdManager+".StartTransientUnit", 0, unit, "fail", props, aux).Store(&job)
		return job, err
	}
}

// RunTransient implements HookUnits: it starts a transient oneshot and
// returns systemd's result for its start job once the unit has run.
func (s *SystemdConn) RunTransient(ctx context.Context, unit string, props []sd.Property) (string, error) {
	return s.jobResult(ctx, unit, "start", s.startTransient(ctx, unit, props))
}

// UnitResult implements HookUnits.
func (s *SystemdConn) UnitResult(ctx context.Context, unit string) (UnitResult, error) {
	var r UnitResult
	var uprops, sprops map[string]dbus.Variant
	obj := s.unitObject(unit)
	if err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.GetAll", 0, "org.freedesktop.systemd1.Unit").Store(&uprops); err != nil {
		return r, err
	}
	r.LoadState, _ = uprops["LoadState"].Value().(string)
	r.ActiveState, _ = uprops["ActiveState"].Value().(string)
	if r.LoadState != "loaded" {
		return r, nil
	}
	if err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.GetAll", 0, "org.freedesktop.systemd1.Service").Store(&sprops); err != nil {
		return r, err
	}
	r.Result, _ = sprops["Result"].Value().(string)
	r.ExitCode, _ = sprops["ExecMainCode"].Value().(int32)
	r.ExitStatus, _ = sprops["ExecMainStatus"].Value().(int32)
	return r, nil
}

// ResetFailed implements HookUnits.
func (s *SystemdConn) ResetFailed(ctx context.Context, unit string) error {
	return s.mgr.CallWithContext(ctx, systemdManager+".ResetFailedUnit", 0, unit).Err
}

// unitStatus is one row of ListUnitsByPatterns.
type unitStatus struct {
	Name, Description, LoadState, ActiveState, SubState, Following string
	Path                                                           dbus.ObjectPath
	JobID                                                          uint32
	JobType                                                        string
	JobPath                                                        dbus.ObjectPath
}

// Units implements Systemd.
func (s *SystemdConn) Units(ctx context.Context, patterns ...string) ([]UnitState, error) {
	var us []unitStatus
	states := []string{"active", "activating", "deactivating", "reloading"}
	if err := s.mgr.CallWithContext(ctx, systemdManager+".ListUnitsByPatterns", 0, states, patterns).Store(&us); err != nil {
		return nil, err
	}
	out := make([]UnitState, len(us))
	for i, u := range us {
		out[i] = UnitState{Name: u.Name, ActiveState: u.ActiveState}
	}
	return out, nil
}

// unitObject is the D-Bus object of a unit: its path is the unit's name
// escaped as systemd does (every byte but [A-Za-z0-9] as _xx).
func (s *SystemdConn) unitObject(unit string) dbus.BusObject {
	const hex = "0123456789abcdef"
	b := []byte("/org/freedesktop/systemd1/unit/")
	for i := 0; i < len(unit); i++ {
		c := unit[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b = append(b, c)
			continue
		}
		b = append(b, '_', hex[c>>4], hex[c&15])
	}
	return s.conn.Object(systemdDest, dbus.ObjectPath(b))
}

func (s *SystemdConn) property(ctx context.Context, unit, iface, name string) (dbus.Variant, error) {
	var v dbus.Variant
	err := s.unitObject(unit).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, iface, name).Store(&v)
	return v, err
}

// Timer implements Systemd.
func (s *SystemdConn) Timer(ctx context.Context, unit string) (next, last time.Time, err error) {
	var props map[string]dbus.Variant
	if err := s.unitObject(unit).CallWithContext(ctx, "org.freedesktop.DBus.Properties.GetAll", 0, "org.freedesktop.systemd1.Timer").Store(&props); err != nil {
		return next, last, err
	}
	next = usec(props["NextElapseUSecRealtime"])
	if mono := usec(props["NextElapseUSecMonotonic"]); next.IsZero() && !mono.IsZero() {
		// An interval timer elapses on the monotonic clock.
		next = time.Now().Add(time.Duration(mono.UnixMicro()-monotonicUsec()) * time.Microsecond)
	}
	return next, usec(props["LastTriggerUSec"]), nil
}

// Invocation implements Systemd.
func (s *SystemdConn) Invocation(ctx context.Context, unit string) (string, error) {
	v, err := s.property(ctx, unit, "org.freedesktop.systemd1.Unit", "InvocationID")
	if err != nil {
		return "", err
	}
	id, ok := v.Value().([]byte)
	if !ok {
		return "", errors.New("InvocationID is not a byte array")
	}
	return fmt.Sprintf("%x", id), nil
}

func usec(v any) time.Time {
	switch u := v.(type) {
	case uint64:
		if u != 0 && u != ^uint64(0) {
			return time.UnixMicro(int64(u))
		}
	case dbus.Variant:
		return usec(u.Value())
	}
	return time.Time{}
}

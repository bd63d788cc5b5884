package daemon

import (
	"context"
	"fmt"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// Systemd is what the daemon asks of systemd's manager. *SystemdConn is
// the real one, over the system bus.
type Systemd interface {
	// Reload is one daemon-reload: systemd rereads every unit file.
	Reload(ctx context.Context) error
	// Start and Stop start or stop a unit and wait until systemd's job
	// for it is done.
	Start(ctx context.Context, unit string) error
	Stop(ctx context.Context, unit string) error
	// StartTransient creates and starts a transient unit.
	StartTransient(ctx context.Context, unit string, props []sd.Property) error
	// Units lists the active units (running, starting or stopping) whose
	// names match the glob patterns. Asking systemd to filter by state
	// keeps this cheap with thousands of schedules loaded.
	Units(ctx context.Context, patterns ...string) ([]UnitState, error)
	// Timer reports when a timer elapses next and last did.
	Timer(ctx context.Context, unit string) (next, last time.Time, err error)
	// Invocation is the InvocationID of a unit's current or last run.
	Invocation(ctx context.Context, unit string) (string, error)
}

// UnitState is one unit as systemd sees it.
type UnitState struct {
	Name        string
	ActiveState string // active, activating, deactivating, inactive, failed
}

// Active reports whether the unit runs or is about to.
func (u UnitState) Active() bool {
	return u.ActiveState == "active" || u.ActiveState == "activating" || u.ActiveState == "deactivating" || u.ActiveState == "reloading"
}

// SystemdConn talks to systemd over D-Bus.
type SystemdConn struct{ c *sd.Conn }

// ConnectSystemd connects to the system manager (through the system bus,
// or its private socket when the bus is not up yet).
func ConnectSystemd(ctx context.Context) (*SystemdConn, error) {
	c, err := sd.NewWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to systemd over D-Bus: %w (is this host booted with systemd?)", err)
	}
	return &SystemdConn{c: c}, nil
}

// Close closes the connection.
func (s *SystemdConn) Close() { s.c.Close() }

// Reload implements Systemd.
func (s *SystemdConn) Reload(ctx context.Context) error { return s.c.ReloadContext(ctx) }

// Start implements Systemd.
func (s *SystemdConn) Start(ctx context.Context, unit string) error {
	return waitJob(ctx, unit, "start", func(ch chan<- string) (int, error) {
		return s.c.StartUnitContext(ctx, unit, "replace", ch)
	})
}

// Stop implements Systemd.
func (s *SystemdConn) Stop(ctx context.Context, unit string) error {
	return waitJob(ctx, unit, "stop", func(ch chan<- string) (int, error) {
		return s.c.StopUnitContext(ctx, unit, "replace", ch)
	})
}

// StartTransient implements Systemd.
func (s *SystemdConn) StartTransient(ctx context.Context, unit string, props []sd.Property) error {
	return waitJob(ctx, unit, "start", func(ch chan<- string) (int, error) {
		return s.c.StartTransientUnitContext(ctx, unit, "fail", props, ch)
	})
}

func waitJob(ctx context.Context, unit, verb string, call func(chan<- string) (int, error)) error {
	ch := make(chan string, 1)
	if _, err := call(ch); err != nil {
		return fmt.Errorf("%s %s: %w", verb, unit, err)
	}
	select {
	case res := <-ch:
		if res != "done" {
			return fmt.Errorf("%s %s: systemd says %q (see systemctl status %s)", verb, unit, res, unit)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Units implements Systemd.
func (s *SystemdConn) Units(ctx context.Context, patterns ...string) ([]UnitState, error) {
	us, err := s.c.ListUnitsByPatternsContext(ctx, []string{"active", "activating", "deactivating", "reloading"}, patterns)
	if err != nil {
		return nil, err
	}
	out := make([]UnitState, len(us))
	for i, u := range us {
		out[i] = UnitState{Name: u.Name, ActiveState: u.ActiveState}
	}
	return out, nil
}

// Timer implements Systemd.
func (s *SystemdConn) Timer(ctx context.Context, unit string) (next, last time.Time, err error) {
	p, err := s.c.GetUnitTypePropertiesContext(ctx, unit, "Timer")
	if err != nil {
		return next, last, err
	}
	next = usec(p["NextElapseUSecRealtime"])
	if mono := usec(p["NextElapseUSecMonotonic"]); next.IsZero() && !mono.IsZero() {
		// An interval timer elapses on the monotonic clock.
		next = time.Now().Add(time.Duration(mono.UnixMicro()-monotonicUsec()) * time.Microsecond)
	}
	return next, usec(p["LastTriggerUSec"]), nil
}

// Invocation implements Systemd.
func (s *SystemdConn) Invocation(ctx context.Context, unit string) (string, error) {
	p, err := s.c.GetUnitPropertyContext(ctx, unit, "InvocationID")
	if err != nil {
		return "", err
	}
	id, _ := p.Value.Value().([]byte)
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

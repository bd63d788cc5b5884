package daemon

import (
	"context"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"

	"github.com/herdctl/herdctl/state"
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
	return state.UnitActive(u.ActiveState)
}

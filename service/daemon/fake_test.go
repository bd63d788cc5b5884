package daemon

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"

	"github.com/herdctl/herdctl/units"
)

// fakeSystemd records what the daemon asks and holds unit states.
type fakeSystemd struct {
	mu      sync.Mutex
	reloads int
	// reloadFailures is how many daemon-reloads fail from now on.
	reloadFailures int
	unitDir        string // where the target's file is read
	started        []string
	stopped        []string
	transient      map[string][]sd.Property
	state          map[string]string // unit → ActiveState
	invoc          map[string]string
}

func newFakeSystemd() *fakeSystemd {
	return &fakeSystemd{transient: map[string][]sd.Property{}, state: map[string]string{}, invoc: map[string]string{}}
}

func (f *fakeSystemd) Reload(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reloadFailures > 0 {
		f.reloadFailures--
		return errors.New("Connection timed out")
	}
	f.reloads++
	return nil
}

func (f *fakeSystemd) Start(_ context.Context, u string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u == units.TimersTarget {
		// One transaction starts every wanted timer not yet running.
		b, _ := os.ReadFile(filepath.Join(f.unitDir, u))
		for _, l := range strings.Split(string(b), "\n") {
			if t, ok := strings.CutPrefix(l, "Wants="); ok && f.state[t] != "active" {
				f.started = append(f.started, t)
				f.state[t] = "active"
			}
		}
		f.state[u] = "active"
		return nil
	}
	f.started = append(f.started, u)
	f.state[u] = "active"
	return nil
}

func (f *fakeSystemd) Stop(_ context.Context, u string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = append(f.stopped, u)
	f.state[u] = "inactive"
	return nil
}

func (f *fakeSystemd) StartTransient(_ context.Context, u string, p []sd.Property) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.transient[u] = p
	f.state[u] = "active"
	return nil
}

func (f *fakeSystemd) Units(_ context.Context, patterns ...string) ([]UnitState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []UnitState
	for u, s := range f.state {
		if !(UnitState{ActiveState: s}).Active() {
			continue
		}
		for _, p := range patterns {
			if ok, _ := path.Match(p, u); ok {
				out = append(out, UnitState{Name: u, ActiveState: s})
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeSystemd) Timer(context.Context, string) (time.Time, time.Time, error) {
	return time.Unix(2_000_000_000, 0), time.Time{}, nil
}

func (f *fakeSystemd) Invocation(_ context.Context, u string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.invoc[u], nil
}

func (f *fakeSystemd) set(u, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state[u] = state
}

// take returns and clears what was recorded.
func (f *fakeSystemd) take() (reloads int, started, stopped []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	reloads, started, stopped = f.reloads, f.started, f.stopped
	f.reloads, f.started, f.stopped = 0, nil, nil
	sort.Strings(started)
	sort.Strings(stopped)
	return
}

// failReloads makes the next n daemon-reloads fail.
func (f *fakeSystemd) failReloads(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reloadFailures = n
}

package daemon

import (
	"context"
	"os"
	"sort"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

// SetEnabled disables an agent (its timers stop, triggers are refused) or
// enables it again. The choice is kept in the agent's state directory:
// it survives reloads, restarts and reboots. Running jobs go on.
func (d *Daemon) SetEnabled(ctx context.Context, agent string, enabled bool) error {
	d.apply.Lock()
	defer d.apply.Unlock()
	d.mu.Lock()
	a := d.agents[agent]
	fleetName, broken := d.fleetName, d.broken
	agents := make([]*policy.Agent, 0, len(d.agents))
	for _, x := range d.agents {
		agents = append(agents, x)
	}
	d.mu.Unlock()
	if a == nil {
		return errorf(ErrNotFound, "no agent %q in the fleet: list them with herdctlctl agents", agent)
	}
	marker := d.Layout.AgentDisabled(agent)
	if enabled {
		if err := os.Remove(marker); err != nil && !os.IsNotExist(err) {
			return err
		}
	} else {
		if err := os.MkdirAll(d.Layout.AgentDir(agent), 0o755); err != nil {
			return err
		}
		if err := state.WriteFileAtomic(marker, []byte("disabled with herdctlctl disable\n"), 0o644); err != nil {
			return err
		}
	}
	sort.Slice(agents, func(i, j int) bool { return agents[i].Name < agents[j].Name })
	if err := d.applyFleet(ctx, fleetName, agents, broken); err != nil {
		return err
	}
	d.Log.Info("agent "+map[bool]string{true: "enabled", false: "disabled"}[enabled], zap.String("agent", agent))
	return nil
}

// isDisabled reports whether the operator disabled agent.
func (d *Daemon) isDisabled(agent string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.disabled[agent]
}

package daemon

import (
	"go.uber.org/zap"

	"github.com/herdctl/herdctl/policy"
)

// preflight checks the host for a loaded fleet (policy.Preflight), logs
// each finding as a warning and keeps them for status. A finding never
// stops a fleet: it names what would make jobs fail or weaken the
// sandbox, and what to do.
func (d *Daemon) preflight(f *policy.Fleet) {
	w := policy.Preflight(f.Config, f.Agents, d.policyOptions())
	for _, e := range w {
		d.Log.Warn(e.Error(), zap.String("config_file", e.File), zap.Int("config_line", e.Line),
			zap.Int("config_column", e.Col), zap.String("config_field", e.Field))
	}
	d.mu.Lock()
	d.warnings = w
	d.mu.Unlock()
}

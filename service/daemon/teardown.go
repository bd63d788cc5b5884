package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/units"
)

// Teardown undoes what herdctl put into systemd: timers and job units are
// stopped (running jobs end as cancelled) and the generated units are
// removed with one daemon-reload. The package's removal runs it (herdctl
// teardown, which then has the runner remove every container left).
func (d *Daemon) Teardown(ctx context.Context) error {
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	var errs []error
	us, err := d.Systemd.Units(ctx, units.Prefix+"*.timer", units.Prefix+"*.service", units.TimersTarget)
	if err != nil {
		return fmt.Errorf("asking systemd for herdctl's units: %w", err)
	}
	var timers, services []string
	for _, u := range us {
		if !u.Active() {
			continue
		}
		if strings.HasSuffix(u.Name, ".timer") || u.Name == units.TimersTarget {
			timers = append(timers, u.Name)
		} else {
			services = append(services, u.Name)
		}
	}
	errs = append(errs, d.each(ctx, timers, d.Systemd.Stop)...)
	errs = append(errs, d.each(ctx, services, d.Systemd.Stop)...)
	have, err := d.scanUnits()
	if err != nil {
		errs = append(errs, err)
	}
	for name := range have {
		if err := os.Remove(filepath.Join(d.unitDir(), name)); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	if len(have) > 0 {
		if err := d.Systemd.Reload(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	d.Log.Info("torn down", zap.Int("timers_stopped", len(timers)), zap.Int("jobs_stopped", len(services)),
		zap.Int("units_removed", len(have)))
	return errors.Join(errs...)
}

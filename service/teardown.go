package service

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

// Teardown undoes everything herdctl put on the host besides its files
// and state: timers and job units are stopped (running jobs end as
// cancelled), the generated units are removed with one daemon-reload, and
// every container left in herdctl's namespace is deleted. The package's
// removal runs it (herdctl teardown) after stopping herdctl.service.
func (d *Daemon) Teardown(ctx context.Context) error {
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	var errs []error
	us, err := d.Systemd.Units(ctx, units.Prefix+"*.timer", units.Prefix+"*.service")
	if err != nil {
		return fmt.Errorf("asking systemd for herdctl's units: %w", err)
	}
	var timers, services []string
	for _, u := range us {
		if !u.Active() {
			continue
		}
		if strings.HasSuffix(u.Name, ".timer") {
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
	removed := 0
	if d.Containers != nil {
		ctrs, err := d.Containers.List(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("listing containers: %w", err))
		}
		for _, c := range ctrs {
			if err := d.Containers.Remove(ctx, c.ID); err != nil {
				errs = append(errs, err)
				continue
			}
			removed++
		}
	}
	d.Log.Info("torn down", zap.Int("timers_stopped", len(timers)), zap.Int("jobs_stopped", len(services)),
		zap.Int("units_removed", len(have)), zap.Int("containers_removed", removed))
	return errors.Join(errs...)
}

package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/zap"
)

// Notify sends a state to systemd (sd_notify); without NOTIFY_SOCKET it
// does nothing.
func Notify(state string) { daemon.SdNotify(false, state) }

// Serve runs the started daemon until ctx ends: it follows the job
// records, reloads when told to (SIGHUP), pets the watchdog, keeps
// STATUS= current and starts queued jobs. READY=1 is sent on entry:
// Start has loaded the fleet and started its timers by then.
func (d *Daemon) Serve(ctx context.Context, reload <-chan struct{}, notify func(string)) error {
	if notify == nil {
		notify = func(string) {}
	}
	watchErr := make(chan error, 1)
	go func() { watchErr <- d.watchJobs(ctx) }()
	go d.runHooks(ctx)

	every := 10 * time.Second
	wd, _ := daemon.SdWatchdogEnabled(false)
	if wd > 0 && wd/2 < every {
		every = wd / 2
	}
	notify("READY=1\nSTATUS=" + d.statusLine(ctx))
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			notify("STOPPING=1\nSTATUS=stopping; running jobs go on")
			d.Log.Info("stopping: timers stop with herdctl.service, running jobs go on")
			return nil
		case err := <-watchErr:
			return err
		case <-reload:
			// Off this loop, which pets the watchdog: reading the files
			// is bounded (loadFleet), but must never stall it.
			go func() {
				notify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", monotonicUsec()))
				if err := d.Reload(ctx); err != nil {
					d.Log.Error("reload failed", zap.Error(err))
				}
				notify("READY=1\nSTATUS=" + d.statusLine(ctx))
			}()
		case <-tick.C:
			if wd > 0 {
				notify("WATCHDOG=1")
			}
			d.startQueued(ctx)
			d.sweepHooks(ctx)
			d.retryPendingReload(ctx)
			notify("STATUS=" + d.statusLine(ctx))
		}
	}
}

func (d *Daemon) statusLine(ctx context.Context) string {
	st, err := d.Status(ctx)
	if err != nil {
		return "cannot ask systemd: " + err.Error()
	}
	s := fmt.Sprintf("%d agents, %d timers, %d jobs running", st.Agents, st.Timers, st.RunningJobs)
	if st.ReloadError != "" {
		s += "; last reload refused (herdctlctl status shows why)"
	}
	if n := len(st.BrokenAgents); n > 0 {
		s += fmt.Sprintf("; %d agents left out for errors in their files (herdctlctl status shows them)", n)
	}
	return s
}

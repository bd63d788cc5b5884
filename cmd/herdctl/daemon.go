package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/godbus/dbus/v5"
	"go.uber.org/zap"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/daemon"
	"github.com/herdctl/herdctl/state"
)

func runDaemon(args []string) error {
	fs := cli.NewFlagSet("daemon", "herdctl daemon [OPTIONS]",
		`Run the herdctl daemon in the foreground: what herdctl.service starts.
It loads and validates the fleet file, closes job records and removes
containers an earlier run left behind, writes a timer and a job service for
every enabled schedule into the unit directory (one daemon-reload), starts
the timers, and serves the D-Bus API dev.herdctl.Manager1 that herdctlctl(1)
uses. It tells systemd READY=1 when all that is done (Type=notify), keeps
STATUS= current, and pets the watchdog when WatchdogSec= is set.

A reload (systemctl reload herdctl, herdctlctl reload, or SIGHUP) rereads
the fleet: when the fleet's own files are invalid it is refused with every
error logged as file:line and the running fleet stays exactly as it was;
otherwise it is applied as a difference, leaving out any agent whose file
is broken (its timers stop until the file is fixed). Running jobs are never
touched. When the fleet's files are broken at start, the daemon runs the
last good fleet (from /var/lib/herdctl/lastgood) and says so. SIGTERM stops
the daemon; its timers stop with it (PartOf=herdctl.service) but running
jobs go on to their end.
Exit status: 0 on a clean stop, 1 on a failure (never for the fleet's
configuration).

Example:
  herdctl daemon --config /etc/herdctl/herdctl.toml`)
	o := daemonFlags(fs)
	group := fs.String("group", daemon.DefaultGroup, "group whose members may trigger, cancel and reload")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	log := daemon.NewLogger()
	defer log.Sync()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	d, closeAll, err := o.daemon(ctx, log)
	if err != nil {
		return err
	}
	defer closeAll()
	cfg := &o.config
	if err := d.Start(ctx); err != nil {
		return err
	}
	// The system bus, or DBUS_SYSTEM_BUS_ADDRESS when set.
	conn, err := dbus.ConnectSystemBus()
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := daemon.ServeBus(conn, d, *group); err != nil {
		return err
	}
	// SIGUSR1 logs the daemon's own figures (make bench's soak reads them):
	// systemctl kill -s USR1 herdctl.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fds, _ := os.ReadDir("/proc/self/fd")
			log.Info("runtime", zap.Int("goroutines", runtime.NumGoroutine()), zap.Uint64("heap_bytes", ms.HeapAlloc),
				zap.Uint64("sys_bytes", ms.Sys), zap.Int("open_files", len(fds)))
		}
	}()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	// A lost system bus (dbus restarted) takes the bus name and systemd's
	// signals with it: the daemon exits with an error, and systemd
	// (Restart=on-failure) starts it again, which takes its name back.
	// Running jobs are units of their own and go on.
	lost := make(chan struct{})
	go func() {
		select {
		case <-conn.Context().Done():
		case <-d.Hooks.(*daemon.SystemdConn).Lost():
		case <-ctx.Done():
			return
		}
		close(lost)
		stop()
	}()
	log.Info("herdctl ready", zap.String("config_file", *cfg))
	err = d.Serve(ctx, reload, daemon.Notify)
	select {
	case <-lost:
		log.Error("the connection to the system bus was lost (dbus restarted?): exiting, to be started again by systemd")
		return errors.New("the system bus connection was lost: systemd starts herdctl again (Restart=on-failure)")
	default:
		return err
	}
}

// daemonOptions are the flags the daemon and teardown share.
type daemonOptions struct {
	config, unitDir, runner string
	layout                  state.Layout
}

func daemonFlags(fs *flag.FlagSet) *daemonOptions {
	o := &daemonOptions{layout: state.Default()}
	fs.StringVar(&o.config, "config", config.DefaultFleetFile, "the fleet file")
	fs.StringVar(&o.unitDir, "unit-dir", daemon.DefaultUnitDir, "where the generated units are written")
	fs.StringVar(&o.layout.StateDir, "state-dir", o.layout.StateDir, "herdctl's state directory (job records, agent homes)")
	fs.StringVar(&o.layout.RuntimeDir, "runtime-dir", o.layout.RuntimeDir, "herdctl's runtime directory (agent snapshots, prompts)")
	fs.StringVar(&o.runner, "runner", runnerPath(), "the job runner that job units execute")
	return o
}

// daemon connects to systemd.
func (o *daemonOptions) daemon(ctx context.Context, log *zap.Logger) (*daemon.Daemon, func(), error) {
	sd, err := daemon.ConnectSystemd(ctx)
	if err != nil {
		return nil, nil, err
	}
	d := &daemon.Daemon{
		ConfigFile: o.config, UnitDir: o.unitDir, Layout: o.layout,
		Runner: o.runner, Systemd: sd, Hooks: sd, Log: log,
		// herdctl.service has PrivateTmp=: the host's /tmp and /var/tmp
		// are not the daemon's, so no workspace may be there.
		PolicyOptions: policy.Options{PrivateTmp: true},
	}
	return d, sd.Close, nil
}

func runTeardown(args []string) error {
	fs := cli.NewFlagSet("teardown", "herdctl teardown [OPTIONS]",
		`Undo what herdctl put into systemd and containerd: stop every herdctl
timer and job unit (running jobs end as cancelled), remove the generated
units from the unit directory with one daemon-reload, and delete every
container left in containerd's herdctl namespace. Configuration, job
records and workspaces are left alone. Run it after systemctl stop herdctl;
the package's removal does. Exit status: 0, or 1 when something could not
be undone (each failure is logged).`)
	o := daemonFlags(fs)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	log := daemon.NewLogger()
	defer log.Sync()
	ctx := context.Background()
	d, closeAll, err := o.daemon(ctx, log)
	if err != nil {
		return err
	}
	terr := d.Teardown(ctx)
	closeAll()
	// Then every container, through the runner (the daemon has no
	// containerd client).
	reap := exec.Command(runnerPath(), "reap", "--all", "--state-dir="+o.layout.StateDir, "--runtime-dir="+o.layout.RuntimeDir)
	reap.Stdout, reap.Stderr = os.Stdout, os.Stderr
	if err := reap.Run(); err != nil {
		terr = errors.Join(terr, fmt.Errorf("removing herdctl's containers: %w", err))
	}
	return terr
}

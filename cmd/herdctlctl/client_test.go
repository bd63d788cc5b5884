package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

func TestDaemonError(t *testing.T) {
	dbusErr := func(name, msg string) error { return dbus.Error{Name: name, Body: []any{msg}} }
	for _, c := range []struct {
		name string
		err  error
		code int
		want string
	}{
		{"the daemon refuses a caller outside the group",
			dbusErr(api.ErrAccessDenied, "uid 1000 may not trigger a job: run it as root (sudo), or add the user to group herdctl"),
			cli.ExitDenied, "permission denied: you need to be root or in group herdctl; uid 1000 may not trigger a job: run it as root (sudo), or add the user to group herdctl"},
		{"the bus's policy refuses before the daemon sees the call",
			dbusErr(api.ErrAccessDenied, `Rejected send message, 2 matched rules; type="method_call", sender=":1.42" (uid=1000 pid=4242 comm="herdctlctl reload") interface="dev.herdctl.Manager1" member="Reload" error name="(unset)" requested_reply="0" destination="dev.herdctl.Manager1" (uid=0 pid=1 comm="herdctl daemon")`),
			cli.ExitDenied, "permission denied: you need to be root or in group herdctl; the system bus's policy for dev.herdctl.Manager1 refused Reload (just added to group herdctl? log in again, and have root run systemctl reload dbus)"},
		{"an unknown agent is a usage error",
			dbusErr(api.ErrNotFound, `no agent "x" in the fleet: list them with herdctlctl agents`),
			cli.ExitUsage, `no agent "x" in the fleet: list them with herdctlctl agents`},
		{"a refused reload keeps one error a line, sanitized",
			dbusErr(api.ErrInvalidConfig, "/a.toml:1:1: x: bad\n/b.toml:2:1: schedules.\x1b[2J\u202e: unknown field"),
			cli.ExitUsage, "/a.toml:1:1: x: bad\n/b.toml:2:1: schedules.\\x1b[2J\\u202e: unknown field"},
		{"a busy agent is exit 1",
			dbusErr(api.ErrBusy, "agent a already runs 1 job(s)"),
			cli.ExitJobFailed, "agent a already runs 1 job(s)"},
		{"an error that is not the daemon's is sanitized too",
			fmt.Errorf("field name: got \x1b]0;x\x07"),
			cli.ExitJobFailed, `field name: got \x1b]0;x\x07`},
		{"no daemon is exit 3",
			fmt.Errorf("%w (org.freedesktop.DBus.Error.ServiceUnknown)", api.ErrUnreachable),
			cli.ExitUnreachable, api.ErrUnreachable.Error() + " (org.freedesktop.DBus.Error.ServiceUnknown)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := daemonError(c.err)
			var ee *cli.ExitError
			if !errors.As(err, &ee) || ee.Code != c.code {
				t.Fatalf("daemonError(%v) = %v, want exit %d", c.err, err, c.code)
			}
			if err.Error() != c.want {
				t.Errorf("message\n got %q\nwant %q", err.Error(), c.want)
			}
			if api.ErrorName(err) != api.ErrorName(c.err) || errors.Is(c.err, api.ErrUnreachable) != errors.Is(err, api.ErrUnreachable) {
				t.Error("the original error is lost")
			}
			if strings.ContainsAny(err.Error(), "\x1b\u202e") {
				t.Errorf("an escape reaches the terminal: %q", err.Error())
			}
		})
	}
	if daemonError(nil) != nil {
		t.Error("daemonError(nil) is not nil")
	}
	mapped := cli.Exitf(cli.ExitUsage, "no agent")
	if daemonError(mapped) != mapped {
		t.Error("an error already mapped was mapped again")
	}
}

func TestJobOutcome(t *testing.T) {
	j := api.Job{ID: "20261130-100000-eeeeee", Status: api.StatusFailed, ExitReason: hostileLines}
	if got, want := jobOutcome(j), "job 20261130-100000-eeeeee failed: first line…"; got != want {
		t.Errorf("jobOutcome = %q, want %q", got, want)
	}
}

package main

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

// callTimeout bounds one call to the daemon.
const callTimeout = 60 * time.Second

// adminGroup is the group whose members may trigger, cancel and reload.
const adminGroup = api.AdminGroup

// dial connects to the daemon on the system bus (DBUS_SYSTEM_BUS_ADDRESS
// when set).
func dial() (*api.Client, error) {
	c, err := api.Dial("")
	if err != nil {
		return nil, daemonError(err)
	}
	return c, nil
}

func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), callTimeout)
}

// withClient runs f with a connected client and maps its error.
func withClient(f func(ctx context.Context, c *api.Client) error) error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := callCtx()
	defer cancel()
	return daemonError(f(ctx, c))
}

// daemonError turns an error from the daemon into herdctlctl's exit code
// and a message that says what to do. Its text is sanitized: a daemon
// error can quote what an agent wrote (a name, a field of its file).
func daemonError(err error) error {
	if err == nil {
		return nil
	}
	var ee *cli.ExitError
	if errors.As(err, &ee) {
		return err // one of ours, already mapped
	}
	if errors.Is(err, api.ErrUnreachable) {
		return &cli.ExitError{Code: cli.ExitUnreachable, Err: sanitized(err, err.Error())}
	}
	msg := api.ErrorMessage(err)
	switch api.ErrorName(err) {
	case api.ErrAccessDenied:
		return &cli.ExitError{Code: cli.ExitDenied, Err: sanitized(err, denied(msg))}
	case api.ErrInvalidArgs, api.ErrNotFound, api.ErrInvalidConfig:
		return &cli.ExitError{Code: cli.ExitUsage, Err: sanitized(err, msg)}
	case "":
		return &cli.ExitError{Code: cli.ExitJobFailed, Err: sanitized(err, err.Error())}
	}
	return &cli.ExitError{Code: cli.ExitJobFailed, Err: sanitized(err, msg)}
}

// busRefusal is how dbus-daemon words a call its policy refused, a dump
// of the message's header fields; member="..." names the method.
var busRefusal = regexp.MustCompile(`^Rejected send message.*\bmember="(\w+)"`)

// denied says what a refused caller needs, then why the daemon (or the
// bus's policy, before the daemon saw the call) refused.
func denied(reason string) string {
	if m := busRefusal.FindStringSubmatch(reason); m != nil {
		// dbus-daemon knows a group's members as they were when it last
		// read the user database.
		reason = "the system bus's policy for " + api.BusName + " refused " + m[1] +
			" (just added to group " + adminGroup + "? log in again, and have root run systemctl reload dbus)"
	}
	return "permission denied: you need to be root or in group " + adminGroup + "; " + reason
}

// safeError carries an error whose message is fit for a terminal; the
// original stays reachable for errors.Is and errors.As.
type safeError struct {
	msg string
	err error
}

func (e *safeError) Error() string { return e.msg }
func (e *safeError) Unwrap() error { return e.err }

// sanitized is err with msg, sanitized, as its message. Line breaks are
// kept: a refused reload lists one error a line.
func sanitized(err error, msg string) error { return &safeError{msg: safeText(msg), err: err} }

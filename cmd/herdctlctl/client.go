package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

// callTimeout bounds one call to the daemon.
const callTimeout = 60 * time.Second

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

// daemonError turns an error from the daemon into herdctlctl's exit code
// and a message that says what to do.
func daemonError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, api.ErrUnreachable) {
		return &cli.ExitError{Code: cli.ExitUnreachable, Err: err}
	}
	msg := errors.New(api.ErrorMessage(err))
	switch api.ErrorName(err) {
	case api.ErrAccessDenied:
		return &cli.ExitError{Code: cli.ExitDenied, Err: fmt.Errorf("permission denied: %w", msg)}
	case api.ErrInvalidArgs, api.ErrNotFound, api.ErrInvalidConfig:
		return &cli.ExitError{Code: cli.ExitUsage, Err: msg}
	case "":
		return &cli.ExitError{Code: cli.ExitJobFailed, Err: err}
	}
	return &cli.ExitError{Code: cli.ExitJobFailed, Err: msg}
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

// output prints v as JSON with --json, else calls human.
func output(asJSON bool, v any, human func()) error {
	if asJSON {
		return cli.WriteJSON(os.Stdout, v)
	}
	human()
	return nil
}

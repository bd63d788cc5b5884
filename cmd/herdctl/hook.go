package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/herdctl/herdctl/hook"
	"github.com/herdctl/herdctl/hook/webhook"
	"github.com/herdctl/herdctl/internal/cli"
)

// maxPayload bounds the job's JSON a webhook reads on stdin: the prompt
// (256 KiB at most) and the result (16 KiB) are most of it.
const maxPayload = 1 << 20

func runHook(args []string) error {
	fs := cli.NewFlagSet("hook", "herdctl hook webhook",
		`Send one webhook: what the daemon's webhook units run, never by hand. It
reads the webhook's settings (URL, secret, timeout, retries, egress_private)
from the credential $CREDENTIALS_DIRECTORY/webhook and the job as JSON on
stdin, POSTs that JSON to the URL (X-Herdctl-Signature: sha256=HMAC of the
body, when the hook has a secret), and writes its result as JSON on stdout
(a root-only file the daemon reads). The destination must be a public
address or in the hook's egress_private ranges, as for an agent's egress.
Exit status: 0 when the webhook was delivered (HTTP 2xx), 1 when not.`)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) != "webhook" {
		return cli.Exitf(cli.ExitUsage, "usage: herdctl hook webhook (run by the daemon's webhook units)")
	}
	dir := os.Getenv("CREDENTIALS_DIRECTORY")
	if dir == "" {
		return cli.Exitf(cli.ExitUsage, "no $CREDENTIALS_DIRECTORY: herdctl hook webhook runs in a webhook unit that herdctl.service starts, with its settings as a credential")
	}
	b, err := os.ReadFile(filepath.Join(dir, hook.SpecCredential))
	if err != nil {
		return fmt.Errorf("reading the webhook's settings: %w", err)
	}
	var spec hook.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("the webhook's settings: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(os.Stdin, maxPayload+1))
	if err != nil {
		return fmt.Errorf("reading the job on stdin: %w", err)
	}
	if len(body) > maxPayload {
		return fmt.Errorf("the job on stdin is more than %d bytes", maxPayload)
	}
	// Within the unit's TimeoutStartSec= (the same deadline), so that the
	// result is written before systemd would stop the unit.
	ctx, cancel := context.WithTimeout(context.Background(), spec.Deadline()-5*time.Second)
	defer cancel()
	res := (&webhook.Sender{}).Send(ctx, spec, body)
	out, _ := json.Marshal(res)
	os.Stdout.Write(append(out, '\n'))
	if !res.OK {
		fmt.Fprintf(os.Stderr, "webhook not delivered after %d attempt(s): %s\n", res.Attempts, res.Reason)
		return &cli.ExitError{Code: cli.ExitJobFailed, Err: cli.ErrSilent}
	}
	fmt.Fprintf(os.Stderr, "webhook delivered: HTTP %d after %d attempt(s) in %d ms\n", res.HTTPStatus, res.Attempts, res.DurationMS)
	return nil
}

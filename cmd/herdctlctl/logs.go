package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// logsOptions are logs's flags.
type logsOptions struct {
	follow bool
	lines  int
	json   bool
}

func logsFlags() (*flag.FlagSet, *logsOptions) {
	fs := newFlagSet("logs", "herdctlctl logs [-f] [-n N] [--json] JOB|AGENT",
		`Show a job's or an agent's journal entries: one line per Claude Code event
(assistant text, tool calls, results), the job's start and end, stderr
and the daemon's entries about the agent; a message of several lines goes
on indented under its first. A job id selects HERDCTL_JOB=ID, anything
else HERDCTL_AGENT=NAME; the daemon is asked whether the job or agent
exists (exit 2 if not). It runs journalctl(1), so the same rights apply:
root, or groups adm or systemd-journal.
Equivalent: journalctl HERDCTL_JOB=ID -o json.

Example:
  herdctlctl logs gardener -n 50
  herdctlctl logs -f 20261130-020031-4fa9c2`)
	var o logsOptions
	fs.BoolVar(&o.follow, "f", false, "follow: keep printing new entries")
	fs.IntVar(&o.lines, "n", -1, "show the last `N` entries (default: all of a job, the last 100 of an agent)")
	fs.BoolVar(&o.json, "json", false, "print journal entries as JSON lines, as journalctl -o json does")
	return fs, &o
}

func runLogs(c *ctl, args []string) error {
	fs, o := logsFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "logs takes one JOB id or AGENT name")
	}
	arg := fs.Arg(0)
	if err := c.checkExists(arg); err != nil {
		return err
	}
	match := "HERDCTL_AGENT=" + arg
	lines := o.lines
	if state.IsJobID(arg) {
		match = "HERDCTL_JOB=" + arg
	} else if lines < 0 {
		lines = 100
	}
	jargs := append(journalArgs(), match)
	if lines >= 0 {
		jargs = append(jargs, "--lines="+strconv.Itoa(lines))
	}
	if o.follow {
		jargs = append(jargs, "-f")
	}
	ctx, stop := interruptible()
	defer stop()
	_, _, err := journal(ctx, jargs, c.entryPrinter(o.json))
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// checkExists asks the daemon whether the job or agent arg names exists:
// journalctl would print nothing for a typo. An agent left out of the
// fleet for errors in its file exists. When the daemon cannot be asked
// the journal is read anyway; it may be why the operator looks.
func (c *ctl) checkExists(arg string) error {
	cl, err := api.Dial("")
	if err == nil {
		defer cl.Close()
		ctx, cancel := callCtx()
		defer cancel()
		if state.IsJobID(arg) {
			_, err = cl.Job(ctx, arg)
		} else if _, err = cl.Agent(ctx, arg); api.ErrorName(err) == api.ErrNotFound {
			if broken(ctx, cl, arg) {
				return nil
			}
			return cli.Exitf(cli.ExitUsage, "%s; the entries of an agent no longer in the fleet: journalctl HERDCTL_AGENT=%s",
				safe(api.ErrorMessage(err)), safe(arg))
		}
	}
	if errors.Is(err, api.ErrUnreachable) {
		fmt.Fprintf(c.stderr, "herdctlctl: cannot check %q with the daemon; reading the journal anyway\n", safe(arg))
		return nil
	}
	return daemonError(err)
}

// broken reports whether the agent is left out of the fleet for errors.
func broken(ctx context.Context, cl *api.Client, name string) bool {
	st, err := cl.Status(ctx)
	return err == nil && slices.ContainsFunc(st.BrokenAgents, func(b api.BrokenAgent) bool { return b.Name == name })
}

// entry is one journal entry as journalctl -o json prints it.
type entry map[string]any

func (e entry) get(k string) string {
	switch v := e[k].(type) {
	case string:
		return v
	case []any: // journalctl prints non-UTF-8 values as byte arrays
		b := make([]byte, 0, len(v))
		for _, x := range v {
			if f, ok := x.(float64); ok {
				b = append(b, byte(f))
			}
		}
		return string(b)
	}
	return ""
}

// entryPrinter prints entries to c's stdout: raw with asJSON (JSON
// escapes what needs it), else readable and sanitized.
func (c *ctl) entryPrinter(asJSON bool) func(raw []byte, e entry) {
	return func(raw []byte, e entry) {
		if asJSON {
			c.stdout.Write(append(raw, '\n'))
			return
		}
		io.WriteString(c.stdout, formatEntry(c.colour, time.Local, e))
	}
}

// formatEntry is one entry as lines like journalctl's short output:
// "Nov 30 02:00:31 gardener[JOB]: message", the message's later lines
// indented under its first so that no line an agent writes can pass for
// an entry of its own. Errors are red, warnings yellow, as journalctl
// colours them.
func formatEntry(colour bool, loc *time.Location, e entry) string {
	ts := "-"
	if us, err := strconv.ParseInt(e.get("__REALTIME_TIMESTAMP"), 10, 64); err == nil {
		ts = time.UnixMicro(us).In(loc).Format("Jan 02 15:04:05")
	}
	who := e.get("HERDCTL_AGENT")
	if who == "" {
		who = orDash(e.get("SYSLOG_IDENTIFIER"))
	}
	if job := e.get("HERDCTL_JOB"); job != "" {
		who += "[" + job + "]"
	}
	code := ""
	switch e.get("PRIORITY") {
	case "0", "1", "2", "3":
		code = boldRed
	case "4":
		code = yellow
	}
	prefix := safe(ts) + " " + safe(who) + ": "
	var b strings.Builder
	for i, line := range safeLines(e.get("MESSAGE")) {
		switch {
		case i == 0:
			b.WriteString(prefix)
		case line == "":
			b.WriteByte('\n')
			continue
		default:
			b.WriteString(strings.Repeat(" ", width(prefix)))
		}
		b.WriteString(paint(colour, code, line) + "\n")
	}
	return b.String()
}

// journalArgs are what every journalctl run starts with: JSON, and
// --all, without which journalctl writes null for a field over 4096
// bytes (an agent's long answer).
func journalArgs() []string { return []string{"--no-pager", "--all", "-o", "json"} }

// journal runs journalctl with args and hands every entry to print. It
// returns the cursor of the last entry and whether a job's end entry was
// among them.
func journal(ctx context.Context, args []string, print func([]byte, entry)) (cursor string, sawEnd bool, err error) {
	cmd := exec.CommandContext(ctx, "journalctl", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", false, err
	}
	if err := cmd.Start(); err != nil {
		return "", false, fmt.Errorf("running journalctl: %w (is systemd's journalctl installed?)", err)
	}
	r := bufio.NewReaderSize(out, 1<<20)
	for {
		line, rerr := r.ReadBytes('\n')
		if len(line) > 1 {
			var e entry
			if json.Unmarshal(line, &e) == nil {
				print(bytes.TrimSuffix(line, []byte("\n")), e)
				cursor = e.get("__CURSOR")
				if e.get("MESSAGE_ID") == state.MessageIDJobFinished {
					sawEnd = true
				}
			}
		}
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				err = rerr
			}
			break
		}
	}
	if werr := cmd.Wait(); werr != nil && err == nil && ctx.Err() == nil {
		err = fmt.Errorf("journalctl: %w (reading the journal needs root, or group adm or systemd-journal)", werr)
	}
	return cursor, sawEnd, err
}

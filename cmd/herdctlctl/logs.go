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
	"path/filepath"
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
else HERDCTL_AGENT=NAME; a unique prefix of a job id names the job. The
daemon is asked whether the job or agent exists (exit 2 if not).
Jobs log into journald's namespace herdctl, read beside the main journal.
Who may read: root and group systemd-journal read both with journalctl(1)
themselves; members of group herdctl without those
groups get the same entries from the daemon (D-Bus ReadJournal), which
-f polls twice a second.
Equivalent: journalctl --namespace=+herdctl HERDCTL_JOB=ID -o json.

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
	cl, err := api.Dial("")
	if err != nil && !errors.Is(err, api.ErrUnreachable) {
		return daemonError(err)
	}
	if cl != nil {
		defer cl.Close()
	}
	q, err := c.logsTarget(cl, fs.Arg(0))
	if err != nil {
		return err
	}
	q.Lines = max(o.lines, 0)
	if q.Agent != "" && o.lines < 0 {
		q.Lines = 100
	}
	ctx, stop := interruptible()
	defer stop()
	jr := newJournalReader(cl, c.entryPrinter(o.json))
	err = jr.read(ctx, q, o.follow)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// logsTarget is the job or agent arg names, asked of the daemon (cl):
// journalctl would print nothing for a typo, and a job may be named by a
// unique prefix of its id. An agent left out of the fleet for errors in
// its file exists. When the daemon cannot be asked (cl is nil) the
// journal is read anyway; it may be why the operator looks.
func (c *ctl) logsTarget(cl *api.Client, arg string) (api.JournalQuery, error) {
	if cl == nil {
		fmt.Fprintf(c.stderr, "herdctlctl: cannot check %q with the daemon; reading the journal anyway\n", safe(arg))
		if state.IsJobID(arg) {
			return api.JournalQuery{Job: arg}, nil
		}
		return api.JournalQuery{Agent: arg}, nil
	}
	ctx, cancel := callCtx()
	defer cancel()
	if !state.IsJobID(arg) {
		_, err := cl.Agent(ctx, arg)
		if err == nil || (api.ErrorName(err) == api.ErrNotFound && broken(ctx, cl, arg)) {
			return api.JournalQuery{Agent: arg}, nil
		}
		if api.ErrorName(err) != api.ErrNotFound {
			return api.JournalQuery{}, daemonError(err)
		}
		if !state.IsJobIDPrefix(arg) {
			return api.JournalQuery{}, cli.Exitf(cli.ExitUsage, "%s; the entries of an agent no longer in the fleet: journalctl HERDCTL_AGENT=%s",
				safe(api.ErrorMessage(err)), safe(arg))
		}
	}
	j, err := cl.Job(ctx, arg)
	if err != nil {
		return api.JournalQuery{}, daemonError(err)
	}
	return api.JournalQuery{Job: j.ID}, nil
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

// journalReader reads the entries of a job or an agent: with
// journalctl when this user may read the main journal and the jobs'
// namespace (root, group systemd-journal), else from the daemon (ReadJournal, for root
// and group herdctl), which pages and is polled to follow. It hands
// every entry to print and keeps the last one's cursor, and whether a
// job's end was among them.
type journalReader struct {
	cl     *api.Client // nil: journalctl only
	direct bool
	print  func([]byte, entry)
	cursor string
	sawEnd bool
}

// followPoll is how often a reader that asks the daemon looks for new
// entries while it follows.
const followPoll = 500 * time.Millisecond

// mayReadJournal reports whether this user can read the system journal
// itself; a variable for tests.
var mayReadJournal = func() bool {
	if os.Geteuid() == 0 {
		return true
	}
	// The main journal (the daemon's entries) and the jobs' namespace
	// (MACHINE-ID.herdctl), whose files journald makes without the
	// main journal's ACL for group adm.
	for _, glob := range []string{"/*/system.journal", "/*." + state.JournalNamespace + "/system.journal"} {
		for _, dir := range []string{"/var/log/journal", "/run/log/journal"} {
			files, _ := filepath.Glob(dir + glob)
			if len(files) > 0 {
				f, err := os.Open(files[0])
				if err != nil {
					return false
				}
				f.Close()
				break
			}
		}
	}
	return true // what was found is readable: journalctl says what else is wrong
}

func newJournalReader(cl *api.Client, print func([]byte, entry)) *journalReader {
	return &journalReader{cl: cl, direct: cl == nil || mayReadJournal(), print: print}
}

// read prints q's entries after the reader's cursor (or q's last Lines
// the first time), and with follow goes on until ctx ends.
func (r *journalReader) read(ctx context.Context, q api.JournalQuery, follow bool) error {
	if r.direct {
		return r.journalctl(ctx, q, follow)
	}
	for {
		if r.cursor != "" {
			q.AfterCursor, q.Lines = r.cursor, 0
		}
		cctx, cancel := callCtx()
		p, err := r.cl.ReadJournal(cctx, q)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if api.ErrorName(err) == api.ErrAccessDenied {
				return cli.Exitf(cli.ExitDenied, "permission denied: reading the fleet's journal needs root, group %s, or group systemd-journal", adminGroup)
			}
			return daemonError(err)
		}
		for _, e := range p.Entries {
			r.entry([]byte(e))
		}
		if p.Cursor != "" {
			r.cursor = p.Cursor
		}
		if p.More {
			continue
		}
		if !follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(followPoll):
		}
	}
}

// entry hands one entry, a line of journalctl -o json, to print.
func (r *journalReader) entry(line []byte) {
	var e entry
	if json.Unmarshal(line, &e) != nil {
		return
	}
	r.print(line, e)
	if c := e.get("__CURSOR"); c != "" {
		r.cursor = c
	}
	if e.get("MESSAGE_ID") == state.MessageIDJobFinished {
		r.sawEnd = true
	}
}

// journalctl runs journalctl(1) for q.
func (r *journalReader) journalctl(ctx context.Context, q api.JournalQuery, follow bool) error {
	args := state.JournalctlArgs()
	switch {
	case r.cursor != "":
		args = append(args, "--after-cursor="+r.cursor)
	case q.Lines > 0:
		args = append(args, "--lines="+strconv.Itoa(q.Lines))
	default:
		args = append(args, "--lines=all") // -f alone would show the last 10
	}
	if follow {
		args = append(args, "-f")
	}
	if q.Job != "" {
		args = append(args, state.JournalMatch(state.FieldJob, q.Job)...)
	} else {
		args = append(args, state.JournalMatch(state.FieldAgent, q.Agent)...)
	}
	cmd := exec.CommandContext(ctx, "journalctl", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running journalctl: %w (is systemd's journalctl installed?)", err)
	}
	br := bufio.NewReaderSize(out, 1<<20)
	for {
		line, rerr := br.ReadBytes('\n')
		if line = bytes.TrimSuffix(line, []byte("\n")); len(line) > 0 {
			r.entry(line)
		}
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				err = rerr
			}
			break
		}
	}
	if werr := cmd.Wait(); werr != nil && err == nil && ctx.Err() == nil {
		err = fmt.Errorf("journalctl: %w (reading the jobs' journal namespace needs root, or group systemd-journal)", werr)
	}
	return err
}

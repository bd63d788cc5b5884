package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/state"
)

// jobIDRe matches the job ids the runner and daemon make.
var jobIDRe = regexp.MustCompile(`^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$`)

func runLogs(args []string) error {
	fs := cli.NewFlagSet("logs", "herdctlctl logs [-f] [-n N] [--json] JOB|AGENT",
		`Show a job's or an agent's journal entries: one line per Claude Code event
(assistant text, tool calls, results), the job's start and end, stderr
and the daemon's entries about the agent. A job id selects
HERDCTL_JOB=ID, anything else HERDCTL_AGENT=NAME. It runs journalctl(1),
so the same rights apply: root, or groups adm or systemd-journal.
Equivalent: journalctl HERDCTL_JOB=ID -o json.`)
	follow := fs.Bool("f", false, "follow: keep printing new entries")
	n := fs.Int("n", -1, "show the last N entries (default: all of a job, the last 100 of an agent)")
	asJSON := fs.Bool("json", false, "print journal entries as JSON lines, as journalctl -o json does")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "logs takes one JOB id or AGENT name")
	}
	match := "HERDCTL_AGENT=" + fs.Arg(0)
	lines := *n
	if jobIDRe.MatchString(fs.Arg(0)) {
		match = "HERDCTL_JOB=" + fs.Arg(0)
	} else if lines < 0 {
		lines = 100
	}
	jargs := []string{"--no-pager", "-o", "json", match}
	if lines >= 0 {
		jargs = append(jargs, "--lines="+strconv.Itoa(lines))
	}
	if *follow {
		jargs = append(jargs, "-f")
	}
	ctx, stop := interruptible()
	defer stop()
	_, _, err := journal(ctx, jargs, printer(*asJSON))
	if ctx.Err() != nil {
		return nil
	}
	return err
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

// printer prints entries as readable lines, or raw with asJSON.
func printer(asJSON bool) func(raw []byte, e entry) {
	return func(raw []byte, e entry) {
		if asJSON {
			os.Stdout.Write(append(raw, '\n'))
			return
		}
		ts := ""
		if us, err := strconv.ParseInt(e.get("__REALTIME_TIMESTAMP"), 10, 64); err == nil {
			ts = time.UnixMicro(us).Format("Jan 02 15:04:05")
		}
		who := e.get("HERDCTL_AGENT")
		if job := e.get("HERDCTL_JOB"); job != "" {
			who += "[" + job + "]"
		}
		msg := e.get("MESSAGE")
		switch e.get("PRIORITY") {
		case "0", "1", "2", "3":
			msg = paint("1;31", msg)
		case "4":
			msg = paint("33", msg)
		}
		fmt.Printf("%s %s: %s\n", ts, who, msg)
	}
}

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
				print(line[:len(line)-1], e)
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

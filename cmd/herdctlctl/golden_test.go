package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/herdctl/herdctl/service/api"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it; read the diff like code):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// sgr is the one escape sequence herdctlctl may write: a colour.
var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// checkTerminalSafe fails when out holds anything but text, line breaks
// and herdctlctl's own colours.
func checkTerminalSafe(t *testing.T, name string, out []byte) {
	t.Helper()
	plain := sgr.ReplaceAllString(string(out), "")
	if !utf8.ValidString(plain) {
		t.Errorf("%s: invalid UTF-8 reaches the terminal", name)
	}
	for i, r := range plain {
		if (r < 0x20 && r != '\n') || r == 0x7f || hidden(r) {
			t.Errorf("%s: %U at byte %d reaches the terminal", name, r, i)
			return
		}
	}
}

// printerCase is one printer with fixed data.
type printerCase struct {
	name  string
	print func(w io.Writer, colour bool) error
}

func printerCases() []printerCase {
	return []printerCase{
		{"status", func(w io.Writer, c bool) error { return printStatus(w, c, now, healthyStatus()) }},
		{"status-refused", func(w io.Writer, c bool) error { return printStatus(w, c, now, refusedStatus()) }},
		{"status-left-out", func(w io.Writer, c bool) error {
			v := refusedStatus()
			st := *v.Status
			st.ReloadError, st.Errors = "", nil
			v.Status = &st
			return printStatus(w, c, now, v)
		}},
		{"status-last-good", func(w io.Writer, c bool) error {
			v := healthyStatus()
			st := *v.Status
			st.LastGood, st.ReloadError = true, "open /etc/herdctl/herdctl.toml: permission denied"
			v.Status, v.Running, v.Failures = &st, nil, nil
			return printStatus(w, c, now, v)
		}},
		{"status-one-agent", func(w io.Writer, c bool) error {
			v := healthyStatus()
			onlyAgent(&v, "homelab")
			v.Running = nil
			return printStatus(w, c, now, v)
		}},
		{"status-disabled", func(w io.Writer, c bool) error {
			v := healthyStatus()
			v.AgentList = disabledAgents()
			return printStatus(w, c, now, v)
		}},
		{"prune", func(w io.Writer, c bool) error { return printPrune(w, now, pruneResult(false), false) }},
		{"prune-dry-quiet", func(w io.Writer, c bool) error { return printPrune(w, now, pruneResult(true), true) }},
		{"agents", func(w io.Writer, c bool) error { return printAgents(w, c, now, agents()) }},
		{"agents-disabled", func(w io.Writer, c bool) error { return printAgents(w, c, now, disabledAgents()) }},
		{"agent-operator-disabled", func(w io.Writer, c bool) error { return printAgent(w, c, now, disabledAgents()[0]) }},
		{"agents-hostile", func(w io.Writer, c bool) error { return printAgents(w, c, now, hostileAgents()) }},
		{"agents-empty", func(w io.Writer, c bool) error { return printAgents(w, c, now, nil) }},
		{"agent", func(w io.Writer, c bool) error { return printAgent(w, c, now, agents()[0]) }},
		{"agent-manual", func(w io.Writer, c bool) error { return printAgent(w, c, now, agents()[2]) }},
		{"agent-disabled", func(w io.Writer, c bool) error { return printAgent(w, c, now, agents()[1]) }},
		{"agent-hostile", func(w io.Writer, c bool) error {
			var b bytes.Buffer
			for _, a := range hostileAgents() {
				if err := printAgent(&b, c, now, a); err != nil {
					return err
				}
				b.WriteString("----\n")
			}
			_, err := w.Write(b.Bytes())
			return err
		}},
		{"jobs", func(w io.Writer, c bool) error { return printJobs(w, c, now, jobs()) }},
		{"jobs-hostile", func(w io.Writer, c bool) error { return printJobs(w, c, now, hostileJobs()) }},
		{"job", func(w io.Writer, c bool) error { return printJob(w, c, now, jobs()[1]) }},
		{"job-running", func(w io.Writer, c bool) error { return printJob(w, c, now, jobs()[0]) }},
		{"job-queued", func(w io.Writer, c bool) error { return printJob(w, c, now, jobs()[4]) }},
		{"job-hostile", func(w io.Writer, c bool) error { return printJob(w, c, now, hostileJob()) }},
		{"job-hooks", func(w io.Writer, c bool) error { return printJob(w, c, now, hooksJob()) }},
		{"sessions", func(w io.Writer, c bool) error {
			return printSessions(w, c, now, []api.Session{
				{ID: "5f0c8a4e-1d2b-4c3a-9e8f-7a6b5c4d3e2f", Agent: "gardener", FirstJob: "20261127-060000-aaaaaa", LastJob: "20261130-060000-bbbbbb",
					FirstStarted: ago(75 * time.Hour), LastStarted: ago(3 * time.Hour), Jobs: 3, Turns: 41, CostUSD: 0.4211},
				{ID: "0b08e3b8-947f-4c5a-987b-a21ad6c936b2", Agent: "gardener", FirstJob: "20261120-060000-cccccc", LastJob: "20261120-060000-cccccc",
					FirstStarted: ago(10 * 24 * time.Hour), LastStarted: ago(10 * 24 * time.Hour), Jobs: 1, Turns: 7, CostUSD: 0.05},
			})
		}},
		{"sessions-empty", func(w io.Writer, c bool) error { return printSessions(w, c, now, nil) }},
		{"cost", func(w io.Writer, c bool) error {
			return printCost(w, c, []api.CostDay{
				{Agent: "gardener", Day: "2026-11-29", Jobs: 1, Turns: 12, InputTokens: 48213, OutputTokens: 2210, CostUSD: 0.1811},
				{Agent: "homelab", Day: "2026-11-29", Jobs: 24, Turns: 310, InputTokens: 1203311, OutputTokens: 50122, CostUSD: 4.1},
				{Agent: "gardener", Day: "2026-11-30", Jobs: 1, Turns: 9, InputTokens: 30120, OutputTokens: 1502, CostUSD: 0.1203},
			})
		}},
		{"cost-empty", func(w io.Writer, c bool) error { return printCost(w, c, nil) }},
		{"validate", func(w io.Writer, c bool) error {
			return printValid(w, c, validation{File: "/etc/herdctl/herdctl.toml", Valid: true, Fleet: "home", Agents: 3, Schedules: 4})
		}},
		{"validate-errors", func(w io.Writer, c bool) error { return printConfigErrors(w, c, refusedStatus().Errors) }},
		{"reload", func(w io.Writer, c bool) error { return printReloaded(w, *healthyStatus().Status) }},
		{"logs", func(w io.Writer, c bool) error {
			for _, e := range journalEntries() {
				if _, err := io.WriteString(w, formatEntry(c, time.UTC, e)); err != nil {
					return err
				}
			}
			return nil
		}},
	}
}

// journalEntries are entries as journalctl -o json gives them, some with
// what an agent printed.
func journalEntries() []entry {
	us := func(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }
	base := func(msg any, prio string) entry {
		return entry{"__REALTIME_TIMESTAMP": us(ago(time.Hour)), "HERDCTL_AGENT": "attacker",
			"HERDCTL_JOB": "20261130-100000-eeeeee", "PRIORITY": prio, "MESSAGE": msg}
	}
	var es []entry
	es = append(es, entry{"__REALTIME_TIMESTAMP": us(ago(2 * time.Hour)), "SYSLOG_IDENTIFIER": "herdctl", "HERDCTL_AGENT": "attacker",
		"PRIORITY": "6", "MESSAGE": "job 20261130-100000-eeeeee started"})
	for _, m := range []string{hostileEscapes, hostileBidi, hostileC1, hostileHidden, hostileLine, hostileLines} {
		es = append(es, base(m, "6"))
	}
	// journalctl writes a value that is not UTF-8 as an array of bytes.
	var raw []any
	for _, b := range []byte(hostileInvalid) {
		raw = append(raw, float64(b))
	}
	es = append(es, base(raw, "4"), base("claude exited with status 1\nsee the job", "3"))
	es = append(es, entry{"__REALTIME_TIMESTAMP": us(ago(time.Hour)), "SYSLOG_IDENTIFIER": "herdctl",
		"HERDCTL_AGENT": "att\x1b[8macker", "HERDCTL_JOB": "\u202eforged", "MESSAGE": "fields are the agent's too"})
	return es
}

// TestPrinters prints every view and table with colour off and on and
// compares them with their golden files; with colour on, the columns are
// where they are without, and nothing an agent wrote reaches the
// terminal but as text.
func TestPrinters(t *testing.T) {
	for _, c := range printerCases() {
		t.Run(c.name, func(t *testing.T) {
			var plain, coloured bytes.Buffer
			if err := c.print(&plain, false); err != nil {
				t.Fatal(err)
			}
			if err := c.print(&coloured, true); err != nil {
				t.Fatal(err)
			}
			golden(t, "print/"+c.name+".txt", plain.Bytes())
			golden(t, "print/"+c.name+".colour.txt", coloured.Bytes())
			if strings.Contains(plain.String(), "\x1b") {
				t.Errorf("colour off, yet an escape sequence:\n%s", plain.String())
			}
			if got := sgr.ReplaceAllString(coloured.String(), ""); got != plain.String() {
				t.Errorf("colour moves the text:\n--- colour, codes removed\n%s\n--- no colour\n%s", got, plain.String())
			}
			checkTerminalSafe(t, c.name, plain.Bytes())
			checkTerminalSafe(t, c.name+" (colour)", coloured.Bytes())
		})
	}
}

// TestHostileTextIsShownNotObeyed: each hostile value is in the output,
// as escapes.
func TestHostileTextIsShownNotObeyed(t *testing.T) {
	var b bytes.Buffer
	if err := printJob(&b, false, now, hostileJob()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`\x1b]0;owned\x07\x1b[2J`, `\u202egpj.exe\u202c`, `\u2066safe\u2069`, `\xff\xfe`, `\xc3 rune`,
		`\u009b2J`, `ad\u200bmin\ufeff`, `\U000e0041`, `innocent\roverwritten`, `\x7fdel\x00nul`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("job view lacks %s:\n%s", want, b.String())
		}
	}
	// A forged line is indented under the real one: it cannot pass for
	// an entry or a field of its own.
	if !strings.Contains(b.String(), "\n           Nov 30 12:00:00 other-agent: a forged entry\n") {
		t.Errorf("the second line of a reason is not indented under the first:\n%s", b.String())
	}
}

// TestStatusOneAgent: status NAME keeps that agent, in the fleet or left
// out of it, and says when there is none.
func TestStatusOneAgent(t *testing.T) {
	v := refusedStatus()
	if !onlyAgent(&v, "homelab") || len(v.AgentList) != 1 || len(v.BrokenAgents) != 0 {
		t.Errorf("homelab: %d agents, %d broken", len(v.AgentList), len(v.BrokenAgents))
	}
	v = refusedStatus()
	if !onlyAgent(&v, "lapsed") || len(v.AgentList) != 0 || len(v.BrokenAgents) != 1 {
		t.Errorf("lapsed (broken): %d agents, %d broken", len(v.AgentList), len(v.BrokenAgents))
	}
	v = refusedStatus()
	if onlyAgent(&v, "nobody") {
		t.Error("an unknown agent was found")
	}
	if len(refusedStatus().BrokenAgents) != 1 {
		t.Error("onlyAgent changed the status it was given")
	}
}

// TestCostPrecision: the same four decimals in the jobs table and the
// job view.
func TestCostPrecision(t *testing.T) {
	j := api.Job{ID: "20261130-090000-4fa9c2", Agent: "a", Status: api.StatusCompleted, CostUSD: 0.0123}
	var table, view bytes.Buffer
	printJobs(&table, false, now, []api.Job{j})
	printJob(&view, false, now, j)
	for name, out := range map[string]string{"jobs": table.String(), "job": view.String()} {
		if !strings.Contains(out, "$0.0123") {
			t.Errorf("%s does not show $0.0123:\n%s", name, out)
		}
	}
}

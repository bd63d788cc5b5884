package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/service/api"
)

// fakeDaemon serves dev.herdctl.Manager1 on a private bus with fixed
// data, and refuses what needs rights the way the daemon and the bus's
// policy do: the commands are run whole, from their arguments to what
// they print and their exit code.
type fakeDaemon struct {
	status api.Status
	agents []api.Agent
	jobs   []api.Job
}

func (f *fakeDaemon) GetStatus() (api.Dict, *dbus.Error) { return api.Encode(&f.status), nil }

func (f *fakeDaemon) ListAgents() ([]api.Dict, *dbus.Error) {
	out := []api.Dict{}
	for _, a := range f.agents {
		out = append(out, api.Encode(&a))
	}
	return out, nil
}

func (f *fakeDaemon) GetAgent(name string) (api.Dict, *dbus.Error) {
	for _, a := range f.agents {
		if a.Name == name {
			return api.Encode(&a), nil
		}
	}
	return nil, dbus.NewError(api.ErrNotFound, []any{fmt.Sprintf("no agent %q in the fleet: list them with herdctlctl agents", name)})
}

func (f *fakeDaemon) ListJobs(d api.Dict) ([]api.Dict, *dbus.Error) {
	var filter api.JobFilter
	if err := api.Decode(d, &filter); err != nil {
		return nil, dbus.NewError(api.ErrInvalidArgs, []any{err.Error()})
	}
	out := []api.Dict{}
	for _, j := range f.jobs {
		if (filter.Agent == "" || j.Agent == filter.Agent) && (filter.Status == "" || j.Status == filter.Status) &&
			(filter.Limit == 0 || len(out) < filter.Limit) {
			out = append(out, api.Encode(&j))
		}
	}
	return out, nil
}

// GetJob finds a job by its id or a unique prefix, as the daemon does.
func (f *fakeDaemon) GetJob(id string) (api.Dict, *dbus.Error) {
	var found []api.Job
	for _, j := range f.jobs {
		if j.ID == id {
			return api.Encode(&j), nil
		}
		if strings.HasPrefix(j.ID, id) {
			found = append(found, j)
		}
	}
	if len(found) == 1 {
		return api.Encode(&found[0]), nil
	}
	return nil, dbus.NewError(api.ErrNotFound, []any{fmt.Sprintf("no job %q: list jobs with herdctlctl jobs", id)})
}

// ReadJournal serves a job's five entries two at a time, one of them
// hostile, and refuses the journal of agent scribe as it refuses a
// caller outside the group.
func (f *fakeDaemon) ReadJournal(d api.Dict) (api.Dict, *dbus.Error) {
	var q api.JournalQuery
	if err := api.Decode(d, &q); err != nil {
		return nil, dbus.NewError(api.ErrInvalidArgs, []any{err.Error()})
	}
	if q.Agent == "scribe" {
		return nil, dbus.NewError(api.ErrAccessDenied, []any{"uid 65534 may not read the fleet's journal"})
	}
	if q.Job != "20261130-110000-00ab12" {
		return nil, dbus.NewError(api.ErrInvalidArgs, []any{fmt.Sprintf("query %+v", q)})
	}
	var all []string
	for i, msg := range []string{"job started", "Checking the disks", `evil\u001b]0;owned\u0007\nJan 01 00:00:00 homelab: forged`, "/ is 41% full", "job finished"} {
		all = append(all, fmt.Sprintf(`{"__CURSOR":"s=1;i=%d","__REALTIME_TIMESTAMP":"1796036400000000","HERDCTL_AGENT":"homelab","HERDCTL_JOB":"%s","MESSAGE":"%s","PRIORITY":"6"}`, i+1, q.Job, msg))
	}
	from := 0
	if q.AfterCursor != "" {
		fmt.Sscanf(q.AfterCursor, "s=1;i=%d", &from)
	}
	to := min(from+2, len(all))
	p := api.JournalPage{Entries: all[from:to], Cursor: fmt.Sprintf("s=1;i=%d", to), More: to < len(all)}
	return api.Encode(&p), nil
}

// Trigger is refused as the daemon refuses a caller outside the group.
func (f *fakeDaemon) Trigger(agent, schedule, prompt string, opts api.Dict) (string, *dbus.Error) {
	return "", dbus.NewError(api.ErrAccessDenied, []any{"uid 65534 may not trigger a job: run it as root (sudo), or add the user to group herdctl (usermod -aG herdctl USER, then log in again)"})
}

// Cancel is refused as dbus-daemon's policy refuses a call.
func (f *fakeDaemon) Cancel(id string) *dbus.Error {
	return dbus.NewError(api.ErrAccessDenied, []any{`Rejected send message, 2 matched rules; type="method_call", sender=":1.7" (uid=65534 pid=99 comm="herdctlctl cancel x") interface="dev.herdctl.Manager1" member="Cancel" error name="(unset)" requested_reply="0" destination="dev.herdctl.Manager1" (uid=0 pid=1 comm="")`})
}

// Reload is refused for errors an agent wrote into its file.
func (f *fakeDaemon) Reload() *dbus.Error {
	return dbus.NewError(api.ErrInvalidConfig, []any{"/srv/agents/attacker/agent.toml:7:3: schedules.\x1b[2J\u202e: unknown field\n/srv/agents/attacker/agent.toml:9: " + hostileEscapes})
}

// startFakeDaemon serves a fakeDaemon with the refused fleet's data and
// points the commands at its bus.
func startFakeDaemon(t *testing.T) {
	t.Helper()
	bus := testbed.StartBus(t, false)
	conn, err := dbus.Connect(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// D-Bus strings are UTF-8 without NUL, or the whole reply is refused:
	// the data goes through JSON first, as job records do, which makes
	// invalid UTF-8 U+FFFD, and NUL becomes U+FFFD too (which the daemon
	// does not do yet).
	v := refusedStatus()
	f := &fakeDaemon{status: *v.Status, agents: v.AgentList, jobs: append(jobs(), hostileJob())}
	for _, p := range []any{&f.status, &f.agents, &f.jobs} {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte(`\u0000`), []byte(`\ufffd`))
		if err := json.Unmarshal(b, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.Export(f, dbus.ObjectPath(api.ObjectPath), api.Interface); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(api.BusName, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName: %v %v", reply, err)
	}
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.Address)
}

// run runs herdctlctl with args, without colour, and returns what it
// printed, its exit code and its error message (as cli.Main prints it).
func run(args ...string) (stdout, stderr string, code int, msg string) {
	var out, errb bytes.Buffer
	c := &ctl{stdout: &out, stderr: &errb}
	err := c.dispatch(args)
	if err != nil {
		code, msg = cli.ExitJobFailed, err.Error()
		var ee *cli.ExitError
		if errors.As(err, &ee) {
			code = ee.Code
		}
	}
	return out.String(), errb.String(), code, msg
}

func TestCommandsAgainstTheDaemon(t *testing.T) {
	startFakeDaemon(t)
	for _, c := range []struct {
		name string
		args []string
		code int
		// out and msg must be in stdout and the error message.
		out, msg []string
	}{
		{"status", []string{"status"}, 0, []string{"herdctl: fleet \"home\"", "gardener  weather", "never", "Left out: lapsed", `\x1b[2Jx\u202e`}, nil},
		{"status of one agent", []string{"status", "homelab"}, 0, []string{"homelab  nightly", "$0.2000"}, nil},
		{"status of an agent left out", []string{"status", "lapsed"}, 0, []string{"Left out: lapsed", "AGENT "}, nil},
		{"status of an unknown agent", []string{"status", "nobody"}, cli.ExitUsage, nil, []string{`no agent "nobody" in the fleet`}},
		{"agents", []string{"agents"}, 0, []string{"gardener", `done\x1b]0;owned`}, nil},
		{"agent", []string{"agent", "gardener"}, 0, []string{"gardener - Checks the weather", "never"}, nil},
		{"an unknown agent", []string{"agent", "nobody"}, cli.ExitUsage, nil, []string{`no agent "nobody" in the fleet`}},
		{"jobs", []string{"jobs", "--agent", "homelab"}, 0, []string{"20261130-110000-00ab12", "$0.2000"}, nil},
		{"a hostile job", []string{"job", "20261130-100000-eeeeee"}, 0, []string{"   Reason: first line\n", `\u202egpj.exe`}, nil},
		{"an unknown job", []string{"job", "20260101-000000-000000"}, cli.ExitUsage, nil, []string{"no job"}},
		{"logs of an unknown agent", []string{"logs", "nobody"}, cli.ExitUsage, nil,
			[]string{`no agent "nobody" in the fleet`, "journalctl HERDCTL_AGENT=nobody"}},
		{"logs of an unknown job", []string{"logs", "20260101-000000-000000"}, cli.ExitUsage, nil, []string{"no job"}},
		{"the daemon refuses", []string{"trigger", "gardener"}, cli.ExitDenied, nil,
			[]string{"permission denied: you need to be root or in group herdctl; uid 65534 may not trigger a job"}},
		{"the bus's policy refuses", []string{"cancel", "20261130-114500-9d0e1f"}, cli.ExitDenied, nil,
			[]string{"permission denied: you need to be root or in group herdctl; the system bus's policy for dev.herdctl.Manager1 refused Cancel"}},
		{"a refused reload", []string{"reload"}, cli.ExitUsage, nil,
			[]string{`schedules.\x1b[2J\u202e: unknown field` + "\n/srv/agents/attacker/agent.toml:9: done\\x1b]0;owned"}},
		{"completion of agents", []string{"__complete", "agents"}, 0, []string{"gardener\nhomelab\nscribe\nescapes\nbidi\ninvalid\n"}, nil},
		{"completion of schedules", []string{"__complete", "schedules", "gardener"}, 0, []string{"weekly\nweather\n"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, code, msg := run(c.args...)
			if code != c.code {
				t.Fatalf("%q: exit %d, want %d: %s\n%s%s", c.args, code, c.code, msg, out, stderr)
			}
			for _, want := range c.out {
				if !strings.Contains(out, want) {
					t.Errorf("%q: the output lacks %q:\n%s", c.args, want, out)
				}
			}
			for _, want := range c.msg {
				if !strings.Contains(msg, want) {
					t.Errorf("%q: the error lacks %q:\n%s", c.args, want, msg)
				}
			}
			checkTerminalSafe(t, "stdout", []byte(out))
			checkTerminalSafe(t, "stderr", []byte(stderr+msg))
		})
	}
}

// TestJSONAgainstTheDaemon: --json carries the daemon's values, the
// agent's text raw and durations in microseconds.
func TestJSONAgainstTheDaemon(t *testing.T) {
	startFakeDaemon(t)
	out, _, code, msg := run("agent", "--json", "gardener")
	if code != 0 {
		t.Fatalf("agent --json: exit %d: %s", code, msg)
	}
	var a map[string]any
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatal(err)
	}
	s := a["schedules"].([]any)[1].(map[string]any)
	if s["every_usec"] != float64(72*3600*1e6) || s["timeout_usec"] != float64(600*1e6) {
		t.Errorf("durations are not in microseconds: %v", s)
	}
	out, _, code, msg = run("job", "--json", "20261130-100000-eeeeee")
	var j api.Job
	if code != 0 || json.Unmarshal([]byte(out), &j) != nil || j.Prompt != hostileJob().Prompt || !strings.Contains(out, `\u001b]0;owned`) {
		t.Errorf("job --json: exit %d %s: the prompt is not the agent's, raw: %q", code, msg, j.Prompt)
	}
	out, _, code, _ = run("status", "--json", "homelab")
	var st statusView
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || len(st.AgentList) != 1 || st.Running == nil {
		t.Errorf("status --json homelab: exit %d\n%s", code, out)
	}
}

// TestLogsThroughTheDaemon: a user who may not read the journal gets a
// job's entries (named by a prefix of its id) from the daemon, page after
// page, as safe lines; a refusal says who may read.
func TestLogsThroughTheDaemon(t *testing.T) {
	startFakeDaemon(t)
	saved := mayReadJournal
	mayReadJournal = func() bool { return false }
	t.Cleanup(func() { mayReadJournal = saved })

	out, stderr, code, msg := run("logs", "20261130-110")
	if code != 0 {
		t.Fatalf("logs: exit %d: %s\n%s", code, msg, stderr)
	}
	for _, want := range []string{"homelab[20261130-110000-00ab12]: job started\n", "Checking the disks", "evil\\x1b]0;owned", "                                              Jan 01 00:00:00 homelab: forged\n", "41% full", "job finished\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "homelab[20261130-110000-00ab12]: "); n != 5 {
		t.Errorf("%d entries, want 5:\n%s", n, out)
	}
	checkTerminalSafe(t, "stdout", []byte(out))

	out, _, code, _ = run("logs", "--json", "20261130-110000-00ab12")
	if code != 0 || strings.Count(out, "\n") != 5 || !strings.HasPrefix(out, `{"__CURSOR":"s=1;i=1"`) {
		t.Errorf("logs --json: exit %d\n%s", code, out)
	}
	if _, _, code, msg := run("logs", "scribe"); code != cli.ExitDenied || !strings.Contains(msg, "needs root, group herdctl, or group systemd-journal") {
		t.Errorf("a refusal: exit %d: %s", code, msg)
	}
	if _, _, code, msg := run("logs", "2026"); code != cli.ExitUsage || !strings.Contains(msg, "no job") {
		t.Errorf("an ambiguous prefix: exit %d: %s", code, msg)
	}
}

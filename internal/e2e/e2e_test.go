package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

const e2eFleet = `version = 1
env_file = "herdctl.env"
claude_path = "%s"

[fleet]
name = "e2e"

[defaults.docker]
user = "1000:1000"

[[agents]]
path = "/srv/herdctl/ticker/agent.toml"
  [agents.overrides]
  command = ["/bin/true"]

[[agents]]
path = "/srv/herdctl/writer/agent.toml"
  [agents.overrides.docker]
  network = "egress"
  egress = ["api.stand-in.test:47200"]
  egress_private = ["127.0.0.0/8"]

[[agents]]
path = "/srv/herdctl/sleeper/agent.toml"
  [agents.overrides]
  command = ["/bin/sleep", "300"]

[[agents]]
path = "/srv/herdctl/napper/agent.toml"
  [agents.overrides]
  command = ["/bin/sleep", "6"]
`

const writerAgent = `name = "writer"
description = "writes a file with the real Claude Code CLI"
default_prompt = "Write hello.txt"
allowed_tools = ["Write"]
`

// setup boots a machine running herdctl with a fleet of four agents and a
// stand-in API on the machine's loopback.
func setup(t *testing.T) (*testbed.Machine, *testbed.API) {
	claude := testbed.RequireClaude(t)
	m := testbed.HerdctlMachine(t, fmt.Sprintf(e2eFleet, claude), map[string]string{
		"/srv/herdctl/ticker/agent.toml":  "name = \"ticker\"\n[schedules.tick]\ntype = \"interval\"\ninterval = \"2s\"\n",
		"/srv/herdctl/writer/agent.toml":  writerAgent,
		"/srv/herdctl/sleeper/agent.toml": "name = \"sleeper\"\n",
		"/srv/herdctl/napper/agent.toml":  "name = \"napper\"\n",
	})
	m.Boot()
	// The stand-in API on the machine's loopback, reached by a name as the
	// real API would be: the writer gets to it only through its runner's
	// egress proxy (the name is on its list, loopback in egress_private).
	m.Sh("echo '127.0.0.1 api.stand-in.test' >> /etc/hosts")
	ln, err := testbed.ListenInNetns(m.PID, "127.0.0.1:47200")
	if err != nil {
		t.Fatal(err)
	}
	stand := testbed.ServeAPI(t, ln, []testbed.Turn{
		{Tool: "Write", Input: map[string]any{"file_path": "/workspace/hello.txt", "content": "hello from e2e\n"}},
		{Text: "I wrote hello.txt."},
	})
	m.WriteFile("/etc/herdctl/herdctl.env", "ANTHROPIC_API_KEY=sk-e2e-not-a-real-key\nANTHROPIC_BASE_URL=http://api.stand-in.test:47200\n", 0o600)
	m.Start()
	return m, stand
}

func jobs(m *testbed.Machine, agent string) []api.Job {
	var js []api.Job
	m.CtlJSON(&js, "jobs", "--json", "--limit=0", "--agent="+agent)
	return js
}

func TestSystem(t *testing.T) {
	m, stand := setup(t)

	t.Run("status", func(t *testing.T) {
		if s := m.Run("systemctl", "is-active", "herdctl"); strings.TrimSpace(s) != "active" {
			t.Fatalf("herdctl.service: %s", s)
		}
		out := m.Run("herdctlctl", "status")
		for _, a := range []string{"ticker", "writer", "sleeper", "napper"} {
			if !strings.Contains(out, a) {
				t.Errorf("status lacks agent %s:\n%s", a, out)
			}
		}
		if timers := m.Timers(); !strings.Contains(timers, "herdctl-ticker-tick.timer") {
			t.Errorf("list-timers lacks the ticker's timer:\n%s", timers)
		}
		// The sandbox of herdctl.service is in force.
		pid := strings.TrimPrefix(strings.TrimSpace(m.Run("systemctl", "show", "-p", "MainPID", "herdctl")), "MainPID=")
		proc := m.Run("cat", "/proc/"+pid+"/status")
		for _, want := range []string{"CapBnd:\t0000000000000004", "NoNewPrivs:\t1", "Seccomp:\t2"} {
			if !strings.Contains(proc, want) {
				t.Errorf("daemon's /proc/%s/status lacks %q", pid, want)
			}
		}
		if st := m.Run("systemctl", "show", "-p", "StatusText", "herdctl"); !strings.Contains(st, "4 agents, 1 timers") {
			t.Errorf("STATUS= not set: %s", st)
		}
	})

	t.Run("interval fires", func(t *testing.T) {
		// Due 2 s and 4 s after the timer started; the deadline is
		// generous for a loaded CI machine.
		m.Eventually(20*time.Second, "two ticker jobs completed", func() bool {
			n := 0
			for _, j := range jobs(m, "ticker") {
				if j.Status == api.StatusCompleted {
					n++
				}
			}
			return n >= 2
		})
	})

	t.Run("trigger runs claude", func(t *testing.T) {
		code, out := m.ExitCode("herdctlctl", "trigger", "--wait", "-f", "writer")
		if code != 0 {
			t.Fatalf("trigger --wait -f writer: exit %d\n%s", code, out)
		}
		if !strings.Contains(out, "tool Write: /workspace/hello.txt") {
			t.Errorf("-f did not stream the tool call:\n%s", out)
		}
		if b, err := os.ReadFile(m.Path("/srv/herdctl/writer/hello.txt")); err != nil || string(b) != "hello from e2e\n" {
			t.Errorf("hello.txt: %q %v", b, err)
		}
		js := jobs(m, "writer")
		if len(js) == 0 || js[0].Status != api.StatusCompleted || js[0].SessionID == "" {
			t.Fatalf("writer job: %+v", js)
		}
		j := js[0]
		byJob := m.Run("journalctl", "--namespace="+state.JournalNamespace, "--no-pager", "-o", "json", "HERDCTL_JOB="+j.ID)
		byUnit := m.Run("journalctl", "--namespace="+state.JournalNamespace, "--no-pager", "-o", "json", "-u", j.Unit)
		for what, out := range map[string]string{"HERDCTL_JOB": byJob, "-u " + j.Unit: byUnit} {
			if !strings.Contains(out, `"HERDCTL_TOOL":"Write"`) || !strings.Contains(out, state.MessageIDJobFinished) {
				t.Errorf("journalctl %s lacks the job's events:\n%.2000s", what, out)
			}
		}
		if strings.Contains(byJob, "sk-e2e-not-a-real-key") {
			t.Error("the API key is in the journal")
		}
		// Claude Code reached the API through its job's relay, which
		// holds the key, and the journal says so.
		if !strings.Contains(byJob, `"HERDCTL_EVENT":"api_relay"`) || !strings.Contains(byJob, `"HERDCTL_EGRESS_HOST":"api.stand-in.test"`) || j.APIRequests == 0 || j.APICostUSD <= 0 {
			t.Errorf("no relay entries for the API calls (record: %d requests, $%v):\n%.2000s", j.APIRequests, j.APICostUSD, byJob)
		}
		for i := range stand.RequestCount() {
			if _, h := stand.Request(i); h.Get("X-Api-Key") != "sk-e2e-not-a-real-key" {
				t.Errorf("request %d reached the API with key %q", i, h.Get("X-Api-Key"))
			}
		}
	})

	t.Run("invalid reload keeps fleet and running job", func(t *testing.T) {
		id := strings.TrimSpace(m.Run("herdctlctl", "trigger", "sleeper"))
		m.Eventually(20*time.Second, "sleeper running", func() bool {
			var j api.Job
			m.CtlJSON(&j, "job", "--json", id)
			return j.Status == api.StatusRunning
		})
		// The fleet file itself broken: refused, nothing changes.
		before := m.Timers()
		fleet, _ := os.ReadFile(m.Path("/etc/herdctl/herdctl.toml"))
		m.WriteFile("/etc/herdctl/herdctl.toml", string(fleet)+"\n[defaults.docker\n", 0o644)
		if code, out := m.ExitCode("systemctl", "reload", "herdctl"); code == 0 {
			t.Errorf("systemctl reload of a broken fleet file succeeded:\n%s", out)
		}
		var st api.Status
		m.CtlJSON(&st, "status", "--json")
		if !strings.Contains(st.ReloadError, "/etc/herdctl/herdctl.toml:") || st.Agents != 4 {
			t.Errorf("status after a bad reload: %+v", st)
		}
		if code, out := m.ExitCode("herdctlctl", "reload"); code != 2 || !strings.Contains(out, "herdctl.toml") {
			t.Errorf("herdctlctl reload of a bad fleet: exit %d\n%s", code, out)
		}
		if after := m.Timers(); timerNames(after) != timerNames(before) {
			t.Errorf("timers changed:\n%s\n---\n%s", before, after)
		}
		m.WriteFile("/etc/herdctl/herdctl.toml", string(fleet), 0o644)
		// One agent's file broken: that agent is left out, the rest
		// (and the running job) go on.
		m.WriteFile("/srv/herdctl/writer/agent.toml", writerAgent+"[docker]\nnetwork = \"host\"\n", 0o644)
		if code, _ := m.ExitCode("systemctl", "reload", "herdctl"); code == 0 {
			t.Error("systemctl reload that left an agent out succeeded")
		}
		m.CtlJSON(&st, "status", "--json")
		if len(st.BrokenAgents) != 1 || st.BrokenAgents[0].File != "/srv/herdctl/writer/agent.toml" || st.Agents != 3 {
			t.Errorf("status with a broken agent file: %+v", st)
		}
		m.WriteFile("/srv/herdctl/writer/agent.toml", writerAgent, 0o644)
		m.Run("chown", "1000:1000", "/srv/herdctl/writer/agent.toml")
		m.Run("systemctl", "reload", "herdctl")
		var j api.Job
		m.CtlJSON(&j, "job", "--json", id)
		if j.Status != api.StatusRunning {
			t.Errorf("the running job was touched: %+v", j)
		}

		// cancel
		if code, out := m.ExitCode("herdctlctl", "cancel", id); code != 0 {
			t.Fatalf("cancel: exit %d\n%s", code, out)
		}
		m.CtlJSON(&j, "job", "--json", id)
		if j.Status != api.StatusCancelled {
			t.Errorf("cancelled job: %+v", j)
		}
		// (The ticker's containers come and go every 2 s.)
		if out := m.Run("ctr", "-n", "herdctl", "containers", "ls", "-q"); strings.Contains(out, "herdctl-"+id) {
			t.Errorf("the cancelled job's container is left: %s", out)
		}

		// A valid edit adds a timer; undoing it removes it.
		m.WriteFile("/srv/herdctl/writer/agent.toml", writerAgent+"[schedules.daily]\ntype = \"cron\"\ncron = \"0 6 * * *\"\n", 0o644)
		m.Run("herdctlctl", "reload")
		if !strings.Contains(m.Timers(), "herdctl-writer-daily.timer") {
			t.Errorf("new schedule has no timer:\n%s", m.Timers())
		}
		m.WriteFile("/srv/herdctl/writer/agent.toml", writerAgent, 0o644)
		m.Run("herdctlctl", "reload")
		if strings.Contains(m.Timers(), "herdctl-writer-daily") {
			t.Errorf("removed schedule kept its timer:\n%s", m.Timers())
		}
	})

	t.Run("other users read but may not trigger", func(t *testing.T) {
		if code, out := m.ExitCode("runuser", "-u", "e2eviewer", "--", "herdctlctl", "status"); code != 0 {
			t.Errorf("status as e2eviewer: exit %d\n%s", code, out)
		}
		if code, out := m.ExitCode("runuser", "-u", "e2eviewer", "--", "herdctlctl", "trigger", "napper"); code != 4 {
			t.Errorf("trigger as e2eviewer: exit %d, want 4\n%s", code, out)
		}
	})

	t.Run("group herdctl reads and follows logs without journal rights", func(t *testing.T) {
		// A member added while the system bus runs: dbus-daemon knows of
		// it once it rereads the user database (herdctl(8) says so).
		m.Sh("useradd -M -s /bin/sh -G herdctl e2eop && systemctl reload dbus")
		as := func(user string, args ...string) (int, string) {
			return m.ExitCode(append([]string{"runuser", "-u", user, "--"}, args...)...)
		}
		if code, out := as("e2eop", "sh", "-c", `for f in /var/log/journal/*/system.journal /run/log/journal/*/system.journal; do [ -r "$f" ] && exit 0; done; exit 1`); code == 0 {
			t.Fatalf("e2eop may read the system journal itself; the test proves nothing: %s", out)
		}
		// trigger -f: the job's events while it runs, through the daemon.
		code, out := as("e2eop", "herdctlctl", "trigger", "-f", "napper")
		id := ""
		if i := strings.Index(out, "napper["); i >= 0 && len(out) > i+7+22 {
			id = out[i+7 : i+7+22]
		}
		if code != 0 || !state.IsJobID(id) || !strings.Contains(out, "job "+id+" completed") {
			t.Fatalf("trigger -f napper as e2eop: exit %d, job %q\n%s", code, id, out)
		}
		// logs by a prefix of the id: the whole job, its end included.
		code, out = as("e2eop", "herdctlctl", "logs", id[:18])
		if code != 0 || strings.Count(out, "napper["+id+"]") < 2 || !strings.Contains(out, "completed") {
			t.Errorf("logs %s as e2eop: exit %d\n%s", id[:18], code, out)
		}
		// logs -f follows the agent until stopped.
		code, out = as("e2eop", "timeout", "3", "herdctlctl", "logs", "-f", "napper")
		if code != 124 || !strings.Contains(out, "napper["+id+"]") {
			t.Errorf("logs -f napper as e2eop: exit %d, want 124 (stopped by timeout)\n%s", code, out)
		}
		// Outside the group: refused, saying who may read.
		if code, out := as("e2eviewer", "herdctlctl", "logs", "napper"); code != 4 || !strings.Contains(out, "group herdctl, or group systemd-journal") {
			t.Errorf("logs as e2eviewer: exit %d, want 4\n%s", code, out)
		}
	})

	t.Run("human output", func(t *testing.T) {
		for _, args := range [][]string{{"status"}, {"agents"}, {"agent", "writer"}, {"jobs", "--limit=5"}, {"logs", "writer", "-n", "8"}} {
			t.Logf("$ herdctlctl %s\n%s", strings.Join(args, " "), m.Run(append([]string{"herdctlctl"}, args...)...))
		}
		if ts := m.Run("systemctl", "show", "-p", "WatchdogTimestampMonotonic", "herdctl"); strings.TrimSpace(ts) == "WatchdogTimestampMonotonic=0" {
			t.Errorf("the watchdog was never petted: %s", ts)
		}
	})

	t.Run("stop keeps running jobs", func(t *testing.T) {
		id := strings.TrimSpace(m.Run("herdctlctl", "trigger", "napper"))
		m.Run("systemctl", "stop", "herdctl")
		if out := m.Run("systemctl", "list-units", "--no-legend", "--state=active", "herdctl-*.timer"); strings.TrimSpace(out) != "" {
			t.Errorf("timers still active after stop:\n%s", out)
		}
		m.Eventually(30*time.Second, "napper's job recorded completed", func() bool {
			b, err := os.ReadFile(m.Path("/var/lib/herdctl/jobs/" + id + ".json"))
			var j api.Job
			return err == nil && json.Unmarshal(b, &j) == nil && j.Status == api.StatusCompleted
		})
	})
}

// timerNames is the sorted set of timer names in list-timers output.
func timerNames(out string) string {
	var names []string
	for _, f := range strings.Fields(out) {
		if strings.HasSuffix(f, ".timer") {
			names = append(names, f)
		}
	}
	return strings.Join(names, " ")
}

// TestContainerdElsewhere: the fleet's [containerd] address and namespace
// are where jobs run, and where orphans are reaped.
func TestContainerdElsewhere(t *testing.T) {
	const sock = "/run/containerd-alt/containerd.sock"
	fleet := `version = 1
[containerd]
address = "` + sock + `"
namespace = "e2e-alt"
[defaults.docker]
user = "1000:1000"
[[agents]]
path = "/srv/herdctl/napper/agent.toml"
  [agents.overrides]
  command = ["/bin/sleep", "4"]
`
	m := testbed.HerdctlMachine(t, fleet, map[string]string{"/srv/herdctl/napper/agent.toml": "name = \"napper\"\n"})
	m.Boot()
	m.Start()
	m.Sh(`mkdir -p /run/containerd-alt && printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' > /run/containerd-alt/config.toml &&
systemd-run --unit=containerd-alt containerd --config /run/containerd-alt/config.toml --address ` + sock + ` --root /var/lib/containerd-alt --state /run/containerd-alt/state`)
	m.Eventually(20*time.Second, "the second containerd", func() bool {
		_, err := m.Try("ctr", "-a", sock, "version")
		return err == nil
	})
	id := strings.TrimSpace(m.Run("herdctlctl", "trigger", "napper"))
	m.Eventually(20*time.Second, "the job's task in the fleet's containerd and namespace", func() bool {
		out, _ := m.Try("ctr", "-a", sock, "-n", "e2e-alt", "tasks", "ls")
		return strings.Contains(out, "herdctl-"+id)
	})
	if out, _ := m.Try("ctr", "-n", "herdctl", "containers", "ls", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("the default containerd has herdctl containers: %s", out)
	}
	// An orphan there (its runner killed with its unit) is reaped when
	// herdctl starts.
	var j api.Job
	m.CtlJSON(&j, "job", "--json", id)
	m.Run("systemctl", "kill", "-s", "KILL", j.Unit)
	m.Run("systemctl", "restart", "herdctl")
	if out, _ := m.Try("ctr", "-a", sock, "-n", "e2e-alt", "containers", "ls", "-q"); strings.Contains(out, "herdctl-"+id) {
		t.Errorf("the orphan was not reaped from the fleet's containerd: %s", out)
	}
	if out, _ := m.Try("sh", "-c", "ls /run/herdctl/jobs 2>/dev/null; grep /run/herdctl/jobs /proc/self/mountinfo"); strings.TrimSpace(out) != "" {
		t.Errorf("the orphan's scratch directory or mounts are left: %s", out)
	}
}

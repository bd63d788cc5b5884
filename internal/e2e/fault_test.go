package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

const faultFleet = `version = 1
[fleet]
name = "faults"
[defaults.docker]
user = "1000:1000"
[[agents]]
path = "/srv/herdctl/napper/agent.toml"
  [agents.overrides]
  command = ["/bin/sleep", "6"]
[[agents]]
path = "/srv/herdctl/catcher/agent.toml"
  [agents.overrides]
  command = ["/bin/true"]
`

const catcherAgent = `name = "catcher"
[schedules.hourly]
type = "cron"
cron = "0 * * * *"
catch_up = true
[schedules.steady]
type = "interval"
interval = "1h"
`

// nextRun is when the daemon says an agent's schedule runs next.
func nextRun(m *testbed.Machine, agent, schedule string) time.Time {
	m.T.Helper()
	var a api.Agent
	m.CtlJSON(&a, "agent", "--json", agent)
	for _, s := range a.Schedules {
		if s.Name == schedule {
			return s.NextRun
		}
	}
	m.T.Fatalf("agent %s has no schedule %s: %+v", agent, schedule, a)
	return time.Time{}
}

// near says whether two times are within a few seconds.
func near(a, b time.Time) bool { d := a.Sub(b); return d > -3*time.Second && d < 3*time.Second }

// record reads a job record straight from the machine's disk.
func record(m *testbed.Machine, id string) *api.Job {
	b, err := os.ReadFile(m.Path("/var/lib/herdctl/jobs/" + id + ".json"))
	if err != nil {
		return nil
	}
	var j api.Job
	if json.Unmarshal(b, &j) != nil {
		return nil
	}
	return &j
}

func containers(m *testbed.Machine) string {
	return strings.TrimSpace(m.Run("ctr", "-n", "herdctl", "containers", "ls", "-q"))
}

func TestFaults(t *testing.T) {
	m := testbed.HerdctlMachine(t, faultFleet, map[string]string{
		"/srv/herdctl/napper/agent.toml":  "name = \"napper\"\n",
		"/srv/herdctl/catcher/agent.toml": catcherAgent,
	})
	m.Boot()
	m.Start()
	m.Run("systemctl", "enable", "herdctl")

	t.Run("kill -9 of the daemon mid-job", func(t *testing.T) {
		id := strings.TrimSpace(m.Run("herdctlctl", "trigger", "napper"))
		pid := m.Run("systemctl", "show", "-p", "MainPID", "herdctl")
		m.Run("systemctl", "kill", "-s", "KILL", "herdctl")
		m.Eventually(30*time.Second, "the daemon restarted by systemd", func() bool {
			out, _ := m.Try("systemctl", "show", "-p", "MainPID", "herdctl")
			active, _ := m.Try("systemctl", "is-active", "herdctl")
			return out != pid && strings.TrimSpace(active) == "active"
		})
		m.Eventually(30*time.Second, "the job recorded", func() bool {
			j := record(m, id)
			return j != nil && api.Finished(j.Status)
		})
		if j := record(m, id); j.Status != api.StatusCompleted {
			t.Errorf("job across a daemon kill: %+v", j)
		}
		var j api.Job
		m.CtlJSON(&j, "job", "--json", id)
		if j.Status != api.StatusCompleted || containers(m) != "" {
			t.Errorf("after restart: %s; containers %q", j.Status, containers(m))
		}
	})

	t.Run("containerd restarted mid-job", func(t *testing.T) {
		id := strings.TrimSpace(m.Run("herdctlctl", "trigger", "napper"))
		m.Eventually(20*time.Second, "the job running", func() bool {
			j := record(m, id)
			return j != nil && j.Status == api.StatusRunning
		})
		time.Sleep(time.Second)
		m.Run("systemctl", "restart", "containerd")
		m.Eventually(60*time.Second, "the job recorded", func() bool {
			j := record(m, id)
			return j != nil && api.Finished(j.Status)
		})
		j := record(m, id)
		t.Logf("job across a containerd restart: %s: %s %s", j.Status, j.ExitReason, j.Error)
		// The shim keeps the task through a containerd restart, and the
		// runner finds it again: the job is not lost.
		if j.Status != api.StatusCompleted {
			t.Errorf("job across a containerd restart: %+v", j)
		}
		m.Eventually(30*time.Second, "no container left", func() bool { return containers(m) == "" })
	})

	// An interval schedule keeps its rhythm: its next run stays put
	// across a restart of herdctl (and, below, a reboot).
	steady := nextRun(m, "catcher", "steady")
	t.Run("an interval keeps its rhythm across a restart", func(t *testing.T) {
		if steady.IsZero() || time.Until(steady) < 50*time.Minute {
			t.Fatalf("steady's next run: %s", steady)
		}
		time.Sleep(5 * time.Second)
		m.Run("systemctl", "restart", "herdctl")
		if got := nextRun(m, "catcher", "steady"); !near(got, steady) {
			t.Errorf("after a restart 5 s later the next run moved from %s to %s", steady, got)
		}
	})

	t.Run("reboot catches a missed run up once", func(t *testing.T) {
		if out := m.Run("systemctl", "is-enabled", "herdctl"); strings.TrimSpace(out) != "enabled" {
			t.Fatalf("herdctl is %s", out)
		}
		m.Shutdown()
		// The hourly run was missed while the machine was off: the
		// timer's stamp says it last ran two hours ago.
		stamp := m.Path("/var/lib/systemd/timers/stamp-herdctl-catcher-hourly.timer")
		m.WriteFile("/var/lib/systemd/timers/stamp-herdctl-catcher-hourly.timer", "", 0o644)
		old := time.Now().Add(-2 * time.Hour)
		if err := os.Chtimes(stamp, old, old); err != nil {
			t.Fatal(err)
		}
		m.Boot()
		m.StartContainerd()
		m.Eventually(30*time.Second, "herdctl up after the reboot", func() bool {
			out, _ := m.Try("systemctl", "is-active", "herdctl")
			return strings.TrimSpace(out) == "active"
		})
		if timers := m.Timers(); !strings.Contains(timers, "herdctl-catcher-hourly.timer") {
			t.Fatalf("timers after the reboot:\n%s", timers)
		}
		if got := nextRun(m, "catcher", "steady"); !near(got, steady) {
			t.Errorf("after a reboot the interval's next run moved from %s to %s", steady, got)
		}
		var js []api.Job
		m.Eventually(30*time.Second, "the missed run caught up", func() bool {
			m.CtlJSON(&js, "jobs", "--json", "--agent=catcher", "--limit=0")
			return len(js) > 0 && api.Finished(js[0].Status)
		})
		time.Sleep(3 * time.Second)
		m.CtlJSON(&js, "jobs", "--json", "--agent=catcher", "--limit=0")
		if len(js) != 1 || js[0].Schedule != "hourly" { // steady is not due
			t.Errorf("catch-up runs: %d, want exactly 1: %+v", len(js), js)
		}
	})
}

const unattendedFleet = `version = 1
[fleet]
name = "unattended"
[defaults.docker]
user = "1000:1000"
[[agents]]
path = "/srv/herdctl/napper/agent.toml"
  [agents.overrides]
  command = ["/bin/sleep", "8"]
  [agents.overrides.instances]
  max_concurrent = 10
[[agents]]
path = "/srv/herdctl/slow/agent.toml"
  [agents.overrides]
  command = ["/bin/sh", "-c", "i=0; while [ $i -lt 40 ]; do echo slow-line-$i; i=$((i+1)); sleep 0.25; done"]
`

// TestFaultsUnattended: what a host left alone for a year meets. The
// daemon SIGKILLed while 10 jobs run (they finish and each is recorded
// once), journald restarted mid-job (no entry lost), dbus restarted
// (herdctl takes its bus name back), and /var/lib/herdctl full (a
// trigger fails with the reason, no half-written file is left, the
// daemon keeps serving and recovers once there is space).
func TestFaultsUnattended(t *testing.T) {
	m := testbed.HerdctlMachine(t, unattendedFleet, map[string]string{
		"/srv/herdctl/napper/agent.toml": "name = \"napper\"\n",
		"/srv/herdctl/slow/agent.toml":   "name = \"slow\"\n",
	})
	m.Boot()
	m.Start()
	finished := func(ids []string) bool {
		for _, id := range ids {
			if j := record(m, id); j == nil || !api.Finished(j.Status) {
				return false
			}
		}
		return true
	}
	daemonUp := func(pid string) bool {
		out, _ := m.Try("systemctl", "show", "-p", "MainPID", "herdctl")
		active, _ := m.Try("systemctl", "is-active", "herdctl")
		code, _ := m.ExitCode("herdctlctl", "status")
		return out != pid && strings.TrimSpace(active) == "active" && code == 0
	}

	t.Run("kill -9 of the daemon while 10 jobs run", func(t *testing.T) {
		var ids []string
		for range 10 {
			ids = append(ids, strings.TrimSpace(m.Run("herdctlctl", "trigger", "napper")))
		}
		m.Eventually(60*time.Second, "10 jobs running", func() bool {
			for _, id := range ids {
				if j := record(m, id); j == nil || j.Status != api.StatusRunning {
					return false
				}
			}
			return true
		})
		pid := m.Run("systemctl", "show", "-p", "MainPID", "herdctl")
		m.Run("systemctl", "kill", "-s", "KILL", "herdctl")
		m.Eventually(60*time.Second, "the daemon back", func() bool { return daemonUp(pid) })
		m.Eventually(90*time.Second, "the 10 jobs recorded", func() bool { return finished(ids) })
		for _, id := range ids {
			if j := record(m, id); j.Status != api.StatusCompleted {
				t.Errorf("job %s: %s %s", id, j.Status, j.ExitReason)
			}
			ends := strings.TrimSpace(m.Sh("journalctl --namespace=" + state.JournalNamespace + " --no-pager -o cat HERDCTL_JOB=" + id + " MESSAGE_ID=" + state.MessageIDJobFinished + " | wc -l"))
			if ends != "1" {
				t.Errorf("job %s: %s end entries, want 1", id, ends)
			}
		}
		if js := jobs(m, "napper"); len(js) != 10 {
			t.Errorf("%d jobs of napper recorded, want 10", len(js))
		}
		m.Eventually(30*time.Second, "no container left", func() bool { return containers(m) == "" })
	})

	t.Run("journald restarted mid-job", func(t *testing.T) {
		id := strings.TrimSpace(m.Run("herdctlctl", "trigger", "slow"))
		m.Eventually(30*time.Second, "the job running", func() bool {
			j := record(m, id)
			return j != nil && j.Status == api.StatusRunning
		})
		time.Sleep(2 * time.Second)
		m.Run("systemctl", "restart", "systemd-journald@"+state.JournalNamespace, "systemd-journald")
		m.Eventually(60*time.Second, "the job recorded", func() bool { return finished([]string{id}) })
		time.Sleep(time.Second)
		n := strings.TrimSpace(m.Sh("journalctl --namespace=" + state.JournalNamespace + " --no-pager -o cat HERDCTL_JOB=" + id + " | grep -c slow-line- || true"))
		if n != "40" {
			t.Errorf("%s of the job's 40 lines in the journal after journald restarted", n)
		}
	})

	t.Run("dbus restarted", func(t *testing.T) {
		pid := m.Run("systemctl", "show", "-p", "MainPID", "herdctl")
		m.Run("systemctl", "restart", "dbus")
		m.Eventually(60*time.Second, "herdctl back on the bus", func() bool { return daemonUp(pid) })
		if out, err := m.Try("busctl", "status", "dev.herdctl.Manager1"); err != nil {
			t.Errorf("busctl status dev.herdctl.Manager1: %v\n%s", err, out)
		}
		id := strings.TrimSpace(m.Run("herdctlctl", "trigger", "napper"))
		m.Eventually(60*time.Second, "a job after dbus restarted", func() bool { return finished([]string{id}) })
	})

	t.Run("/var/lib/herdctl full", func(t *testing.T) {
		m.Run("systemctl", "stop", "herdctl")
		m.Run("mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "herdctl-full", "/var/lib/herdctl")
		m.Run("systemctl", "start", "herdctl")
		m.Sh("dd if=/dev/zero of=/var/lib/herdctl/filler bs=64k 2>/dev/null || true")
		code, out := m.ExitCode("herdctlctl", "trigger", "napper")
		t.Logf("trigger on a full disk: exit %d: %s", code, out)
		if code == 0 || !strings.Contains(out, "no space left") {
			t.Errorf("trigger on a full disk: exit %d\n%s", code, out)
		}
		if code, out := m.ExitCode("herdctlctl", "status"); code != 0 {
			t.Errorf("status on a full disk: exit %d\n%s", code, out)
		}
		if left := strings.TrimSpace(m.Sh("find /var/lib/herdctl -name '.*' -type f")); left != "" {
			t.Errorf("half-written files left:\n%s", left)
		}
		m.Run("rm", "/var/lib/herdctl/filler")
		// The records are on the machine's tmpfs now, out of the host's
		// sight: ask the daemon.
		id := strings.TrimSpace(m.Run("herdctlctl", "trigger", "napper"))
		var j api.Job
		m.Eventually(60*time.Second, "a job once there is space", func() bool {
			m.CtlJSON(&j, "job", "--json", id)
			return api.Finished(j.Status)
		})
		if j.Status != api.StatusCompleted {
			t.Errorf("job once there is space: %+v", j)
		}
	})
}

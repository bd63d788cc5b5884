package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

const namespaceFleet = `version = 1
[fleet]
name = "namespace"
[defaults.docker]
user = "1000:1000"
[[agents]]
path = "/srv/herdctl/chatty/agent.toml"
  [agents.overrides]
  command = ["/bin/sh", "-c", "i=0; while [ $i -lt 300 ]; do echo chatty-line-$i; i=$((i+1)); done; echo chatty-err >&2"]
`

// TestJournalNamespace: a job's entries, its output and what its runner
// prints are all in journald's namespace herdctl and none in the host's
// main journal; the daemon's own entries about the job stay in the main
// journal; herdctlctl logs shows both.
func TestJournalNamespace(t *testing.T) {
	m := testbed.HerdctlMachine(t, namespaceFleet, map[string]string{
		"/srv/herdctl/chatty/agent.toml": "name = \"chatty\"\n",
	})
	m.Boot()
	m.Start()
	id := strings.TrimSpace(m.Run("herdctlctl", "trigger", "chatty"))
	m.Eventually(60*time.Second, "the job recorded", func() bool {
		j := record(m, id)
		return j != nil && api.Finished(j.Status)
	})
	if j := record(m, id); j.Status != api.StatusCompleted {
		t.Fatalf("job: %+v", j)
	}
	time.Sleep(time.Second) // journald writes what it got
	ns := "--namespace=" + state.JournalNamespace

	inNS := m.Sh("journalctl " + ns + " --no-pager -o cat HERDCTL_JOB=" + id + " | grep -c 'chatty-line-' || true")
	if strings.TrimSpace(inNS) != "300" {
		t.Errorf("%s lines of the job's output in the namespace, want 300", strings.TrimSpace(inNS))
	}
	if end := m.Run("journalctl", ns, "--no-pager", "-o", "cat", "HERDCTL_JOB="+id, "MESSAGE_ID="+state.MessageIDJobFinished); !strings.Contains(end, id) {
		t.Errorf("the job's end is not in the namespace: %q", end)
	}
	// What the runner itself printed (job ... completed) went there too.
	if out := m.Run("journalctl", ns, "--no-pager", "-o", "cat", "-u", record(m, id).Unit, "SYSLOG_IDENTIFIER=herdctl-job"); !strings.Contains(out, "job "+id+" completed") {
		t.Errorf("the runner's own line is not in the namespace:\n%s", out)
	}

	// The main journal: nothing of the job's output, and the only
	// entries naming the job are the daemon's.
	if n := strings.TrimSpace(m.Sh("journalctl --no-pager -o cat | grep -c 'chatty-line-\\|chatty-err' || true")); n != "0" {
		t.Errorf("%s lines of the job's output in the host's main journal", n)
	}
	for _, line := range strings.Split(strings.TrimSpace(m.Run("journalctl", "--no-pager", "-o", "json", "HERDCTL_JOB="+id)), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) != nil || e["_SYSTEMD_UNIT"] != "herdctl.service" {
			t.Errorf("an entry of the job in the main journal not from the daemon: %.500s", line)
		}
	}
	if out := m.Run("journalctl", "--no-pager", "-o", "cat", "_SYSTEMD_UNIT="+record(m, id).Unit); strings.TrimSpace(out) != "-- No entries --" && strings.TrimSpace(out) != "" {
		t.Errorf("the job's unit logged into the main journal:\n%.2000s", out)
	}

	// The namespace's cap is the package's (1G): its journald says so.
	if out := m.Sh("journalctl --namespace='*' --no-pager -o cat | grep 'herdctl) is' || true"); !strings.Contains(out, "max 1.0G") {
		t.Errorf("the namespace's journald does not say max 1.0G:\n%s", out)
	}

	// herdctlctl logs reads the namespace (and the daemon's entries).
	if out := m.Run("herdctlctl", "logs", id); !strings.Contains(out, "chatty-line-299") {
		t.Errorf("herdctlctl logs %s lacks the job's output:\n%.2000s", id, out)
	}
}

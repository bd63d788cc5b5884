package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

const pruneFleet = `version = 1
[fleet]
name = "prune"
retention = "30d"
[defaults.docker]
user = "1000:1000"
[[agents]]
path = "/srv/herdctl/pruner/agent.toml"
  [agents.overrides]
  command = ["/bin/true"]
`

// TestPrune: herdctlctl prune, for root and group herdctl only, removes
// the record of a job that ended before the fleet's retention and an old
// transcript of a removed agent, keeps a new job and what an agent linked
// from elsewhere; a dry run removes nothing; the packaged timer is there
// and its service runs.
func TestPrune(t *testing.T) {
	old := time.Now().Add(-60 * 24 * time.Hour).UTC()
	oldJob := &api.Job{ID: "20251001-000000-aaaaaa", Agent: "pruner", Trigger: state.TriggerManual, Prompt: "old",
		Started: old, Finished: &old, Status: state.StatusCompleted, CostUSD: 0.5}
	rec, _ := json.Marshal(oldJob)
	const (
		sOld    = "00000000-0000-4000-8000-0000000000a1"
		sLinked = "00000000-0000-4000-8000-0000000000a2"
	)
	transcripts := "/var/lib/herdctl/agents/retired/home/.claude/projects"
	m := testbed.HerdctlMachine(t, pruneFleet, map[string]string{
		"/srv/herdctl/pruner/agent.toml":               "name = \"pruner\"\n",
		"/var/lib/herdctl/jobs/" + oldJob.ID + ".json": string(rec),
		transcripts + "/-workspace/" + sOld + ".jsonl": "{}\n",
		"/srv/victim/" + sLinked + ".jsonl":            "precious\n",
	})
	for _, p := range []string{transcripts + "/-workspace/" + sOld + ".jsonl", "/srv/victim/" + sLinked + ".jsonl"} {
		if err := os.Chtimes(m.Path(p), old, old); err != nil {
			t.Fatal(err)
		}
	}
	// The retired agent's uid linked a project directory to a directory
	// holding an old transcript-like file.
	if err := os.Symlink("/srv/victim", m.Path(transcripts+"/-linked")); err != nil {
		t.Fatal(err)
	}
	home := m.Path("/var/lib/herdctl/agents/retired/home")
	filepath.Walk(home, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, 1000, 1000) })
	m.Boot()
	m.Start()
	newID := strings.TrimSpace(m.Run("herdctlctl", "trigger", "pruner"))
	m.Eventually(60*time.Second, "the new job recorded", func() bool {
		j := record(m, newID)
		return j != nil && api.Finished(j.Status)
	})

	if code, out := m.ExitCode("runuser", "-u", "e2eviewer", "--", "herdctlctl", "prune"); code != cli.ExitDenied {
		t.Errorf("prune as a user outside group herdctl: exit %d\n%s", code, out)
	}

	var dry api.PruneResult
	m.CtlJSON(&dry, "prune", "--dry-run", "--json")
	if !dry.DryRun || len(dry.Jobs) != 1 || dry.Jobs[0] != oldJob.ID || len(dry.Transcripts) != 1 {
		t.Errorf("dry run: %+v", dry)
	}
	if record(m, oldJob.ID) == nil {
		t.Fatal("the dry run removed the old record")
	}

	out := m.Run("herdctlctl", "prune")
	for _, want := range []string{"removed job " + oldJob.ID, "removed transcript " + transcripts + "/-workspace/" + sOld + ".jsonl", "removed 1 jobs"} {
		if !strings.Contains(out, want) {
			t.Errorf("prune says:\n%s\nwithout %q", out, want)
		}
	}
	if record(m, oldJob.ID) != nil || record(m, newID) == nil {
		t.Errorf("after prune: the old record is there %v, the new one %v", record(m, oldJob.ID) != nil, record(m, newID) != nil)
	}
	if _, err := os.Stat(m.Path("/srv/victim/" + sLinked + ".jsonl")); err != nil {
		t.Errorf("prune followed the agent's link: %v", err)
	}
	if js := jobs(m, "pruner"); len(js) != 1 || js[0].ID != newID {
		t.Errorf("jobs after prune: %+v", js)
	}
	if code, out := m.ExitCode("herdctlctl", "cost", "--since", "0"); code != 0 || strings.Contains(out, "0.5000") {
		t.Errorf("cost after prune: exit %d\n%s", code, out)
	}

	// The packaged timer runs with herdctl, and its service prunes.
	if out := m.Run("systemctl", "is-active", "herdctl-prune.timer"); strings.TrimSpace(out) != "active" {
		t.Errorf("herdctl-prune.timer is %s", out)
	}
	if code, out := m.ExitCode("systemctl", "start", "herdctl-prune.service"); code != 0 {
		t.Errorf("herdctl-prune.service: exit %d\n%s\n%s", code, out, m.Run("journalctl", "--no-pager", "-u", "herdctl-prune"))
	}
}

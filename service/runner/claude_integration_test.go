package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

// claudeAgent runs the real Claude Code CLI in the host image against a
// stand-in API on loopback (host network, granted by the fleet, until the
// egress proxy lands).
func (r *rig) claudeAgent(name string, script []testbed.Turn) (*policy.Agent, *testbed.API) {
	claude := testbed.RequireClaude(r.t)
	api := testbed.StartAPI(r.t, script)
	a := r.agent(name, nil)
	a.Claude.Path = claude
	a.Container.Network = "host"
	a.Container.MemoryBytes = 2 << 30
	a.Container.PidsLimit = 256
	a.Container.TmpSize = 256 << 20
	a.Container.Env = map[string]string{
		"ANTHROPIC_BASE_URL": api.URL, "ANTHROPIC_API_KEY": "sk-test-not-real",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
	}
	return a, api
}

func TestClaudeWritesInWorkspace(t *testing.T) {
	r := newRig(t)
	a, _ := r.claudeAgent("writer", []testbed.Turn{
		{Tool: "Write", Input: map[string]any{"file_path": "/workspace/hello.txt", "content": "hello from the agent\n"}},
		{Text: "I wrote hello.txt."},
	})
	rec := r.run(context.Background(), a)
	if rec.Status != state.StatusCompleted {
		t.Fatalf("status %s (%s)\n%s", rec.Status, rec.ExitReason, r.out)
	}
	b, err := os.ReadFile(filepath.Join(a.Workspace, "hello.txt"))
	if err != nil || string(b) != "hello from the agent\n" {
		t.Fatalf("hello.txt = %q, %v\n%s", b, err, r.out)
	}
	if rec.SessionID == "" || rec.Turns == 0 {
		t.Errorf("record lacks session or turns: %+v", rec)
	}
	var kinds []string
	sawTool := false
	for _, e := range r.entries(rec.ID) {
		kinds = append(kinds, e["HERDCTL_EVENT"])
		if e["HERDCTL_TOOL"] == "Write" && strings.HasPrefix(e["MESSAGE"], "tool Write: /workspace/hello.txt") {
			sawTool = true
		}
		if e["HERDCTL_EVENT"] != "job_started" && e["HERDCTL_SESSION"] != rec.SessionID {
			t.Errorf("entry %q lacks the session id", e["MESSAGE"])
		}
	}
	if !sawTool {
		t.Errorf("no 'tool Write' entry; events %v", kinds)
	}
	joined := strings.Join(kinds, " ")
	for _, k := range []string{"job_started", "system", "assistant", "user", "result", "job_finished"} {
		if !strings.Contains(joined, k) {
			t.Errorf("no %s event in %v", k, kinds)
		}
	}
}

func TestClaudeReadOnlyWorkspace(t *testing.T) {
	r := newRig(t)
	a, _ := r.claudeAgent("rowriter", []testbed.Turn{
		{Tool: "Write", Input: map[string]any{"file_path": "/workspace/hello.txt", "content": "x"}},
		{Text: "tried"},
	})
	a.WorkspaceMode = "ro"
	rec := r.run(context.Background(), a)
	if _, err := os.Stat(filepath.Join(a.Workspace, "hello.txt")); err == nil {
		t.Fatal("the agent wrote into a read-only workspace")
	}
	if rec.Finished == nil || rec.Status == state.StatusRunning {
		t.Errorf("record not finished: %+v", rec)
	}
	t.Logf("ro workspace: job %s, %s", rec.Status, rec.ExitReason)
}

// bashTouches has the agent ask for Bash to touch a file in its
// workspace, and reports whether the file appeared.
func bashTouches(t *testing.T, mode string, allowed []string) bool {
	r := newRig(t)
	a, _ := r.claudeAgent("bash", []testbed.Turn{
		{Tool: "Bash", Input: map[string]any{"command": "touch /workspace/pwned", "description": "touch"}},
		{Text: "done"},
	})
	a.Claude.PermissionMode = mode
	a.Claude.AllowedTools = allowed
	rec := r.run(context.Background(), a)
	_, err := os.Stat(filepath.Join(a.Workspace, "pwned"))
	t.Logf("Bash under %s with allowed_tools %v: job %s, file made: %v", mode, allowed, rec.Status, err == nil)
	return err == nil
}

func TestClaudeBashRefusedWhenNotAllowed(t *testing.T) {
	if bashTouches(t, "dontAsk", []string{"Read"}) {
		t.Fatal("Bash ran although not in allowed_tools under dontAsk")
	}
}

// TestClaudeBashRunsWhenAllowed is the control of the test above: the
// same script under bypassPermissions does run, so the refusal is the
// permission policy's doing.
func TestClaudeBashRunsWhenAllowed(t *testing.T) {
	if !bashTouches(t, "bypassPermissions", nil) {
		t.Fatal("Bash did not run under bypassPermissions")
	}
}

// TestClaudeEveryAllowedToolCounts: tools reach claude one per option
// (--allowedTools=Read --allowedTools=Bash), and the real CLI honours the
// second as well as the first.
func TestClaudeEveryAllowedToolCounts(t *testing.T) {
	if !bashTouches(t, "dontAsk", []string{"Read", "Bash"}) {
		t.Fatal("Bash, the second of two allowed tools, did not run under dontAsk")
	}
}

// TestClaudeToolInjectionInert: even a tool value that package config
// would refuse, put straight into the snapshot, stays a value: it does
// not switch permissions off.
func TestClaudeToolInjectionInert(t *testing.T) {
	if bashTouches(t, "dontAsk", []string{"Read", "--permission-mode=bypassPermissions", "--dangerously-skip-permissions"}) {
		t.Fatal("an injected option turned the permission policy off")
	}
}

package runner

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/internal/testbed"
)

var update = flag.Bool("update", false, "rewrite testdata/claude/*.jsonl from the real CLI")

// claudeCases are the outcomes the real CLI is driven to by the stand-in.
var claudeCases = map[string]struct {
	script   []testbed.Turn
	maxTurns int
	noKey    bool
}{
	"completed":      {script: []testbed.Turn{{Text: "All done."}}},
	"auth-401":       {script: []testbed.Turn{{Status: 401, ErrType: "authentication_error", Text: "invalid x-api-key"}}},
	"forbidden-403":  {script: []testbed.Turn{{Status: 403, ErrType: "permission_error", Text: "Your API key does not have permission to use the specified resource."}}},
	"rate-429":       {script: []testbed.Turn{{Status: 429, ErrType: "rate_limit_error", Text: "Number of request tokens has exceeded your per-minute rate limit"}}},
	"overloaded-529": {script: []testbed.Turn{{Status: 529, ErrType: "overloaded_error", Text: "Overloaded"}}},
	"server-500":     {script: []testbed.Turn{{Status: 500, ErrType: "api_error", Text: "Internal server error"}}},
	"max-turns": {maxTurns: 1, script: []testbed.Turn{
		{Tool: "Bash", Input: map[string]any{"command": "true", "description": "one"}},
		{Tool: "Bash", Input: map[string]any{"command": "true", "description": "two"}},
		{Text: "done"}}},
	"no-key": {noKey: true, script: []testbed.Turn{{Text: "never"}}},
}

// TestClaudeFailureReasons drives the real CLI to each outcome and checks
// the reason the job is recorded with; with -update it also keeps the
// CLI's stream-json output under testdata/claude for the unit table test.
func TestClaudeFailureReasons(t *testing.T) {
	r := newRig(t)
	for name, c := range claudeCases {
		t.Run(name, func(t *testing.T) {
			a, _ := r.claudeAgent(name, c.script)
			a.Claude.PermissionMode = "bypassPermissions"
			a.Claude.MaxTurns = c.maxTurns
			if c.noKey {
				delete(a.Container.Env, "ANTHROPIC_API_KEY")
			}
			rec := r.run(context.Background(), a)
			var lines []string
			for _, e := range r.entries(rec.ID) {
				if raw := e["HERDCTL_EVENT_JSON"]; raw != "" && e["HERDCTL_EVENT"] != "output" && e["HERDCTL_EVENT"] != "stderr" {
					lines = append(lines, raw)
				}
			}
			if *update {
				os.MkdirAll("testdata/claude", 0o755)
				os.WriteFile(filepath.Join("testdata/claude", name+".jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
			}
			want := wantReasons[name]
			if rec.Status != want.status || !strings.Contains(rec.ExitReason, want.reason) {
				t.Errorf("job %s: %q, want %s containing %q", rec.Status, rec.ExitReason, want.status, want.reason)
			}
		})
	}
}

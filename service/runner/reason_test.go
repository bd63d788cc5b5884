package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/containerd"
	"github.com/herdctl/herdctl/state"
)

// wantReasons is what each case of claudeCases is recorded as.
var wantReasons = map[string]struct{ status, reason string }{
	"completed":      {state.StatusCompleted, "completed"},
	"auth-401":       {state.StatusFailed, "authentication failed (HTTP 401)"},
	"forbidden-403":  {state.StatusFailed, "permission denied (HTTP 403)"},
	"rate-429":       {state.StatusFailed, "rate limited (HTTP 429)"},
	"overloaded-529": {state.StatusFailed, "the API is overloaded (HTTP 529)"},
	"server-500":     {state.StatusFailed, "the API failed (HTTP 500)"},
	"max-turns":      {state.StatusFailed, "max_turns"},
	"no-key":         {state.StatusFailed, "no credentials"},
}

// TestOutcomeReasons maps the real CLI's output for each outcome, kept
// under testdata/claude (go test -run ClaudeFailureReasons -args -update
// with HERDCTL_INTEGRATION=1 captures it again), to the reason a job is
// recorded with; and the exits that carry no result.
func TestOutcomeReasons(t *testing.T) {
	for name, want := range wantReasons {
		b, err := os.ReadFile(filepath.Join("testdata/claude", name+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		out := &taskOutcome{}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			ev := ParseEvent([]byte(line))
			if ev.Result != nil {
				out.result = ev.Result
			}
			if ev.APIError != nil {
				out.apiErr = ev.APIError
			}
		}
		if out.result != nil && out.result.IsError {
			out.exit.Code = 1
		}
		status, reason := outcomeReason(out)
		if status != want.status || !strings.Contains(reason, want.reason) {
			t.Errorf("%s: %s %q, want %s containing %q", name, status, reason, want.status, want.reason)
		}
		if strings.Contains(reason, ": success") {
			t.Errorf("%s: the reason names the subtype success: %q", name, reason)
		}
	}
	for _, c := range []struct {
		out    taskOutcome
		status string
		reason string
	}{
		{taskOutcome{exit: containerd.Exit{Code: 137}}, state.StatusFailed, "SIGKILL"},
		{taskOutcome{exit: containerd.Exit{Code: 143}}, state.StatusFailed, "signal 15"},
		{taskOutcome{exit: containerd.Exit{Code: 2}}, state.StatusFailed, "exited 2 without a result"},
		{taskOutcome{exit: containerd.Exit{Code: 0, OOM: true}}, state.StatusFailed, "OOM"},
		{taskOutcome{exit: containerd.Exit{Code: 0}}, state.StatusCompleted, "completed"},
		{taskOutcome{result: &Result{IsError: true, Subtype: "success", Result: ""}}, state.StatusFailed, "no details"},
		{taskOutcome{result: &Result{IsError: true, Subtype: "error_during_execution", Errors: []string{"boom"}}}, state.StatusFailed, "failed during the run: boom"},
	} {
		status, reason := outcomeReason(&c.out)
		if status != c.status || !strings.Contains(reason, c.reason) {
			t.Errorf("%+v: %s %q, want %s containing %q", c.out, status, reason, c.status, c.reason)
		}
	}
}

package hook

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

func TestSelect(t *testing.T) {
	h := policy.Hooks{
		OnError:   []policy.Hook{{Type: policy.HookWebhook}, {Type: policy.HookShell}},
		OnSuccess: []policy.Hook{{Type: policy.HookShell}},
		AfterRun:  []policy.Hook{{Type: policy.HookShell}},
	}
	for _, c := range []struct {
		status string
		want   string
	}{
		{state.StatusFailed, "on_error[0] on_error[1] after_run[0]"},
		{state.StatusTimedOut, "on_error[0] on_error[1] after_run[0]"},
		{state.StatusCompleted, "on_success[0] after_run[0]"},
		{state.StatusCancelled, "after_run[0]"},
		{state.StatusRunning, ""},
		{state.StatusQueued, ""},
		{state.StatusSkipped, ""},
	} {
		var names []string
		for _, s := range Select(h, c.status) {
			names = append(names, s.Name())
		}
		if got := strings.Join(names, " "); got != c.want {
			t.Errorf("%s: got %q, want %q", c.status, got, c.want)
		}
	}
}

// TestSign checks against the example of GitHub's webhook documentation,
// which signs the same way.
func TestSign(t *testing.T) {
	secret, body := []byte("It's a Secret to Everybody"), []byte("Hello, World!")
	want := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := Sign(secret, body); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if !Verify(secret, body, want) || Verify(secret, append(body, '!'), want) || Verify([]byte("other"), body, want) {
		t.Error("Verify accepts what it should not, or refuses what it should accept")
	}
}

func TestPayload(t *testing.T) {
	end := time.Date(2026, 11, 30, 2, 1, 0, 0, time.UTC)
	code := 1
	j := &state.Job{ID: "20261130-020031-4fa9c2", Agent: "gardener", Schedule: "weather", Trigger: state.TriggerSchedule,
		Prompt: "p $(rm -rf /)", Result: "r\x1b[2J", Status: state.StatusFailed, ExitReason: "authentication failed (HTTP 401)",
		ExitCode: &code, Started: end.Add(-29 * time.Second), Finished: &end, DurationMS: 29000, Unit: "herdctl-gardener-weather.service",
		UnitState: "inactive", Invocation: "abc", Redacted: true}
	p := NewPayload("home", j, Selected{Event: OnError, Index: 1})
	b := p.Encode()
	if b[len(b)-1] != '\n' || strings.Count(string(b), "\n") != 1 {
		t.Errorf("not one line of JSON: %q", b)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	job := back["job"].(map[string]any)
	for k, want := range map[string]any{"version": 1.0, "event": "on_error", "hook": "on_error[1]", "fleet": "home", "agent": "gardener"} {
		if back[k] != want {
			t.Errorf("%s = %v, want %v", k, back[k], want)
		}
	}
	for k, want := range map[string]any{"id": j.ID, "status": "failed", "prompt": j.Prompt, "result": j.Result, "exit_code": 1.0, "duration_ms": 29000.0} {
		if job[k] != want {
			t.Errorf("job.%s = %v, want %v", k, job[k], want)
		}
	}
	// What the daemon adds when it shows a job is not the hook's.
	for _, k := range []string{"unit_state", "invocation", "redacted", "hooks"} {
		if _, ok := job[k]; ok {
			t.Errorf("job.%s is in the payload", k)
		}
	}
}

func TestDeadline(t *testing.T) {
	s := Spec{Timeout: 10 * time.Second, Retries: 3}
	// Four attempts of 10 s, waits of 1, 2 and 4 s, and a 10 s margin.
	if got, want := s.Deadline(), 57*time.Second; got != want {
		t.Errorf("Deadline = %s, want %s", got, want)
	}
	if Backoff(10) != 30*time.Second {
		t.Errorf("Backoff(10) = %s, want the 30 s cap", Backoff(10))
	}
}

package hook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

// Events, as the fleet file names them ([[defaults.hooks.on_error]]).
const (
	OnError   = "on_error"
	OnSuccess = "on_success"
	AfterRun  = "after_run"
)

// Selected is one hook a job's outcome selected.
type Selected struct {
	Event string
	Index int
	policy.Hook
}

// Name is the hook as the fleet wrote it: "on_error[0]".
func (s Selected) Name() string { return fmt.Sprintf("%s[%d]", s.Event, s.Index) }

// Select lists the hooks that run after a job that ended in status, in
// order: on_error (failed or timed out) or on_success (completed), then
// after_run (every job that ran: cancelled ones too). A job that has not
// ended, or never ran (skipped for its budget), selects none.
func Select(h policy.Hooks, status string) []Selected {
	if !state.Finished(status) || status == state.StatusSkipped {
		return nil
	}
	var out []Selected
	add := func(event string, hs []policy.Hook) {
		for i, x := range hs {
			out = append(out, Selected{Event: event, Index: i, Hook: x})
		}
	}
	switch status {
	case state.StatusFailed, state.StatusTimedOut:
		add(OnError, h.OnError)
	case state.StatusCompleted:
		add(OnSuccess, h.OnSuccess)
	}
	add(AfterRun, h.AfterRun)
	return out
}

// PayloadVersion is the version of the JSON hooks receive; a field is
// only ever added to it.
const PayloadVersion = 1

// Payload is the JSON a hook receives: on its stdin (shell) or as the
// body of a POST (webhook).
type Payload struct {
	Version int    `json:"version"`
	Event   string `json:"event"`
	Hook    string `json:"hook"`
	Fleet   string `json:"fleet"`
	Agent   string `json:"agent"`
	Job     Job    `json:"job"`
}

// Job is the job as a hook sees it. Prompt, Result, Error and ExitReason
// hold text the agent wrote: a hook must treat them as untrusted data.
type Job struct {
	ID           string     `json:"id"`
	Schedule     string     `json:"schedule,omitempty"`
	Trigger      string     `json:"trigger"`
	Status       string     `json:"status"`
	ExitReason   string     `json:"exit_reason,omitempty"`
	ExitCode     *int       `json:"exit_code,omitempty"`
	Error        string     `json:"error,omitempty"`
	Unit         string     `json:"unit,omitempty"`
	Started      time.Time  `json:"started"`
	Finished     *time.Time `json:"finished,omitempty"`
	DurationMS   int64      `json:"duration_ms"`
	SessionID    string     `json:"session_id,omitempty"`
	Turns        int        `json:"turns"`
	InputTokens  int64      `json:"input_tokens"`
	OutputTokens int64      `json:"output_tokens"`
	CostUSD      float64    `json:"cost_usd"`
	Prompt       string     `json:"prompt,omitempty"`
	Result       string     `json:"result,omitempty"`
}

// NewPayload is the JSON hook s gets about job j of fleet.
func NewPayload(fleet string, j *state.Job, s Selected) Payload {
	return Payload{Version: PayloadVersion, Event: s.Event, Hook: s.Name(), Fleet: fleet, Agent: j.Agent,
		Job: Job{ID: j.ID, Schedule: j.Schedule, Trigger: j.Trigger, Status: j.Status, ExitReason: j.ExitReason,
			ExitCode: j.ExitCode, Error: j.Error, Unit: j.Unit, Started: j.Started, Finished: j.Finished,
			DurationMS: j.DurationMS, SessionID: j.SessionID, Turns: j.Turns, InputTokens: j.InputTokens,
			OutputTokens: j.OutputTokens, CostUSD: j.CostUSD, Prompt: j.Prompt, Result: j.Result}}
}

// Encode is the payload as the hook gets it: one line of JSON.
func (p Payload) Encode() []byte {
	b, _ := json.Marshal(p) // only strings, numbers and times: never fails
	return append(b, '\n')
}

// SignatureHeader carries a webhook body's signature when its hook has a
// secret: "sha256=" and the hex HMAC-SHA256 of the body, keyed with the
// secret, as GitHub's webhooks sign theirs.
const SignatureHeader = "X-Herdctl-Signature"

// Sign is the value of SignatureHeader for body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is body's under secret, in constant
// time: what a receiver does.
func Verify(secret, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}

// Spec is what a webhook's unit is told besides the job: where to POST
// and how. It holds the secret (a discord or slack hook's bot token):
// the daemon writes it root-only and systemd hands it to the unit as a
// credential (SpecCredential).
type Spec struct {
	// Type is the hook's: policy.HookWebhook ("" in older specs),
	// HookDiscord or HookSlack, with the Channel it posts to.
	Type          string        `json:"type,omitempty"`
	Channel       string        `json:"channel,omitempty"`
	URL           string        `json:"url"`
	Secret        string        `json:"secret,omitempty"`
	Timeout       time.Duration `json:"timeout"`
	Retries       int           `json:"retries"`
	EgressPrivate []string      `json:"egress_private,omitempty"`
}

// SpecCredential is the name of a webhook unit's credential
// ($CREDENTIALS_DIRECTORY/webhook).
const SpecCredential = "webhook"

// NewSpec is the settings of webhook h.
func NewSpec(h policy.Hook) Spec {
	return Spec{Type: h.Type, Channel: h.Channel, URL: h.URL, Secret: h.Secret, Timeout: h.Timeout, Retries: h.Retries, EgressPrivate: h.EgressPrivate}
}

// Hook is the policy hook the spec describes, for its egress rules.
func (s Spec) Hook() policy.Hook {
	typ := s.Type
	if typ == "" {
		typ = policy.HookWebhook
	}
	return policy.Hook{Type: typ, Channel: s.Channel, URL: s.URL, Secret: s.Secret, Timeout: s.Timeout, Retries: s.Retries, EgressPrivate: s.EgressPrivate}
}

// Result is what a webhook's unit writes on its stdout (a root-only file
// the daemon reads when the unit has ended).
type Result struct {
	OK         bool   `json:"ok"`
	Reason     string `json:"reason,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
	Attempts   int    `json:"attempts"`
	DurationMS int64  `json:"duration_ms"`
}

// Backoff is how long a webhook waits before attempt n (1 for the first
// retry): 1 s, 2 s, 4 s, ... up to 30 s.
func Backoff(n int) time.Duration {
	if n < 1 {
		return 0
	}
	d := time.Second << min(n-1, 5)
	return min(d, 30*time.Second)
}

// Deadline bounds a whole webhook run: every attempt and every wait
// between them, and a margin. It is the unit's start timeout.
func (s Spec) Deadline() time.Duration {
	d := 10 * time.Second
	for n := 0; n <= s.Retries; n++ {
		d += s.Timeout + Backoff(n)
	}
	return d
}

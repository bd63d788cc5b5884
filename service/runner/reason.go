package runner

import (
	"fmt"
	"strings"

	"github.com/herdctl/herdctl/state"
)

// apiError is what Claude Code says about an API error, in the synthetic
// assistant message it makes for one.
type apiError struct {
	Kind   string // "authentication_failed", "rate_limit", "server_error"...
	Status int    // HTTP status, 0 when no request was made
	Type   string // the API's error type
}

// credentialsHint is where the operator puts the credentials.
const credentialsHint = "ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN in /etc/herdctl/herdctl.env, then systemctl reload herdctl"

// resultReason is the short reason and hint of a job whose Claude Code
// run ended in an error (the result event said is_error), naming the
// cause: the API's answer, the turn limit, the budget. Never the
// result's subtype alone, which says "success" for an API error.
func resultReason(res *Result, api *apiError) string {
	status := res.APIErrorStatus
	kind := ""
	if api != nil {
		kind = api.Kind
		if status == 0 {
			status = api.Status
		}
	}
	switch {
	case res.Subtype == "error_max_turns" || res.TerminalReason == "max_turns":
		return fmt.Sprintf("max_turns reached after %d turns: raise max_turns, or give the agent a narrower task", res.NumTurns)
	case res.Subtype == "error_max_budget_usd" || res.TerminalReason == "max_budget":
		return "budget: the job reached its spending limit (max_cost_usd_per_day or max_cost_usd_per_job)"
	case status == 401 || (status == 0 && kind == "authentication_failed" && strings.Contains(res.Result, "API key")):
		return "authentication failed (HTTP 401): the API refused the credentials; check " + credentialsHint
	case status == 0 && kind == "authentication_failed":
		return "no credentials: Claude Code found no API key or OAuth token; put " + credentialsHint
	case status == 403:
		return "permission denied (HTTP 403): the credentials may not use this model or resource; check the agent's model and the key's workspace"
	case status == 429:
		return "rate limited (HTTP 429): the API's limit for these credentials was reached; spread the agents' schedules or raise the limit"
	case status == 529:
		return "the API is overloaded (HTTP 529): usually temporary; the next run will likely succeed"
	case status >= 500:
		return fmt.Sprintf("the API failed (HTTP %d): usually temporary; try again", status)
	case status >= 400:
		return fmt.Sprintf("the API refused the request (HTTP %d): %s", status, clip(res.Result))
	case res.Subtype == "error_during_execution":
		return "Claude Code failed during the run: " + clip(firstOf(strings.Join(res.Errors, "; "), res.Result))
	}
	return "Claude Code reported an error: " + clip(firstOf(res.Result, strings.Join(res.Errors, "; "), res.TerminalReason, "no details"))
}

// outcomeReason is the status and reason of a task that ran to its end,
// from its exit and what Claude Code said.
func outcomeReason(out *taskOutcome) (status, reason string) {
	code := out.exit.Code
	switch {
	case out.limit != nil:
		return state.StatusFailed, out.limit.Error()
	case out.exit.OOM:
		return state.StatusFailed, "the memory limit was reached: the kernel killed a process of the job (OOM); raise docker.memory if the agent needs more"
	case out.result != nil && out.result.IsError:
		return state.StatusFailed, resultReason(out.result, out.apiErr)
	case code == 0:
		return state.StatusCompleted, "completed"
	case code == 137:
		return state.StatusFailed, "killed (SIGKILL): most likely the pids limit; raise docker.pids_limit if the agent needs more processes"
	case code > 128:
		return state.StatusFailed, fmt.Sprintf("killed by signal %d", code-128)
	case out.result == nil:
		return state.StatusFailed, fmt.Sprintf("exited %d without a result: see the job's stderr (herdctlctl logs JOB)", code)
	}
	return state.StatusFailed, fmt.Sprintf("exited %d", code)
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

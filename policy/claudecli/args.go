package claudecli

import (
	"strconv"

	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

// Args is the command line of Claude Code for one job: print mode,
// stream-json with every event, the agent's permission mode, model, turn
// limit, tools, system prompt and MCP servers, an optional session to
// resume, and the prompt last, after "--".
//
// Every value an agent file can set is joined to its option with "="
// ("--model=sonnet", one "--allowedTools=Read" per tool), so that no value
// is ever a word of its own that Claude Code could read as another option,
// whatever it holds; package config also refuses values that start with
// "-". A resume id that is not a session id is dropped. A job's own
// budget (what is left of the agent's day, at most its per-job limit)
// becomes --max-budget-usd when it is above 0.
func Args(a *policy.Agent, j Job) []string {
	prompt, resume := j.Prompt, j.Resume
	c := a.Claude
	args := []string{Binary, "-p", "--output-format=stream-json", "--verbose",
		"--permission-mode=" + c.PermissionMode}
	if c.Model != "" {
		args = append(args, "--model="+c.Model)
	}
	if c.MaxTurns > 0 {
		args = append(args, "--max-turns="+strconv.Itoa(c.MaxTurns))
	}
	for _, t := range c.AllowedTools {
		args = append(args, "--allowedTools="+t)
	}
	for _, t := range c.DeniedTools {
		args = append(args, "--disallowedTools="+t)
	}
	if c.SystemPrompt != "" {
		args = append(args, "--append-system-prompt="+c.SystemPrompt)
	}
	if c.MCPConfig != "" {
		args = append(args, "--mcp-config="+c.MCPConfig)
	}
	if state.IsSessionID(resume) {
		args = append(args, "--resume="+resume)
	}
	if j.MaxBudgetUSD > 0 {
		args = append(args, "--max-budget-usd="+strconv.FormatFloat(j.MaxBudgetUSD, 'f', 6, 64))
	}
	return append(args, "--", prompt)
}

// Job is what one job adds to the agent's Claude Code command line.
type Job struct {
	Prompt       string
	Resume       string  // a session id to continue, or ""
	MaxBudgetUSD float64 // Claude Code's own spending limit for the job, 0 for none
}

// WithResume is argv, a command line Args made without a session, with
// the session id continued: --resume before the "--" that ends the
// options (the word before the prompt, which is the last). argv is
// returned unchanged when id is not a session id or argv does not end so.
func WithResume(argv []string, id string) []string {
	i := len(argv) - 2
	if !state.IsSessionID(id) || i < 1 || argv[i] != "--" {
		return argv
	}
	return append(append(append([]string(nil), argv[:i]...), "--resume="+id), argv[i:]...)
}

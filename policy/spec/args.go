package spec

import (
	"strconv"

	"github.com/herdctl/herdctl/policy"
)

// ClaudeArgs is the command line of Claude Code for one job: print mode,
// stream-json with every event, the agent's permission mode, model, turn
// limit, tools, system prompt and MCP servers, an optional session to
// resume, and the prompt last, after "--" so it is never read as a flag.
func ClaudeArgs(a *policy.Agent, prompt, resume string) []string {
	c := a.Claude
	args := []string{ClaudeInContainer, "-p", "--output-format", "stream-json", "--verbose",
		"--permission-mode", c.PermissionMode}
	if c.Model != "" {
		args = append(args, "--model", c.Model)
	}
	if c.MaxTurns > 0 {
		args = append(args, "--max-turns", strconv.Itoa(c.MaxTurns))
	}
	if len(c.AllowedTools) > 0 {
		args = append(args, "--allowedTools")
		args = append(args, c.AllowedTools...)
	}
	if len(c.DeniedTools) > 0 {
		args = append(args, "--disallowedTools")
		args = append(args, c.DeniedTools...)
	}
	if c.SystemPrompt != "" {
		args = append(args, "--append-system-prompt", c.SystemPrompt)
	}
	if c.MCPConfig != "" {
		args = append(args, "--mcp-config", c.MCPConfig)
	}
	if resume != "" {
		args = append(args, "--resume", resume)
	}
	return append(args, "--", prompt)
}

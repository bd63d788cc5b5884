package claudecli

import "github.com/herdctl/herdctl/policy"

// Paths inside every agent container.
const (
	// WorkspaceDir is where the agent's workspace is, and the job's
	// working directory.
	WorkspaceDir = policy.WorkspaceDir
	// Binary is where Claude Code is inside the container.
	Binary = "/opt/herdctl/bin/claude"
)

// HomeIn is the agent's home directory inside its container.
func HomeIn(agent string) string { return "/home/" + agent }

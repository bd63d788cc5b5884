package claudecli

// Binary is where Claude Code is inside the container. (The workspace is
// at policy.WorkspaceDir.)
const Binary = "/opt/herdctl/bin/claude"

// HomeIn is the agent's home directory inside its container.
func HomeIn(agent string) string { return "/home/" + agent }

package policy

// RelayPort is where a job's API relay listens inside the agent's network
// namespace, beside the egress proxy.
const RelayPort = 3129

// Credential variables Claude Code reads. ANTHROPIC_BASE_URL is where it
// sends them.
const (
	EnvAPIKey     = "ANTHROPIC_API_KEY"
	EnvOAuthToken = "CLAUDE_CODE_OAUTH_TOKEN"
	EnvBaseURL    = "ANTHROPIC_BASE_URL"
)

// DefaultAPIURL is the Anthropic API, where Claude Code goes without
// ANTHROPIC_BASE_URL.
const DefaultAPIURL = "https://api.anthropic.com"

// RelayPlaceholder is the credential a container behind the relay holds:
// Claude Code needs one to send a request, the relay replaces it with the
// real one.
const RelayPlaceholder = "sk-ant-herdctl-relay-holds-the-real-credential"

// UsesRelay says whether a's jobs reach the API through the runner's
// relay, which holds the credential outside the container: a Claude agent
// with network = "egress" and a credential. An agent with network = "host"
// gets the credential itself (the host's whole network is its anyway); one
// with "none" cannot reach the API.
func UsesRelay(a *Agent) bool {
	return len(a.Command) == 0 && a.Container.Network == NetworkEgress &&
		(a.Container.HasEnv(EnvAPIKey) || a.Container.HasEnv(EnvOAuthToken))
}

// RelayCredential is the credential variable the relay holds for c, and
// the one its container gets the placeholder in: the API key when c has
// one, as Claude Code prefers it, else the OAuth token.
func RelayCredential(c Container) string {
	if c.HasEnv(EnvAPIKey) {
		return EnvAPIKey
	}
	return EnvOAuthToken
}

package config

// Hooks are what runs after each job of an agent: programs and webhooks
// the fleet names, told about the job. Only the fleet file may set them
// (package policy refuses them in an agent file): a hook runs a program
// on the host or sends the job's data out of it. An event's list in an
// agent's [agents.overrides.hooks] replaces the [defaults.hooks] one, as
// every array does.
type Hooks struct {
	// OnError runs after a job that failed or timed out.
	OnError []Hook `toml:"on_error"`
	// OnSuccess runs after a job that completed.
	OnSuccess []Hook `toml:"on_success"`
	// AfterRun runs after every job that ran, whatever its outcome.
	AfterRun []Hook `toml:"after_run"`
}

// Hook is one hook: a program run as the hook user (type "shell"), a
// POST to a URL (type "webhook"), with the job as JSON, or a short
// summary of the job posted to a Discord or Slack channel by a bot
// (type "discord" or "slack").
type Hook struct {
	Type string `toml:"type"`
	// Command is a shell hook's program and arguments; the program's
	// path is absolute. No shell is involved and nothing of the job is
	// ever put into it.
	Command []string `toml:"command"`
	// Network is a shell hook's network: "none" (the default) or "host".
	Network string `toml:"network"`
	// URL is a webhook's http or https destination.
	URL string `toml:"url"`
	// Secret signs a webhook's body (X-Herdctl-Signature).
	Secret string `toml:"secret"`
	// Timeout bounds a shell hook's run, or each attempt of a webhook.
	Timeout string `toml:"timeout"`
	// Retries is how many times a webhook is tried again after a failed
	// attempt.
	Retries *int `toml:"retries"`
	// EgressPrivate lists the private ranges a webhook's host may
	// resolve into, as docker.egress_private does for an agent.
	EgressPrivate []string `toml:"egress_private"`
	// Token and Channel are a discord or slack hook's bot token and the
	// channel it posts to.
	Token   string `toml:"token"`
	Channel string `toml:"channel"`
}

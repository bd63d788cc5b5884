package claudecli

import (
	"sort"
	"strings"

	"github.com/herdctl/herdctl/policy"
)

// EnvPrompt holds the job's prompt for an agent whose fleet gave it a
// command instead of Claude Code.
const EnvPrompt = "HERDCTL_PROMPT"

// Env is a job's environment but for the job's own values: herdctl's
// variables, HERDCTL_JOB when job is not "", the way out through proxy
// (an http:// URL) when the agent has network = "egress", with loopback
// and the hosts direct reached without it, then the fleet's docker.env as
// the agent holds it (a.Container.Env; secrets are the caller's, from
// SecretEnv), sorted by name.
func Env(a *policy.Agent, job, proxy string, direct ...string) []string {
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin:/opt/herdctl/bin",
		"HOME=" + HomeIn(a.Name),
		"USER=" + a.Name,
		"LANG=C.UTF-8",
		"DISABLE_AUTOUPDATER=1",
		"HERDCTL_AGENT=" + a.Name,
	}
	if job != "" {
		env = append(env, "HERDCTL_JOB="+job)
	}
	if a.Container.Network == policy.NetworkEgress {
		// The only way out is the proxy. Claude Code's telemetry is not
		// on the list.
		noProxy := strings.Join(append([]string{"localhost", "127.0.0.1", "::1"}, direct...), ",")
		env = append(env, "HTTPS_PROXY="+proxy, "HTTP_PROXY="+proxy, "https_proxy="+proxy, "http_proxy="+proxy,
			"NO_PROXY="+noProxy, "no_proxy="+noProxy,
			"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1")
	}
	keys := make([]string, 0, len(a.Container.Env))
	for k := range a.Container.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+a.Container.Env[k])
	}
	return env
}

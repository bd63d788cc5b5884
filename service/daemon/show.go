package daemon

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
)

// keepConfigs keeps each loaded agent's configuration, with where each
// value was written, for ShowAgent.
func (d *Daemon) keepConfigs(f *policy.Fleet) {
	m := make(map[string]*config.AgentConfig, len(f.Config.Agents))
	for _, a := range f.Config.Agents {
		m[a.Name] = a
	}
	d.mu.Lock()
	d.configs = m
	d.mu.Unlock()
}

// ShowAgent is an agent's effective configuration, after defaults and
// overrides, each value with where it came from (file:line, or a
// default), and no secret: the environment's values are withheld.
func (d *Daemon) ShowAgent(name string) ([]api.ConfigValue, error) {
	d.mu.Lock()
	a, cfg := d.agents[name], d.configs[name]
	d.mu.Unlock()
	if a == nil {
		return nil, errorf(ErrNotFound, "no agent %q in the fleet: list them with herdctlctl agents", name)
	}
	var out []api.ConfigValue
	add := func(path, value string, fallback string) {
		from := fallback
		if cfg != nil {
			if loc, ok := cfg.Origin(path); ok {
				from = loc.String()
			}
		}
		out = append(out, api.ConfigValue{Field: path, Value: value, From: from})
	}
	c := a.Container
	add("name", a.Name, a.File)
	add("description", a.Description, "unset")
	add("default_prompt", a.DefaultPrompt, "unset")
	add("system_prompt", a.Claude.SystemPrompt, "unset")
	add("model", orWord(a.Claude.Model, "Claude Code's default"), "default")
	add("permission_mode", a.Claude.PermissionMode, "default")
	add("max_turns", orWord(itoaNonZero(a.Claude.MaxTurns), "no limit"), "default")
	add("allowed_tools", strings.Join(a.Claude.AllowedTools, ", "), "unset")
	add("denied_tools", strings.Join(a.Claude.DeniedTools, ", "), "unset")
	add("working_directory", a.Workspace, "the agent file's directory")
	add("timeout", a.Timeout.String(), "default")
	add("log_budget", strconv.FormatInt(a.LogBudget, 10)+" bytes", "default")
	add("log_budget_daily", strconv.FormatInt(a.LogBudgetDaily, 10)+" bytes", "default")
	add("instances.max_concurrent", strconv.Itoa(a.MaxConcurrent), "default")
	add("docker.image", c.Image, "default")
	add("docker.network", c.Network, "default")
	if c.Network == policy.NetworkEgress {
		add("docker.egress", strings.Join(c.Egress, ", "), "default ("+strings.Join(policy.DefaultEgress, ", ")+")")
		add("docker.egress_private", strings.Join(c.EgressPrivate, ", "), "unset")
	}
	userFrom := "the workspace's owner"
	add("docker.user", fmt.Sprintf("%d:%d", c.UID, c.GID), userFrom)
	add("docker.workspace_mode", a.WorkspaceMode, "default")
	add("docker.memory", strconv.FormatInt(c.MemoryBytes, 10)+" bytes", "default")
	add("docker.pids_limit", strconv.FormatInt(c.PidsLimit, 10), "default")
	add("docker.cpu_shares", orWord(strconv.FormatUint(c.CPUShares, 10), "unset"), "unset")
	if c.CPUQuota != 0 {
		add("docker.cpu_quota", fmt.Sprintf("%d per %d µs", c.CPUQuota, c.CPUPeriod), "unset")
	}
	add("docker.disk", strconv.FormatInt(c.DiskBytes, 10)+" bytes", "default")
	add("docker.inodes", strconv.FormatInt(c.Inodes, 10), "default")
	var tmpfs []string
	for _, t := range c.Tmpfs {
		tmpfs = append(tmpfs, t.Path+":"+strings.Join(t.Options, ","))
	}
	add("docker.tmpfs", strings.Join(tmpfs, "; "), "unset")
	var vols []string
	for _, v := range c.Volumes {
		mode := "rw"
		if v.ReadOnly {
			mode = "ro"
		}
		vols = append(vols, v.Source+":"+v.Target+":"+mode)
	}
	add("docker.volumes", strings.Join(vols, "; "), "unset")
	keys := make([]string, 0, len(c.Env))
	for k := range c.Env {
		keys = append(keys, k+"=(withheld)")
	}
	sort.Strings(keys)
	add("docker.env", strings.Join(keys, " "), "unset")
	if len(a.Command) > 0 {
		add("command", strings.Join(a.Command, " "), "unset")
	}
	for _, ev := range []struct {
		name  string
		hooks []policy.Hook
	}{{"on_error", a.Hooks.OnError}, {"on_success", a.Hooks.OnSuccess}, {"after_run", a.Hooks.AfterRun}} {
		for i, h := range ev.hooks {
			add(fmt.Sprintf("hooks.%s[%d]", ev.name, i), showHook(h), "unset")
		}
	}
	for _, s := range a.Schedules {
		p := "schedules." + s.Name
		when := "every " + s.Interval.String()
		if s.Cron != nil {
			when = "cron " + s.Cron.Expr
		}
		add(p+".type", s.Type, "unset")
		add(p+"."+map[bool]string{true: "cron", false: "interval"}[s.Cron != nil], when, "unset")
		add(p+".timeout", s.Timeout.Round(time.Second).String(), "timeout")
		add(p+".enabled", strconv.FormatBool(s.Enabled), "default")
		add(p+".prompt", s.Prompt, "default_prompt")
	}
	return out, nil
}

func orWord(v, word string) string {
	if v == "" || v == "0" {
		return word
	}
	return v
}

func itoaNonZero(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// showHook describes a hook without its secrets: a webhook's URL only as
// far as its host (a path or query may hold a token).
func showHook(h policy.Hook) string {
	if h.Type == policy.HookShell {
		return fmt.Sprintf("shell %s (network %s, timeout %s)", strings.Join(h.Command, " "), h.Network, h.Timeout)
	}
	dest := "(unparsable URL)"
	if u, err := url.Parse(h.URL); err == nil {
		dest = u.Scheme + "://" + u.Host
		if u.Path != "" || u.RawQuery != "" {
			dest += "/… (path withheld)"
		}
	}
	signed := "unsigned"
	if h.Secret != "" {
		signed = "signed (secret withheld)"
	}
	s := fmt.Sprintf("webhook %s, %s, timeout %s, %d retries", dest, signed, h.Timeout, h.Retries)
	if h.Type != policy.HookWebhook {
		s = fmt.Sprintf("%s to channel %s via %s (token withheld), timeout %s, %d retries", h.Type, h.Channel, dest, h.Timeout, h.Retries)
	}
	if len(h.EgressPrivate) > 0 {
		s += ", egress_private " + strings.Join(h.EgressPrivate, " ")
	}
	return s
}

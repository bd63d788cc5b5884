package config

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// NameRe is what agent, schedule and MCP server names must match: they
// become parts of systemd unit names and paths.
var NameRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`)

// ToolRe is what a tool rule in allowed_tools and denied_tools must match:
// a tool name (Read, Bash, mcp__server__tool), optionally followed by a
// specifier in parentheses ("Bash(git log:*)", "WebFetch(domain:x.org)").
// Nothing else: never a leading "-", so a rule can never be read as one of
// Claude Code's options.
var ToolRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\([^()\x00-\x1f\x7f]*\))?$`)

// ModelRe is what a model name must match.
var ModelRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@/\[\]-]*$`)

// Bounds of tool rules and model names.
const (
	MaxToolLen  = 256
	MaxModelLen = 128
)

func checkTool(t string) string {
	switch {
	case strings.TrimSpace(t) == "":
		return "empty tool name"
	case len(t) > MaxToolLen:
		return fmt.Sprintf("tool rule is %d characters long, at most %d are allowed", len(t), MaxToolLen)
	case !ToolRe.MatchString(t):
		return fmt.Sprintf("invalid tool rule %q: write a tool name (Read, Bash, mcp__server__tool), optionally with a specifier in parentheses, e.g. \"Bash(git log:*)\"; it cannot start with - or hold control characters", t)
	}
	return ""
}

// headerNameRe is what an HTTP header name may be (RFC 9110's token).
var headerNameRe = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// MaxNameLen bounds agent and schedule names so unit names stay short.
const MaxNameLen = 64

// PermissionModes are the Claude Code permission modes an agent may use.
var PermissionModes = []string{"default", "acceptEdits", "bypassPermissions", "plan", "dontAsk"}

// BudgetActions are the values of budget_action; the first is the default.
var BudgetActions = []string{"skip", "cancel"}

func checkName(kind, name string) string {
	switch {
	case name == "":
		return fmt.Sprintf("missing: every %s needs a name", kind)
	case len(name) > MaxNameLen:
		return fmt.Sprintf("%s name is %d characters long, at most %d are allowed", kind, len(name), MaxNameLen)
	case !NameRe.MatchString(name):
		return fmt.Sprintf("invalid %s name %q: use letters, digits, _ and -, starting with a letter or digit", kind, name)
	}
	return ""
}

func checkFleet(f *Fleet, raw *FleetFile, doc *document) Errors {
	var errs Errors
	at := func(p string) Location { return doc.idx.at(f.File, p) }
	if raw.Version != 0 && raw.Version != 1 {
		errs = append(errs, Errorf(at("version"), "unsupported version %d: this herdctl reads version = 1", raw.Version))
	}
	if f.Name == "" {
		f.Name = "herdctl"
	} else if msg := checkName("fleet", f.Name); msg != "" {
		errs = append(errs, Errorf(at("fleet.name"), "%s", msg))
	}
	if raw.Fleet.LogBudgetDaily != "" {
		var err error
		if f.LogBudgetDaily, err = ParseBytes(raw.Fleet.LogBudgetDaily); err != nil {
			errs = append(errs, Errorf(at("fleet.log_budget_daily"), "%v", err))
		}
	}
	if raw.Fleet.Retention != "" {
		var err error
		switch f.Retention, err = ParseDuration(raw.Fleet.Retention); {
		case err != nil:
			errs = append(errs, Errorf(at("fleet.retention"), "%v", err))
		case f.Retention < MinRetention:
			errs = append(errs, Errorf(at("fleet.retention"), "%s is shorter than a day: keep job records at least 1d (the default is 90d)", raw.Fleet.Retention))
		}
	}
	if f.ClaudePath != "" && !filepath.IsAbs(f.ClaudePath) {
		errs = append(errs, Errorf(at("claude_path"), "must be an absolute path, e.g. /usr/bin/claude"))
	}
	if raw.Containerd.Address != "" && !filepath.IsAbs(raw.Containerd.Address) {
		errs = append(errs, Errorf(at("containerd.address"), "must be the absolute path of containerd's socket, e.g. /run/containerd/containerd.sock"))
	}
	for _, p := range []string{"name", "working_directory"} {
		if _, set := doc.idx["defaults."+p]; set {
			errs = append(errs, Errorf(at("defaults."+p), "cannot be a default: set it in the agent file or in that agent's [agents.overrides]"))
		}
	}
	return errs
}

// checkAgent checks each field of an effective agent configuration for
// shape and syntax. Ranges and tiers are package policy's.
func checkAgent(a *AgentConfig) Errors {
	var errs Errors
	a.Parsed = Parsed{Schedules: map[string]ParsedSchedule{}}
	bad := func(p, format string, args ...any) {
		errs = append(errs, Errorf(a.Where(p), format, args...))
	}
	if msg := checkName("agent", a.Name); msg != "" {
		bad("name", "%s", msg)
	}
	if a.PermissionMode != "" && !slices.Contains(PermissionModes, a.PermissionMode) {
		bad("permission_mode", "invalid permission mode %q: use one of %s", a.PermissionMode, strings.Join(PermissionModes, ", "))
	}
	if a.MaxTurns < 0 {
		bad("max_turns", "must be 1 or more (or left out for no limit)")
	}
	for _, c := range []struct {
		field string
		usd   float64
	}{{"max_cost_usd_per_day", a.MaxCostUSDPerDay}, {"max_cost_usd_per_job", a.MaxCostUSDPerJob}} {
		if c.usd < 0 || math.IsNaN(c.usd) || math.IsInf(c.usd, 0) {
			bad(c.field, "must be a number of dollars above 0, such as 2.50 (or left out for no limit)")
		}
	}
	if a.BudgetAction != "" && !slices.Contains(BudgetActions, a.BudgetAction) {
		bad("budget_action", "invalid budget action %q: use skip (the agent's next jobs are skipped once the day's budget is spent) or cancel (running jobs are stopped too)", a.BudgetAction)
	}
	for _, list := range []struct {
		field string
		tools []string
	}{{"allowed_tools", a.AllowedTools}, {"denied_tools", a.DeniedTools}} {
		for i, t := range list.tools {
			if msg := checkTool(t); msg != "" {
				bad(fmt.Sprintf("%s[%d]", list.field, i), "%s", msg)
			}
		}
	}
	if a.Model != "" && (len(a.Model) > MaxModelLen || !ModelRe.MatchString(a.Model)) {
		bad("model", "invalid model %q: use a model name or alias such as sonnet or claude-sonnet-4-5 (letters, digits and . _ - : @ / [ ], starting with a letter or digit, at most %d characters)", a.Model, MaxModelLen)
	}
	for _, name := range sortedKeys(a.MCPServers) {
		s := a.MCPServers[name]
		p := joinPath("mcp_servers", name)
		if msg := checkName("MCP server", name); msg != "" {
			bad(p, "%s", msg)
		}
		if !slices.Contains([]string{"", "stdio", "http", "sse"}, s.Type) {
			bad(p+".type", "invalid type %q: use stdio, http or sse", s.Type)
		}
		if (s.Command == "") == (s.URL == "") {
			bad(p, "set exactly one of command (a program run inside the agent's container) or url")
		}
		if len(s.Headers) > 0 && s.URL == "" {
			bad(p+".headers", "headers are sent to an http or sse server: set url, or remove headers")
		}
		for _, h := range sortedKeys(s.Headers) {
			if !headerNameRe.MatchString(h) || strings.ContainsAny(s.Headers[h], "\r\n\x00") {
				bad(joinPath(p+".headers", h), "invalid header: a name of letters, digits and - (e.g. Authorization), and a value on one line")
			}
		}
		if s.Timeout < 0 {
			bad(p+".timeout", "must be a number of milliseconds, 1 or more (or left out)")
		}
	}
	if a.Instances.MaxConcurrent < 0 {
		bad("instances.max_concurrent", "must be 1 or more")
	}
	if len(a.Command) > 0 && a.Command[0] == "" {
		bad("command[0]", "the program to run cannot be empty")
	}
	for _, name := range sortedKeys(a.Schedules) {
		errs = append(errs, checkSchedule(a, name)...)
	}
	d := a.Docker
	if d.Enabled != nil && !*d.Enabled {
		bad("docker.enabled", "herdctl always runs agents in a container; remove enabled = false")
	}
	if !slices.Contains([]string{"", "rw", "ro"}, d.WorkspaceMode) {
		bad("docker.workspace_mode", "invalid workspace mode %q: use rw or ro", d.WorkspaceMode)
	}
	parsed, perrs := parseValues(&a.Agent)
	parsed.Schedules = a.Parsed.Schedules
	a.Parsed = parsed
	for _, path := range sortedKeys(perrs) {
		bad(path, "%v", perrs[path])
	}
	if d.Inodes < 0 {
		bad("docker.inodes", "must be 1 or more (or left out for the default)")
	}
	return errs
}

// parseValues parses an agent's sizes and agent-level durations; the
// errors are keyed by field path.
func parseValues(ag *Agent) (Parsed, map[string]error) {
	var p Parsed
	errs := map[string]error{}
	for _, f := range []struct {
		path, value string
		into        *int64
	}{
		{"docker.memory", ag.Docker.Memory, &p.Memory},
		{"docker.host_config.tmp_size", ag.Docker.HostConfig.TmpSize, &p.TmpSize},
		{"docker.disk", ag.Docker.Disk, &p.Disk},
		{"log_budget", ag.LogBudget, &p.LogBudget},
		{"log_budget_daily", ag.LogBudgetDaily, &p.LogBudgetDaily},
	} {
		if f.value == "" {
			continue
		}
		v, err := ParseBytes(f.value)
		if err != nil {
			errs[f.path] = err
			continue
		}
		*f.into = v
	}
	if ag.Timeout != "" {
		d, err := ParseDuration(ag.Timeout)
		if err != nil {
			errs["timeout"] = err
		}
		p.Timeout = d
	}
	return p, errs
}

func checkSchedule(a *AgentConfig, name string) Errors {
	var errs Errors
	s := a.Schedules[name]
	var ps ParsedSchedule
	defer func() { a.Parsed.Schedules[name] = ps }()
	p := joinPath("schedules", name)
	bad := func(field, format string, args ...any) {
		errs = append(errs, Errorf(a.Where(joinPath(p, field)), format, args...))
	}
	if msg := checkName("schedule", name); msg != "" {
		errs = append(errs, Errorf(a.Where(p), "%s", msg))
	}
	switch s.Type {
	case "interval":
		if s.Cron != "" {
			bad("cron", "an interval schedule takes interval, not cron: remove one, or set type = \"cron\"")
		}
		if s.Interval == "" {
			bad("interval", "missing: an interval schedule needs interval = \"15m\" (s, m, h or d)")
		} else if d, err := ParseDuration(s.Interval); err != nil {
			bad("interval", "%v", err)
		} else if d.Seconds() < 1 {
			bad("interval", "must be at least 1s")
		} else {
			ps.Interval = d
		}
	case "cron":
		if s.Interval != "" {
			bad("interval", "a cron schedule takes cron, not interval: remove one, or set type = \"interval\"")
		}
		if s.Cron == "" {
			bad("cron", "missing: a cron schedule needs cron = \"MIN HOUR DOM MONTH DOW\", e.g. \"0 6 * * *\"")
		} else if c, err := ParseCron(s.Cron); err != nil {
			bad("cron", "%v", err)
		} else {
			ps.Cron = c
		}
	case "":
		bad("type", "missing: set type = \"interval\" or type = \"cron\"")
	default:
		bad("type", "invalid schedule type %q: use interval or cron", s.Type)
	}
	for _, f := range []struct {
		field, value string
		into         *time.Duration
	}{{"timeout", s.Timeout, &ps.Timeout}, {"jitter", s.Jitter, &ps.Jitter}} {
		if f.value == "" {
			continue
		}
		d, err := ParseDuration(f.value)
		if err != nil {
			bad(f.field, "%v", err)
		}
		*f.into = d
	}
	return errs
}

// checkUnitNames breaks the later of two agents whose schedules' unit
// names would collide: agent "a-b" with schedule "c" and agent "a" with
// schedule "b-c" both make herdctl-a-b-c.
func checkUnitNames(agents []*AgentConfig, broken []BrokenAgent) ([]*AgentConfig, []BrokenAgent) {
	seen := map[string]string{}
	var ok []*AgentConfig
	for _, a := range agents {
		var errs Errors
		for _, s := range sortedKeys(a.Schedules) {
			unit := a.Name + "-" + s
			if other, dup := seen[unit]; dup {
				errs = append(errs, Errorf(a.Where(joinPath("schedules", s)), "agent %q schedule %q gives the same unit name herdctl-%s as %s: rename one of them", a.Name, s, unit, other))
			}
		}
		if len(errs) > 0 {
			broken = append(broken, BrokenAgent{Entry: a.Where("name"), File: a.File, Name: a.Name, Errors: errs})
			continue
		}
		for _, s := range sortedKeys(a.Schedules) {
			seen[a.Name+"-"+s] = fmt.Sprintf("agent %q schedule %q", a.Name, s)
		}
		ok = append(ok, a)
	}
	return ok, broken
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

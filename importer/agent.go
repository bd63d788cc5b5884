package importer

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy"
)

// mapper maps one agent of the original, its effective configuration
// (the fleet's defaults, its file and the fleet's overrides, merged as the
// original merges them), onto its agent file and the fleet's overrides.
type mapper struct {
	name       string
	file, over *config.Agent
	res        *Result
	errs       config.Errors
	// agentDir is the directory of the original agent file: relative
	// paths in it are relative to that directory.
	agentDir string
	// agentFile is the original agent file, which the agent itself may
	// be able to write; review lists the fleet-only options it set.
	agentFile string
	review    []string
}

// fromAgentFile says whether v, or any entry of it, was written in the
// agent's own file (not the fleet's defaults or overrides). The original's
// merge mixes a mapping's entries from both files, so a mapping is judged
// by its entries, never by its own position.
func (m *mapper) fromAgentFile(v *value) bool {
	if v == nil || m.agentFile == "" {
		return false
	}
	if v.kind == kindMap && len(v.keys) > 0 {
		for _, k := range v.keys {
			if m.fromAgentFile(v.field[k]) {
				return true
			}
		}
		return false
	}
	return v.file == m.agentFile
}

// allFromAgentFile says whether v and every entry of it came from the
// agent's own file.
func (m *mapper) allFromAgentFile(v *value) bool {
	if v == nil || m.agentFile == "" {
		return false
	}
	if v.kind == kindMap && len(v.keys) > 0 {
		for _, k := range v.keys {
			if !m.allFromAgentFile(v.field[k]) {
				return false
			}
		}
		return true
	}
	return v.file == m.agentFile
}

// reviewed records that the fleet-only option at path came from the
// agent file.
func (m *mapper) reviewed(v *value, path string) {
	if m.fromAgentFile(v) && !slices.Contains(m.review, path) {
		m.review = append(m.review, path)
	}
}

// fleetOnlyMsg is why a fleet-only option an agent file wrote is not
// carried over.
const fleetOnlyMsg = "only a fleet may set it, in the original as in herdctl: an agent file that sets it cannot widen its own container; if the fleet's owner means it, set it in the fleet's [agents.overrides.docker]"

// fleetPart returns what the fleet file wrote of e, the value of the
// fleet-only option p, and lists what the agent file wrote of it as not
// mapped: a mapping entry by entry, since the original's merge mixes both
// files' entries in one mapping. It returns nil when nothing is left.
func (m *mapper) fleetPart(e *value, p string) *value {
	if m.allFromAgentFile(e) {
		m.unmapped(e, p, fleetOnlyMsg)
		return nil
	}
	if e.kind != kindMap || !m.fromAgentFile(e) {
		return e
	}
	out := &value{kind: kindMap, field: map[string]*value{}, file: e.file, line: e.line, col: e.col}
	for _, k := range e.keys {
		if x := m.fleetPart(e.field[k], p+"."+k); x != nil {
			out.set(k, x)
		}
	}
	return out
}

// notExpanded notes that the string of the option at field, which the
// agent file wrote, holds a ${VAR} the original would have expanded:
// herdctl expands none in an agent file, and an agent file may not pick
// a variable of the fleet's env file for the fleet to expand.
func (m *mapper) notExpanded(v *value, field string) {
	m.note(v, field, "review %s: its ${VAR} came from the agent file, where herdctl expands no variable: it is kept as literal text (an agent file may not pick a secret of the env file); if the fleet's owner means the variable, write it in the fleet's [agents.overrides]", field)
}

// fleetValueOf writes s, the string v holds at field, for the fleet
// file. A reference the fleet file wrote stays one. A ${VAR} the agent
// file wrote does not: the agent would pick any variable of the env file
// for the fleet to expand. The value becomes a reference to a variable
// the importer names itself (the agent's name and suffix), which the
// operator sets; any other "${" of the agent file's stays literal text.
func (m *mapper) fleetValueOf(v *value, field, s, suffix string) string {
	if !m.fromAgentFile(v) {
		return m.fleetValue(s)
	}
	if len(refs(s)) == 0 {
		return strings.ReplaceAll(s, "${", "$${")
	}
	name := envName(m.name, suffix)
	m.note(v, field, "review %s: the agent file wrote %q, and herdctl expands no ${VAR} an agent file chose (it could name any secret of the env file): the fleet's overrides reference %s instead; set it in the env file to the whole value", field, s, name)
	return m.fleetValue("${" + name + "}")
}

// varSuffix makes the suffix of a variable's name from a field path:
// "hooks.after_run[0].url" → HOOKS_AFTER_RUN_0_URL.
func varSuffix(field string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToUpper(field) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}

func (m *mapper) unmapped(v *value, field, why string) {
	m.res.Notes = append(m.res.Notes, Note{Agent: m.name, Location: v.loc(field), Msg: "not mapped: " + why})
}

func (m *mapper) note(v *value, field, format string, args ...any) {
	m.res.Notes = append(m.res.Notes, Note{Agent: m.name, Location: v.loc(field), Msg: fmt.Sprintf(format, args...)})
}

func (m *mapper) fail(err *config.Error) {
	if err != nil {
		m.errs = append(m.errs, err)
	}
}

// pick says where the option at path, written as v and holding the
// strings vals, goes: the fleet's overrides when policy says only the
// fleet may set it, or when the fleet file wrote it with a variable in it
// (only the fleet file expands ${VAR}); the agent file otherwise. A ${VAR}
// the agent file wrote stays in the agent file as literal text, never a
// reference of the fleet's. It returns the strings as they are to be
// written there.
func (m *mapper) pick(v *value, path string, vals ...string) (*config.Agent, []string) {
	refd := false
	for _, s := range vals {
		if len(refs(s)) > 0 {
			refd = true
		}
	}
	agent := m.fromAgentFile(v)
	if !policy.FleetOnly(path) && (!refd || agent) {
		if refd {
			m.notExpanded(v, path)
		}
		return m.file, vals
	}
	out := make([]string, len(vals))
	for i, s := range vals {
		f := path
		if len(vals) > 1 {
			f = fmt.Sprintf("%s[%d]", path, i)
		}
		out[i] = m.fleetValueOf(v, f, s, varSuffix(f))
	}
	return m.over, out
}

// fleetValue writes s for the fleet file, noting the variables it uses.
func (m *mapper) fleetValue(s string) string {
	for name, required := range refs(s) {
		m.res.useVar(name, required)
	}
	return fleetString(s)
}

func (m *mapper) str(v *value, field string) (string, bool) {
	s, err := v.asString(field)
	m.fail(err)
	return s, err == nil
}

// tables are the options that are mappings in the original's schema.
var tables = map[string]bool{"schedules": true, "mcp_servers": true, "instances": true, "docker": true,
	"chat": true, "hooks": true, "session": true}

// mapAgent maps every key of the effective configuration eff.
func (m *mapper) mapAgent(eff *value) {
	for _, key := range eff.keys {
		v := eff.field[key]
		if v.kind == kindNull {
			continue // written but empty: the original's default
		}
		if tables[key] && v.kind != kindMap {
			m.fail(config.Errorf(v.loc(key), "must be a mapping, not %s", v.describe()))
			continue
		}
		switch key {
		case "name":
			// Taken by the caller.
		case "description", "system_prompt", "default_prompt", "model", "permission_mode":
			s, ok := m.str(v, key)
			if !ok {
				continue
			}
			if key == "permission_mode" && !slices.Contains(config.PermissionModes, s) {
				m.unmapped(v, key, fmt.Sprintf("permission mode %q has no counterpart in Claude Code's CLI; the default applies", s))
				continue
			}
			dst, out := m.pick(v, key, s)
			switch key {
			case "description":
				dst.Description = out[0]
			case "system_prompt":
				dst.SystemPrompt = out[0]
			case "default_prompt":
				dst.DefaultPrompt = out[0]
			case "model":
				dst.Model = out[0]
			case "permission_mode":
				dst.PermissionMode = out[0]
			}
		case "max_turns":
			n, err := v.asInt(key)
			m.fail(err)
			m.file.MaxTurns = int(n)
		case "allowed_tools", "denied_tools":
			list, err := v.asStrings(key)
			m.fail(err)
			dst, out := m.pick(v, key, list...)
			if key == "allowed_tools" {
				dst.AllowedTools = out
			} else {
				dst.DeniedTools = out
			}
		case "tools":
			m.unmapped(v, key, "the original's older spelling of allowed_tools: list the tools in allowed_tools")
		case "schedules":
			m.mapSchedules(v)
		case "mcp_servers":
			m.mapMCP(v)
		case "instances":
			for _, k := range v.keys {
				if k != "max_concurrent" {
					m.unmapped(v.field[k], "instances."+k, "unknown to herdctl")
					continue
				}
				n, err := v.field[k].asInt("instances.max_concurrent")
				m.fail(err)
				m.limit(v.field[k], "instances.max_concurrent", n).Instances.MaxConcurrent = int(n)
			}
		case "working_directory", "workspace":
			m.mapWorkspace(v, key)
		case "docker":
			m.mapDocker(v)
		case "chat":
			for _, k := range v.keys {
				m.reviewed(v.field[k], "chat."+k)
			}
			m.mapChat(v)
		case "hooks":
			for _, k := range v.keys {
				if e := v.field[k]; len(e.items) > 0 {
					m.reviewed(e, "hooks."+k)
				}
			}
			m.mapHooks(v)
		case "session":
			m.mapSession(v)
		case "runtime":
			if s, _ := v.asString(key); s == "sdk" {
				m.note(v, key, "not mapped: runtime: sdk runs with the Claude Agent SDK in the original; herdctl runs Claude Code's CLI (claude -p) in a container, with the same prompts, tools and limits")
			}
		case "work_source":
			m.unmapped(v, key, "herdctl has no work sources: a job's prompt comes from its schedule, a trigger or chat; say in the prompt where to find work (e.g. the oldest issue labelled ready)")
		case "plugins":
			m.unmapped(v, key, "herdctl loads no Claude Code plugins; install what the agent needs in its image or its workspace's .claude/")
		case "setting_sources":
			m.unmapped(v, key, "Claude Code's CLI reads its settings sources itself: the workspace's .claude/ and CLAUDE.md, and the agent's home")
		case "identity", "repo", "metadata_file":
			m.unmapped(v, key, "herdctl has no such option")
		default:
			m.unmapped(v, key, "unknown to the original's schema and to herdctl")
		}
	}
	if len(m.review) > 0 {
		m.note(eff, "", "review before you run it: %s came from the agent file, which the agent may be able to write; in herdctl only the fleet may set them (or a limit that high), so they are in the fleet's [agents.overrides] now, as trusted as the fleet file", strings.Join(m.review, ", "))
	}
}

// limit says where a limit goes: the agent file up to herdctl's built-in
// ceiling (policy's), the fleet's overrides above it.
func (m *mapper) limit(v *value, path string, n int64) *config.Agent {
	if c, ok := policy.BuiltinCeiling(path); ok && n > c {
		m.reviewed(v, path)
		return m.over
	}
	dst, _ := m.pick(v, path)
	return dst
}

func (m *mapper) mapSchedules(v *value) {
	if v.kind != kindMap {
		m.fail(config.Errorf(v.loc("schedules"), "must be a mapping of schedule names to schedules"))
		return
	}
	for _, name := range v.keys {
		s := v.field[name]
		p := "schedules." + name
		if s.kind != kindMap {
			m.fail(config.Errorf(s.loc(p), "must be a mapping"))
			continue
		}
		typ, _ := s.get("type").asStringOr(p+".type", "")
		if typ == "webhook" || typ == "chat" {
			m.unmapped(s, p, fmt.Sprintf("a %s schedule has no timer: chat reaches the agent through [agents.overrides.chat], anything else through herdctlctl trigger", typ))
			continue
		}
		set := func(field string, f func(dst *config.Agent, out string)) {
			e := s.get(field)
			if e == nil {
				return
			}
			str, ok := m.str(e, p+"."+field)
			if !ok {
				return
			}
			dst, out := m.pick(e, p+"."+field, str)
			f(schedule(dst, name), out[0])
		}
		schedule(m.file, name)
		for _, k := range s.keys {
			e := s.field[k]
			switch k {
			case "type":
				set(k, func(d *config.Agent, out string) {
					d.Schedules[name] = withSchedule(d.Schedules[name], func(x *config.Schedule) { x.Type = out })
				})
			case "interval":
				set(k, func(d *config.Agent, out string) {
					d.Schedules[name] = withSchedule(d.Schedules[name], func(x *config.Schedule) { x.Interval = out })
				})
			case "cron", "expression":
				if k == "expression" && s.get("cron") != nil {
					m.unmapped(e, p+"."+k, "the older spelling of cron, and cron is set too")
					continue
				}
				set(k, func(d *config.Agent, out string) {
					d.Schedules[name] = withSchedule(d.Schedules[name], func(x *config.Schedule) { x.Cron = out })
				})
			case "prompt":
				set(k, func(d *config.Agent, out string) {
					d.Schedules[name] = withSchedule(d.Schedules[name], func(x *config.Schedule) { x.Prompt = out })
				})
			case "enabled", "resume_session":
				b, err := e.asBool(p + "." + k)
				m.fail(err)
				x := m.file.Schedules[name]
				if k == "enabled" {
					x.Enabled = &b
				} else {
					x.ResumeSession = &b
				}
				m.file.Schedules[name] = x
			case "work_source":
				m.unmapped(e, p+"."+k, "herdctl has no work sources: say in the schedule's prompt where to find work")
			case "outputToFile":
				m.unmapped(e, p+"."+k, "every event of a job is in the journal (journalctl HERDCTL_JOB=ID)")
			default:
				m.unmapped(e, p+"."+k, "unknown to the original's schema and to herdctl")
			}
		}
		if sc := m.file.Schedules[name]; sc.Type == "" && (m.over.Schedules == nil || m.over.Schedules[name].Type == "") {
			m.fail(config.Errorf(s.loc(p+".type"), "missing: the original requires type (interval or cron)"))
		}
	}
}

func schedule(a *config.Agent, name string) *config.Agent {
	if a.Schedules == nil {
		a.Schedules = map[string]config.Schedule{}
	}
	if _, ok := a.Schedules[name]; !ok {
		a.Schedules[name] = config.Schedule{}
	}
	return a
}

func withSchedule(s config.Schedule, f func(*config.Schedule)) config.Schedule {
	f(&s)
	return s
}

func (v *value) asStringOr(field, def string) (string, *config.Error) {
	if v == nil {
		return def, nil
	}
	return v.asString(field)
}

// mapMCP maps the MCP servers. A server's values stay in the agent file
// as written; a ${VAR} in them is left for Claude Code to expand inside
// the container, and VAR is passed there by the fleet's docker.env, so a
// secret is in no command line or snapshot.
func (m *mapper) mapMCP(v *value) {
	if v.kind != kindMap {
		m.fail(config.Errorf(v.loc("mcp_servers"), "must be a mapping of server names to servers"))
		return
	}
	for _, name := range v.keys {
		e := v.field[name]
		p := "mcp_servers." + name
		var s config.MCPServer
		// Every string of the server, with the value that wrote it: the
		// original's merge may mix the fleet's entries and the agent's.
		type written struct {
			s string
			v *value
		}
		var all []written
		for _, k := range e.keys {
			f := e.field[k]
			switch k {
			case "type":
				s.Type, _ = m.str(f, p+"."+k)
			case "command":
				s.Command, _ = m.str(f, p+"."+k)
				all = append(all, written{s.Command, f})
			case "url":
				s.URL, _ = m.str(f, p+"."+k)
				all = append(all, written{s.URL, f})
			case "args":
				var err *config.Error
				s.Args, err = f.asStrings(p + "." + k)
				m.fail(err)
				for _, x := range s.Args {
					all = append(all, written{x, f})
				}
			case "env", "headers":
				mp, err := f.asStringMap(p + "." + k)
				m.fail(err)
				for _, x := range f.keys {
					all = append(all, written{mp[x], f.field[x]})
				}
				if k == "env" {
					s.Env = mp
				} else {
					s.Headers = mp
				}
			case "timeout":
				n, err := f.asInt(p + "." + k)
				m.fail(err)
				s.Timeout = n
			case "alwaysLoad":
				b, err := f.asBool(p + "." + k)
				m.fail(err)
				s.AlwaysLoad = b
			default:
				m.unmapped(f, p+"."+k, "unknown to the original's schema and to herdctl")
			}
		}
		dst, _ := m.pick(e, p)
		if dst.MCPServers == nil {
			dst.MCPServers = map[string]config.MCPServer{}
		}
		dst.MCPServers[name] = s
		refd := false
		for _, x := range all {
			for ref, required := range refs(x.s) {
				if slices.Contains(policy.CredentialVars, ref) {
					m.unmapped(e, p, "${"+ref+"} is not passed into the container: herdctl hands Claude Code its credentials itself, and with network egress the agent never holds them")
					continue
				}
				if m.fromAgentFile(x.v) {
					// The agent would pick a variable of the env file
					// for its own container: only the fleet may pass one.
					m.unmapped(x.v, p, "${"+ref+"} is not passed into the container: the agent file wrote it, and an agent file may not pick a variable of the env file; if the fleet's owner means it, add "+ref+" = \"${"+ref+"}\" to the fleet's [agents.overrides.docker] env")
					continue
				}
				refd = true
				val := "${" + ref + ":-}"
				if required {
					val = "${" + ref + "}"
				}
				if m.over.Docker.Env == nil {
					m.over.Docker.Env = map[string]string{}
				}
				m.over.Docker.Env[ref] = m.fleetValue(val)
				m.res.useVar(ref, required)
			}
		}
		if refd {
			m.note(e, p, "its ${VAR} references are left for Claude Code to expand inside the container, from docker.env in the fleet's overrides")
		}
	}
}

// mapWorkspace maps working_directory (or its older name workspace) into
// the fleet's overrides: an agent file may only choose its own directory.
// A relative path is relative to the original agent file, as the
// original resolves it, so it is written absolute.
func (m *mapper) mapWorkspace(v *value, key string) {
	wd := v
	if v.kind == kindMap {
		wd = v.get("root")
		for _, k := range v.keys {
			if k != "root" {
				m.unmapped(v.field[k], key+"."+k, "herdctl clones no repositories: clone it into the workspace once")
			}
		}
		if wd == nil {
			m.fail(config.Errorf(v.loc(key+".root"), "missing"))
			return
		}
	}
	s, ok := m.str(wd, key)
	if !ok {
		return
	}
	m.reviewed(wd, key)
	if len(refs(s)) == 0 && !filepath.IsAbs(s) {
		rel := s
		s = filepath.Join(m.agentDir, s)
		m.note(wd, key, "%q is relative to the agent file's directory, as the original resolves it: written as %s", rel, s)
	}
	m.over.WorkingDirectory = m.fleetValueOf(wd, key, s, varSuffix(key))
}

// mapSession maps the SDK's session settings that have a counterpart.
func (m *mapper) mapSession(v *value) {
	for _, k := range v.keys {
		e := v.field[k]
		switch k {
		case "timeout":
			s, ok := m.str(e, "session.timeout")
			if !ok {
				continue
			}
			if _, err := config.ParseDuration(s); err != nil {
				m.unmapped(e, "session.timeout", err.Error())
				continue
			}
			m.file.Timeout = s
		case "max_turns":
			if m.file.MaxTurns == 0 {
				n, err := e.asInt("session.max_turns")
				m.fail(err)
				m.file.MaxTurns = int(n)
			}
		case "model":
			if m.file.Model == "" && m.over.Model == "" {
				s, _ := m.str(e, "session.model")
				dst, out := m.pick(e, "model", s)
				dst.Model = out[0]
			}
		default:
			m.unmapped(e, "session."+k, "unknown to the original's schema and to herdctl")
		}
	}
}

package importer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/state"
)

// Options says which fleet to import.
type Options struct {
	// Fleet is the original's fleet file (herdctl.yaml).
	Fleet string
	// Getenv looks up variables of the environment; nil reads the
	// process's. As in the original, they win over the .env beside the
	// fleet file.
	Getenv config.Lookup
}

// Note is an option that was not carried over, or carried over with a
// difference the operator should know of.
type Note struct {
	// Agent is the agent it concerns, "" for the fleet.
	Agent string
	config.Location
	Msg string
}

func (n Note) String() string {
	if n.Field == "" {
		return fmt.Sprintf("%s: %s", n.Location, n.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", n.Location, n.Field, n.Msg)
}

// Var is a variable the imported fleet references: it goes into the
// fleet's env file.
type Var struct {
	Name string `json:"name"`
	// Optional is true when every reference has a default.
	Optional bool `json:"optional"`
	// InDotEnv is true when the .env beside the original fleet defines it.
	InDotEnv bool `json:"in_dot_env"`
}

// Agent is one imported agent: its name and its agent file.
type Agent struct {
	Name string
	// Source is the original agent file.
	Source string
	File   config.Agent
}

// Result is an imported fleet, in config's types.
type Result struct {
	// Source is the original fleet file.
	Source string
	// Fleet is the fleet file; Fleet.Agents[i] lists Agents[i] at
	// AgentPath(Agents[i].Name) with the fleet's overrides for it.
	Fleet  config.FleetFile
	Agents []Agent
	Notes  []Note
	Vars   []Var

	vars   map[string]bool // name → required somewhere
	dotenv map[string]string
}

func (r *Result) useVar(name string, required bool) {
	if r.vars == nil {
		r.vars = map[string]bool{}
	}
	r.vars[name] = r.vars[name] || required
}

// AgentPath is where the fleet file lists an imported agent's file,
// relative to the fleet file.
func AgentPath(name string) string { return filepath.Join("agents", name, "agent.toml") }

// defaultKeys are the options of the original's fleet defaults that it
// merges into every agent.
var defaultKeys = map[string]bool{"docker": true, "work_source": true, "instances": true, "working_directory": true,
	"session": true, "model": true, "max_turns": true, "permission_mode": true, "tools": true,
	"allowed_tools": true, "denied_tools": true, "mcp_servers": true, "plugins": true}

// Import reads the original fleet at opts.Fleet and every agent file it
// lists, and maps them. An error is a config.Errors, each naming the
// file:line of the YAML it comes from.
func Import(opts Options) (*Result, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.LookupEnv
	}
	abs, err := filepath.Abs(opts.Fleet)
	if err != nil {
		return nil, err
	}
	root, err := readYAML(abs)
	if err != nil {
		return nil, err
	}
	if root.kind != kindMap {
		return nil, config.Errors{config.Errorf(root.loc(""), "a fleet file is a mapping with fleet: and agents:")}
	}
	res := &Result{Source: abs, Fleet: config.FleetFile{Version: 1}}
	if err := res.readDotEnv(filepath.Join(filepath.Dir(abs), ".env")); err != nil {
		return nil, err
	}
	lookup := func(name string) (string, bool) {
		if v, ok := opts.Getenv(name); ok {
			return v, true
		}
		v, ok := res.dotenv[name]
		return v, ok
	}
	var errs config.Errors
	defaults := &value{kind: kindMap, field: map[string]*value{}, file: abs}
	var agents *value
	for _, k := range root.keys {
		v := root.field[k]
		switch k {
		case "version":
			if n, err := v.asInt(k); err != nil || n != 1 {
				errs = append(errs, config.Errorf(v.loc(k), "this importer reads version 1 of the original's fleet file"))
			}
		case "fleet":
			for _, fk := range v.keys {
				s, err := v.field[fk].asString("fleet." + fk)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				switch fk {
				case "name":
					res.Fleet.Fleet.Name = s
				case "description":
					res.Fleet.Fleet.Description = fleetString(s)
				default:
					res.note("", v.field[fk], "fleet."+fk, "not mapped: unknown to the original's schema and to herdctl")
				}
			}
		case "defaults", "docker":
			if v.kind != kindMap {
				errs = append(errs, config.Errorf(v.loc(k), "must be a mapping"))
				continue
			}
			src := v
			if k == "docker" {
				// The fleet-wide docker table: defaults of every agent's.
				src = &value{kind: kindMap, field: map[string]*value{"docker": v}, keys: []string{"docker"}}
			}
			for _, dk := range src.keys {
				dv := src.field[dk]
				if !defaultKeys[dk] {
					res.note("", dv, "defaults."+dk, "not mapped: unknown to the original's schema and to herdctl")
					continue
				}
				if dk == "working_directory" {
					dv = absWorkingDirectory(dv, filepath.Dir(abs))
				}
				if prev := defaults.get(dk); prev != nil {
					dv = merge(prev, dv)
				}
				defaults.set(dk, dv)
			}
		case "agents":
			agents = v
		case "fleets":
			res.note("", v, k, "not mapped: import each sub-fleet on its own (herdctlctl import SUB/herdctl.yaml --out DIR2) and list its agents in this fleet, or put its fleet file's [[agents]] into fleet.d/")
		case "working_directory":
			res.note("", v, k, "not mapped: herdctl clones no repositories; set each agent's working_directory")
		case "webhooks", "web":
			res.note("", v, k, "not mapped: herdctl has no web server of its own; herdctlctl and the Cockpit page speak D-Bus, and a job is started with herdctlctl trigger")
		default:
			res.note("", v, k, "not mapped: unknown to the original's schema and to herdctl")
		}
	}
	if agents == nil || agents.kind != kindList || len(agents.items) == 0 {
		errs = append(errs, config.Errorf(root.loc("agents"), "the fleet lists no agents: nothing to import"))
		return nil, errs
	}
	names := map[string]config.Location{}
	for i, entry := range agents.items {
		a, err := res.importAgent(entry, fmt.Sprintf("agents[%d]", i), defaults, abs, lookup)
		if err != nil {
			errs = append(errs, err...)
			continue
		}
		if prev, dup := names[a.Name]; dup {
			errs = append(errs, config.Errorf(entry.loc(fmt.Sprintf("agents[%d]", i)), "agent %q is already defined at %s: herdctl needs unique names; rename one", a.Name, prev))
			continue
		}
		names[a.Name] = entry.loc("")
	}
	if len(errs) > 0 {
		return nil, errs
	}
	res.finishVars()
	return res, nil
}

// readDotEnv reads the .env beside the fleet file, if any: the original
// reads it for its ${VAR}.
func (r *Result) readDotEnv(path string) error {
	data, err := state.ReadFileCapped(path, MaxFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return config.Errors{config.Errorf(config.Location{File: path}, "cannot read it: %v (the .env beside the fleet must be a plain file of at most %d bytes)", unwrapPath(err), MaxFile)}
	}
	env, err := config.ParseEnvFile(path, data)
	if err != nil {
		return err
	}
	r.dotenv = env
	return nil
}

func (r *Result) note(agent string, v *value, field, msg string) {
	r.Notes = append(r.Notes, Note{Agent: agent, Location: v.loc(field), Msg: msg})
}

func (r *Result) finishVars() {
	for name, required := range r.vars {
		_, in := r.dotenv[name]
		r.Vars = append(r.Vars, Var{Name: name, Optional: !required, InDotEnv: in})
	}
	sort.Slice(r.Vars, func(i, j int) bool { return r.Vars[i].Name < r.Vars[j].Name })
}

// importAgent reads the agent of one entry of the fleet's agents list and
// maps it.
func (r *Result) importAgent(entry *value, field string, defaults *value, fleetFile string, lookup config.Lookup) (*Agent, config.Errors) {
	pv := entry.get("path")
	if pv == nil {
		return nil, config.Errors{config.Errorf(entry.loc(field+".path"), "missing: every agent entry needs path")}
	}
	p, cerr := pv.asString(field + ".path")
	if cerr != nil {
		return nil, config.Errors{cerr}
	}
	p, missing := expand(p, lookup)
	if len(missing) > 0 {
		return nil, config.Errors{config.Errorf(pv.loc(field+".path"), "variable %s is not defined: set it in the environment or the .env beside the fleet file", missing[0])}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(fleetFile), p)
	}
	p = filepath.Clean(p)
	own, err := readYAML(p)
	if err != nil {
		var ce config.Errors
		if errors.As(err, &ce) && len(ce) == 1 && ce[0].Line == 0 {
			return nil, config.Errors{config.Errorf(pv.loc(field+".path"), "agent file %s: %s", p, ce[0].Msg)}
		}
		return nil, err.(config.Errors)
	}
	if own.kind != kindMap {
		return nil, config.Errors{config.Errorf(own.loc(""), "an agent file is a mapping with name: and its options")}
	}
	for _, k := range entry.keys {
		if k != "path" && k != "overrides" {
			r.note("", entry.field[k], field+"."+k, "not mapped: unknown to the original's schema and to herdctl")
		}
	}
	eff := merge(defaults, own)
	if ov := entry.get("overrides"); ov != nil {
		if ov.kind != kindMap {
			return nil, config.Errors{config.Errorf(ov.loc(field+".overrides"), "must be a mapping")}
		}
		eff = merge(eff, ov)
	}
	nv := eff.get("name")
	if nv == nil {
		return nil, config.Errors{config.Errorf(own.loc("name"), "missing: every agent needs a name")}
	}
	name, cerr := nv.asString("name")
	if cerr != nil {
		return nil, config.Errors{cerr}
	}
	if !config.NameRe.MatchString(name) || len(name) > config.MaxNameLen {
		return nil, config.Errors{config.Errorf(nv.loc("name"), "agent name %q cannot be a herdctl agent's (letters, digits, _ and -, starting with a letter or digit, at most %d characters): rename the agent", name, config.MaxNameLen)}
	}
	m := &mapper{name: name, file: &config.Agent{Name: name}, over: &config.Agent{}, res: r, agentDir: filepath.Dir(p), agentFile: p}
	m.mapAgent(eff)
	if len(m.errs) > 0 {
		return nil, m.errs
	}
	a := Agent{Name: name, Source: p, File: *m.file}
	r.Agents = append(r.Agents, a)
	r.Fleet.Agents = append(r.Fleet.Agents, config.AgentEntry{Path: AgentPath(name), Overrides: *m.over})
	return &a, nil
}

// merge deep-merges over onto base as the original does: mappings key by
// key, anything else replaced. Neither is changed.
func merge(base, over *value) *value {
	if base == nil {
		return over
	}
	if over == nil || base.kind != kindMap || over.kind != kindMap {
		if over == nil {
			return base
		}
		return over
	}
	out := &value{kind: kindMap, field: map[string]*value{}, file: over.file, line: over.line, col: over.col}
	for _, k := range base.keys {
		out.set(k, base.field[k])
	}
	for _, k := range over.keys {
		out.set(k, merge(out.field[k], over.field[k]))
	}
	return out
}

// absWorkingDirectory makes a relative working_directory (or its root)
// absolute against dir.
func absWorkingDirectory(v *value, dir string) *value {
	abs := func(s *value) *value {
		if s == nil || s.kind != kindScalar || filepath.IsAbs(s.str) || len(refs(s.str)) > 0 {
			return s
		}
		c := *s
		c.str = filepath.Join(dir, s.str)
		return &c
	}
	if v.kind == kindMap {
		c := &value{kind: kindMap, field: map[string]*value{}, file: v.file, line: v.line, col: v.col}
		for _, k := range v.keys {
			c.set(k, v.field[k])
		}
		if r := c.get("root"); r != nil {
			c.set("root", abs(r))
		}
		return c
	}
	return abs(v)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

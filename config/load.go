package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"time"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/herdctl/herdctl/internal/safepath"
)

// Default paths of the fleet's configuration.
const (
	DefaultFleetFile = "/etc/herdctl/herdctl.toml"
	DefaultEnvFile   = "/etc/herdctl/herdctl.env"
)

// maxFileSize bounds every configuration file; a larger one is refused
// before it is parsed.
const maxFileSize = 1 << 20

// Fleet is the fleet file after interpolation, with every agent merged.
type Fleet struct {
	File        string // absolute path of the fleet file
	Version     int
	Name        string
	Description string
	EnvFile     string            // absolute path; may not exist when left at its default
	Env         map[string]string // the env file's variables (secrets: never log or render them)
	ClaudePath  string
	Containerd  Containerd
	// LogBudgetDaily is [fleet] log_budget_daily in bytes, 0 when unset.
	LogBudgetDaily int64
	// Retention is [fleet] retention, 0 when unset.
	Retention time.Duration
	// Chat is the fleet's [chat] table: the endpoints of the platforms.
	Chat   FleetChat
	Agents []*AgentConfig
	// Broken are the agents that could not be loaded; Agents runs
	// without them.
	Broken []BrokenAgent
}

// AgentConfig is one agent's effective configuration: the fleet's
// defaults, then its agent file, then the fleet's overrides for it.
type AgentConfig struct {
	Agent
	// File is the agent file's absolute path.
	File string
	// Index is the agent's position in the fleet file's [[agents]] list.
	Index int
	// Parsed holds the values checked while loading, parsed once.
	Parsed Parsed
	// Fleet is what the fleet's own layers alone set for this agent (its
	// defaults, then its overrides), and FleetParsed their values: the
	// ceilings of what the agent file may set.
	Fleet       Agent
	FleetParsed Parsed

	origins   map[string]Location
	agentKeys positions
}

// Where tells where the value at path (e.g. "schedules.weather.cron") of
// the effective configuration was written; for a value nobody wrote, the
// agent file.
func (a *AgentConfig) Where(path string) Location {
	for p := path; p != ""; p = parentPath(p) {
		if loc, ok := a.origins[p]; ok {
			if p != path {
				loc.Field += path[len(p):]
			}
			return loc
		}
	}
	return Location{File: a.File, Line: 1, Col: 1, Field: path}
}

// Parsed holds the values of an agent's configuration that are written
// as text (sizes, durations, cron expressions) as Load parsed them while
// checking them, so that no one parses them again. Zero means unset.
type Parsed struct {
	Memory         int64 // docker.memory, bytes
	TmpSize        int64 // docker.host_config.tmp_size, bytes
	Disk           int64 // docker.disk, bytes
	Timeout        time.Duration
	LogBudget      int64 // bytes
	LogBudgetDaily int64 // bytes
	Schedules      map[string]ParsedSchedule
}

// ParsedSchedule is one schedule's parsed values.
type ParsedSchedule struct {
	Interval time.Duration // interval schedules
	Cron     *Cron         // cron schedules
	Timeout  time.Duration
	Jitter   time.Duration
}

// FromAgentFile reports whether the effective value at path was written
// by the agent file (rather than the fleet's defaults or overrides).
func (a *AgentConfig) FromAgentFile(path string) bool {
	_, ok := a.origins[path]
	return ok && a.Where(path).File == a.File
}

// Origin is where the value at path itself was written, and false when
// nobody wrote it (it is a default, whatever its table says).
func (a *AgentConfig) Origin(path string) (Location, bool) {
	loc, ok := a.origins[path]
	return loc, ok
}

// AgentFileField is one key the agent file itself wrote.
type AgentFileField struct {
	Path string
	Location
}

// AgentFileFields lists every key the agent file wrote (tables and
// values), sorted by path; policy uses it to enforce the tiers.
func (a *AgentConfig) AgentFileFields() []AgentFileField {
	out := make([]AgentFileField, 0, len(a.agentKeys))
	for p, loc := range a.agentKeys {
		out = append(out, AgentFileField{Path: p, Location: loc})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// LoadOptions changes how Load reads the world; the zero value reads the
// process environment.
type LoadOptions struct {
	// Getenv looks up variables that the env file does not define.
	Getenv Lookup
	// NameOwner, when set, says which agent file an agent name belongs to
	// ("" when none yet): the daemon's record of whose state a name's
	// home and sessions are. When two entries claim one name, its owner
	// keeps it, whatever their order, so that an agent cannot push
	// another out of the fleet by taking its name.
	NameOwner func(name string) string
}

// Load reads and checks the fleet file at path, the drop-in fleet files
// beside it (fleet.d/*.toml) and every agent file they list. A non-nil
// error is an Errors listing every problem of the fleet's own files: then
// nothing is loaded. An agent whose file (or entry) is broken is left out
// of Fleet.Agents and listed in Fleet.Broken with its errors: one agent's
// file never stops the others.
func Load(path string, opts LoadOptions) (*Fleet, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.LookupEnv
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, Errors{Errorf(Location{File: path}, "%v", err)}
	}
	doc, err := readDocument(abs)
	if err != nil {
		return nil, err
	}
	var raw FleetFile
	if errs := doc.decodeStrict(&raw); len(errs) > 0 {
		return nil, errs
	}
	f := &Fleet{File: abs}
	var errs Errors

	envFile := raw.EnvFile
	if envFile == "" {
		envFile = DefaultEnvFile
	} else if !filepath.IsAbs(envFile) {
		envFile = filepath.Join(filepath.Dir(abs), envFile)
	}
	f.EnvFile = envFile
	f.Env = map[string]string{}
	if data, err := readLimited(envFile); err == nil {
		env, err := ParseEnvFile(envFile, data)
		if err != nil {
			return nil, err
		}
		f.Env = env
	} else if raw.EnvFile != "" || !errors.Is(err, os.ErrNotExist) {
		return nil, Errors{Errorf(doc.idx.at(abs, "env_file"), "cannot read the env file: %v", unwrapPath(err))}
	}

	lookup := func(name string) (string, bool) {
		if v, ok := f.Env[name]; ok {
			return v, true
		}
		return opts.Getenv(name)
	}
	expandTree(doc.tree, "", lookup, func(p string, err error) {
		errs = append(errs, Errorf(doc.idx.at(abs, p), "%v", err))
	})
	if len(errs) > 0 {
		return nil, errs
	}
	var fleet FleetFile
	if err := decodeTree(doc.tree, &fleet); err != nil {
		return nil, Errors{Errorf(Location{File: abs}, "%v", err)}
	}
	f.Version, f.Name, f.Description = fleet.Version, fleet.Fleet.Name, fleet.Fleet.Description
	f.ClaudePath, f.Containerd = fleet.ClaudePath, fleet.Containerd
	f.Chat = fleet.Chat
	errs = append(errs, checkFleet(f, &fleet, doc)...)
	errs = append(errs, checkFleetChat(f, doc)...)

	// The agents: the fleet file's [[agents]], then those of each
	// drop-in file in fleet.d/, in lexical order.
	sources := []agentSource{{doc: doc}}
	dropIns, derrs := loadDropIns(abs, lookup)
	errs = append(errs, derrs...)
	sources = append(sources, dropIns...)
	total := 0
	for _, src := range sources {
		list, _ := src.doc.tree["agents"].([]any)
		total += len(list)
	}
	if total == 0 {
		errs = append(errs, Errorf(Location{File: f.File, Line: 1, Col: 1, Field: "agents"}, "the fleet lists no agents: add [[agents]] path = \"agents/NAME.toml\" here, or a file in %s", DropInDir(f.File)))
	}
	if len(errs) > 0 {
		return nil, errs
	}

	defaults, _ := doc.tree["defaults"].(map[string]any)
	type claim struct {
		at    Location
		entry map[string]any
		i     int // in f.Agents
	}
	names := map[string]claim{}
	index := 0
	for _, src := range sources {
		list, _ := src.doc.tree["agents"].([]any)
		for i := range list {
			entry, _ := list[i].(map[string]any)
			entryPath := fmt.Sprintf("agents[%d]", i)
			at := src.doc.idx.at(src.doc.file, entryPath)
			a, aerrs := loadAgentSafely(f, doc, src.doc, defaults, entry, entryPath, index)
			index++
			if len(aerrs) > 0 {
				f.Broken = append(f.Broken, brokenAgent(at, entry, a, aerrs))
				continue
			}
			if prev, dup := names[a.Name]; dup {
				first := f.Agents[prev.i]
				owner := ""
				if opts.NameOwner != nil {
					owner = opts.NameOwner(a.Name)
				}
				if owner != "" && owner == a.File && owner != first.File {
					// The name is this agent's: the earlier entry took it.
					f.Broken = append(f.Broken, brokenAgent(prev.at, prev.entry, first, Errors{Errorf(first.Where("name"),
						"agent %q belongs to %s, defined at %s: an agent cannot take another's name; rename this one", a.Name, owner, a.Where("name"))}))
					f.Agents[prev.i] = a
					names[a.Name] = claim{at, entry, prev.i}
					continue
				}
				f.Broken = append(f.Broken, brokenAgent(at, entry, a, Errors{Errorf(a.Where("name"), "agent %q is already defined at %s: agent names must be unique in a fleet", a.Name, first.Where("name"))}))
				continue
			}
			names[a.Name] = claim{at, entry, len(f.Agents)}
			f.Agents = append(f.Agents, a)
		}
	}
	f.Agents, f.Broken = checkUnitNames(f.Agents, f.Broken)
	return f, nil
}

// BrokenAgent is an [[agents]] entry whose agent could not be loaded: the
// rest of the fleet runs without it, and status says why.
type BrokenAgent struct {
	// Entry is where the fleet lists it.
	Entry Location
	// File is its agent file, as listed (absolute).
	File string
	// Name is its name, when its file said one.
	Name   string
	Errors Errors
}

func brokenAgent(at Location, entry map[string]any, a *AgentConfig, errs Errors) BrokenAgent {
	b := BrokenAgent{Entry: at, Errors: errs}
	b.File, _ = entry["path"].(string)
	if a != nil {
		b.File, b.Name = a.File, a.Name
	}
	return b
}

// Errs lists the errors of every broken agent.
func (f *Fleet) Errs() Errors {
	var out Errors
	for _, b := range f.Broken {
		out = append(out, b.Errors...)
	}
	return out
}

// agentSource is a file that lists agents: the fleet file or a drop-in.
type agentSource struct{ doc *document }

// DropInDir is the directory of drop-in fleet files beside the fleet file
// at fleetFile: /etc/herdctl/fleet.d for the packaged one.
func DropInDir(fleetFile string) string { return filepath.Join(filepath.Dir(fleetFile), "fleet.d") }

// dropInFile is what a drop-in fleet file may hold: agents, nothing else.
type dropInFile struct {
	Agents []AgentEntry `toml:"agents"`
}

// loadDropIns reads every *.toml in the fleet's drop-in directory, in
// lexical order. They are as trusted as the fleet file: a file another
// user could write is refused.
func loadDropIns(fleetFile string, lookup Lookup) ([]agentSource, Errors) {
	dir := DropInDir(fleetFile)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, Errors{Errorf(Location{File: dir}, "cannot read the drop-in directory: %v", unwrapPath(err))}
	}
	var out []agentSource
	var errs Errors
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".toml") || strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(dir, name)
		if msg := trustedFile(p); msg != "" {
			errs = append(errs, Errorf(Location{File: p}, "%s", msg))
			continue
		}
		doc, err := readDocument(p)
		if err != nil {
			errs = append(errs, err.(Errors)...)
			continue
		}
		var raw dropInFile
		if derrs := doc.decodeStrict(&raw); len(derrs) > 0 {
			for _, e := range derrs {
				e.Msg += " (a drop-in fleet file holds only [[agents]] entries; defaults and fleet-wide settings belong in " + filepath.Base(fleetFile) + ")"
			}
			errs = append(errs, derrs...)
			continue
		}
		var xerrs Errors
		expandTree(doc.tree, "", lookup, func(fp string, err error) {
			xerrs = append(xerrs, Errorf(doc.idx.at(p, fp), "%v", err))
		})
		if len(xerrs) > 0 {
			errs = append(errs, xerrs...)
			continue
		}
		out = append(out, agentSource{doc: doc})
	}
	return out, errs
}

// trustedFile says why a root process must not trust the file at p as
// configuration: it or its directory can be written by someone else than
// root (when herdctl runs as root), or it is not a regular file.
func trustedFile(p string) string {
	fi, err := os.Lstat(p)
	if err != nil {
		return "cannot read it: " + unwrapPath(err).Error()
	}
	if !fi.Mode().IsRegular() {
		return "not a regular file: a drop-in fleet file must be a plain file (no symbolic link)"
	}
	if os.Geteuid() != 0 {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && (st.Uid != 0 || fi.Mode().Perm()&0o022 != 0) {
		return fmt.Sprintf("owned by uid %d with mode %04o: a drop-in fleet file is as trusted as the fleet file, so it must belong to root and be writable by root alone (chown root: and chmod go-w it)", st.Uid, fi.Mode().Perm())
	}
	return ""
}

// loadAgentSafely is loadAgent, with a panic (a bug, whatever the file
// holds) turned into that agent's error: one agent's file never takes the
// fleet down.
func loadAgentSafely(f *Fleet, main, list *document, defaults, entry map[string]any, entryPath string, i int) (a *AgentConfig, errs Errors) {
	defer func() {
		if r := recover(); r != nil {
			a, errs = nil, Errors{Errorf(list.idx.at(list.file, entryPath), "loading this agent failed (%v): please report this as a bug", r)}
		}
	}()
	return loadAgent(f, main, list, defaults, entry, entryPath, i)
}

// loadAgent loads the agent of one [[agents]] entry of list (the fleet
// file or a drop-in), at entryPath in it. The agent is returned with its
// errors when it got as far as having a name.
func loadAgent(f *Fleet, main, list *document, defaults, entry map[string]any, entryPath string, i int) (*AgentConfig, Errors) {
	at := func(field string) Location { return list.idx.at(list.file, entryPath+field) }
	p, _ := entry["path"].(string)
	if p == "" {
		return nil, Errors{Errorf(at(".path"), "missing: every [[agents]] entry needs path = \"/path/to/agent.toml\"")}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(list.file), p)
	}
	overrides, _ := entry["overrides"].(map[string]any)
	if _, set := overrides["name"]; set {
		return nil, Errors{Errorf(at(".overrides.name"), "an agent's name comes from its agent file and cannot be overridden")}
	}
	doc, err := readAgentDocument(p)
	if err != nil {
		var errs Errors
		if errors.As(err, &errs) && len(errs) == 1 && errs[0].Line == 0 {
			// The file could not be read at all: point at the fleet's entry.
			return nil, Errors{Errorf(at(".path"), "agent file %s: %s", p, errs[0].Msg)}
		}
		return nil, err.(Errors)
	}
	var own Agent
	if errs := doc.decodeStrict(&own); len(errs) > 0 {
		return nil, errs
	}
	merged, origins := mergeLayers(
		layer{tree: defaults, idx: main.idx, file: main.file, prefix: "defaults"},
		layer{tree: doc.tree, idx: doc.idx, file: p},
		layer{tree: overrides, idx: list.idx, file: list.file, prefix: entryPath + ".overrides"},
	)
	a := &AgentConfig{File: p, Index: i, origins: origins, agentKeys: doc.idx}
	if err := decodeTree(merged, &a.Agent); err != nil {
		return nil, Errors{Errorf(Location{File: p}, "merging defaults, agent file and overrides: %v", err)}
	}
	fleetOnly, _ := mergeLayers(layer{tree: defaults, idx: main.idx, file: main.file}, layer{tree: overrides, idx: list.idx, file: list.file})
	if err := decodeTree(fleetOnly, &a.Fleet); err == nil {
		// Errors in the fleet's own values are reported where they take
		// effect; here an unparsable one is no ceiling (the built-in
		// ceiling applies).
		a.FleetParsed, _ = parseValues(&a.Fleet)
	}
	if errs := checkAgent(a); len(errs) > 0 {
		if checkName("agent", a.Name) != "" {
			return nil, errs
		}
		return a, errs
	}
	return a, nil
}

// document is one parsed TOML file.
type document struct {
	file string
	data []byte
	tree map[string]any
	idx  positions
}

// MaxAgentFile bounds an agent file: it describes one agent.
const MaxAgentFile = 256 << 10

// readAgentDocument reads and parses the agent file at p. An agent file
// often sits in the agent's own writable directory, so the agent controls
// it: it is read without following any symbolic link but root's own in
// root's directories (a link to /etc/shadow, a linked directory on its
// path, a swap between check and read change nothing), only if it is a
// plain file (a named pipe never blocks the daemon), at most MaxAgentFile
// bytes, and owned by root or by its directory's owner (not a hard link to
// another user's file).
func readAgentDocument(p string) (*document, error) {
	data, err := safepath.ReadFile(p, MaxAgentFile, safepath.ReadOptions{DirOwnerOrRoot: true})
	if err != nil {
		var se *safepath.Error
		if errors.As(err, &se) {
			return nil, Errors{Errorf(Location{File: p}, "cannot read it: %s %s", se.At, se.Msg)}
		}
		return nil, Errors{Errorf(Location{File: p}, "cannot read it: %v", err)}
	}
	return parseDocument(p, data)
}

func readLimited(path string) ([]byte, error) {
	// O_NONBLOCK: a named pipe in place of a file must not block the
	// daemon; it is refused below as not a regular file.
	fh, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s): it must be a plain file", fileType(st.Mode()))
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("file is %d bytes, more than the %d allowed: is this the right file?", st.Size(), maxFileSize)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(fh); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func readDocument(path string) (*document, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, Errors{Errorf(Location{File: path}, "cannot read it: %v", unwrapPath(err))}
	}
	return parseDocument(path, data)
}

func parseDocument(path string, data []byte) (*document, error) {
	d := &document{file: path, data: data}
	// The shape first, in one linear pass: the decoder's work grows
	// faster than the file.
	idx, serr := indexPositions(path, data)
	if serr != nil {
		return nil, Errors{&Error{Location: serr.loc, Msg: serr.msg}}
	}
	d.idx = idx
	if err := toml.Unmarshal(data, &d.tree); err != nil {
		e := d.decodeError(err)
		e.Msg = "TOML syntax error: " + e.Msg
		return nil, Errors{e}
	}
	return d, nil
}

// decodeStrict decodes the document into v, refusing unknown fields, and
// turns every decoder error into an *Error with its field path.
func (d *document) decodeStrict(v any) Errors {
	dec := toml.NewDecoder(bytes.NewReader(d.data)).DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		var errs Errors
		for _, p := range exactKeys(d.tree, reflect.TypeOf(v), "") {
			errs = append(errs, Errorf(d.idx.at(d.file, p), "unknown field (names are lower case and exact): check its spelling against herdctl.toml(5)"))
		}
		return errs
	}
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var errs Errors
		for i := range strict.Errors {
			e := d.decodeError(&strict.Errors[i])
			e.Msg = "unknown field: check its spelling against herdctl.toml(5); herdctl refuses fields it does not know"
			errs = append(errs, e)
		}
		return errs
	}
	return Errors{d.decodeError(err)}
}

func (d *document) decodeError(err error) *Error {
	var de *toml.DecodeError
	if !errors.As(err, &de) {
		return Errorf(Location{File: d.file}, "%v", err)
	}
	line, col := de.Position()
	loc := Location{File: d.file, Line: line, Col: col}
	if d.idx != nil {
		if at, ok := d.idx.atLine(line, col); ok {
			loc.Field = at.Field
		}
	}
	if loc.Field == "" && len(de.Key()) > 0 {
		for _, k := range de.Key() {
			loc.Field = joinPath(loc.Field, k)
		}
	}
	return &Error{Location: loc, Msg: strings.TrimPrefix(de.Error(), "toml: ")}
}

// decodeTree turns a generic tree back into a typed value.
func decodeTree(tree map[string]any, v any) error {
	data, err := toml.Marshal(tree)
	if err != nil {
		return err
	}
	return toml.Unmarshal(data, v)
}

// ReadContainerd reads only the [containerd] table of the fleet file at
// path, leniently: for tools that need to reach containerd (herdctl image
// import) whatever the state of the rest of the fleet.
func ReadContainerd(path string) (Containerd, error) {
	data, err := readLimited(path)
	if err != nil {
		return Containerd{}, err
	}
	var f struct {
		Containerd Containerd `toml:"containerd"`
	}
	if err := toml.Unmarshal(data, &f); err != nil {
		return Containerd{}, err
	}
	return f.Containerd, nil
}

// fileType names what a file is, for errors.
func fileType(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a plain file"
}

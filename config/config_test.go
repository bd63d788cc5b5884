package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fleetDir writes a fleet into a temp dir: files maps relative paths to
// contents; the fleet file is herdctl.toml.
func fleetDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	return dir
}

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func load(t *testing.T, files map[string]string, env map[string]string) (*Fleet, error) {
	dir := fleetDir(t, files)
	f, err := Load(filepath.Join(dir, "herdctl.toml"), LoadOptions{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		return nil, stripDir{err, dir}
	}
	if errs := f.Errs(); len(errs) > 0 {
		return nil, stripDir{errs, dir}
	}
	return f, nil
}

type stripDir struct {
	error
	dir string
}

func (s stripDir) Error() string { return strings.ReplaceAll(s.error.Error(), s.dir+"/", "") }

const agentA = "name = \"a\"\ndefault_prompt = \"hi\"\n"

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name  string
		fleet string
		agent string
		want  string
	}{
		{"unknown fleet field", "versoin = 1\n[[agents]]\npath = \"a.toml\"\n", agentA,
			"herdctl.toml:1:1: versoin: unknown field: check its spelling against herdctl.toml(5); herdctl refuses fields it does not know"},
		{"wrong type", "version = \"one\"\n[[agents]]\npath = \"a.toml\"\n", agentA,
			"herdctl.toml:1:11: version: cannot decode TOML string into struct field config.FleetFile.Version of type int"},
		{"unknown schedule field", "[[agents]]\npath = \"a.toml\"\n", agentA + "[schedules.s]\ntype = \"interval\"\ninterval = \"1h\"\nevery = \"2h\"\n",
			"a.toml:6:1: schedules.s.every: unknown field: check its spelling against herdctl.toml(5); herdctl refuses fields it does not know"},
		{"bad override interval", "[[agents]]\npath = \"a.toml\"\n[agents.overrides.schedules.s]\ninterval = \"soon\"\n", agentA + "[schedules.s]\ntype = \"interval\"\ninterval = \"1h\"\n",
			"herdctl.toml:4:1: agents[0].overrides.schedules.s.interval: invalid duration \"soon\": write a number and a unit s, m, h or d, e.g. 90s, 15m, 72h, 2d"},
		{"permission mode", "[[agents]]\npath = \"a.toml\"\n", agentA + "permission_mode = \"yolo\"\n",
			"a.toml:3:1: permission_mode: invalid permission mode \"yolo\": use one of default, acceptEdits, bypassPermissions, plan, dontAsk"},
		{"schedule type missing", "[[agents]]\npath = \"a.toml\"\n", agentA + "[schedules.s]\ninterval = \"1h\"\n",
			"a.toml:3:2: schedules.s.type: missing: set type = \"interval\" or type = \"cron\""},
		{"interval and cron", "[[agents]]\npath = \"a.toml\"\n", agentA + "[schedules.s]\ntype = \"cron\"\ncron = \"* * * * *\"\ninterval = \"1h\"\n",
			"a.toml:6:1: schedules.s.interval: a cron schedule takes cron, not interval: remove one, or set type = \"interval\""},
		{"no agents", "version = 1\n", agentA,
			"herdctl.toml:1:1: agents: the fleet lists no agents: add [[agents]] path = \"agents/NAME.toml\" here, or a file in fleet.d"},
		{"missing path", "[[agents]]\n", agentA,
			"herdctl.toml:1:3: agents[0].path: missing: every [[agents]] entry needs path = \"/path/to/agent.toml\""},
		{"name in defaults", "[defaults]\nname = \"x\"\n[[agents]]\npath = \"a.toml\"\n", agentA,
			"herdctl.toml:2:1: defaults.name: cannot be a default: set it in the agent file or in that agent's [agents.overrides]"},
		{"name override", "[[agents]]\npath = \"a.toml\"\n[agents.overrides]\nname = \"b\"\n", agentA,
			"herdctl.toml:4:1: agents[0].overrides.name: an agent's name comes from its agent file and cannot be overridden"},
		{"schedule name", "[[agents]]\npath = \"a.toml\"\n", agentA + "[schedules.\"a.b\"]\ntype = \"interval\"\ninterval = \"1h\"\n",
			"a.toml:3:2: schedules.\"a.b\": invalid schedule name \"a.b\": use letters, digits, _ and -, starting with a letter or digit"},
		{"unit name collision", "[[agents]]\npath = \"a.toml\"\n[[agents]]\npath = \"b.toml\"\n",
			"name = \"x-y\"\ndefault_prompt = \"hi\"\n[schedules.z]\ntype = \"interval\"\ninterval = \"1h\"\n",
			"b.toml:3:2: schedules.z: agent \"x-y\" schedule \"z\" gives the same unit name herdctl-x-y-z as agent \"x\" schedule \"y-z\": rename one of them"},
		{"env file missing", "env_file = \"nope.env\"\n[[agents]]\npath = \"a.toml\"\n", agentA,
			"herdctl.toml:1:1: env_file: cannot read the env file: no such file or directory"},
		{"bad memory", "[defaults.docker]\nmemory = \"lots\"\n[[agents]]\npath = \"a.toml\"\n", agentA,
			"herdctl.toml:2:1: defaults.docker.memory: invalid size \"lots\": write a number with k, m or g, e.g. 512m or 2g"},
		{"docker disabled", "[[agents]]\npath = \"a.toml\"\n", agentA + "[docker]\nenabled = false\n",
			"a.toml:4:1: docker.enabled: herdctl always runs agents in a container; remove enabled = false"},
		{"retention unit", "[fleet]\nretention = \"90 days\"\n[[agents]]\npath = \"a.toml\"\n", agentA,
			"herdctl.toml:2:1: fleet.retention: invalid duration \"90 days\": write a number and a unit s, m, h or d, e.g. 90s, 15m, 72h, 2d"},
		{"retention under a day", "[fleet]\nretention = \"90m\"\n[[agents]]\npath = \"a.toml\"\n", agentA,
			"herdctl.toml:2:1: fleet.retention: 90m is shorter than a day: keep job records at least 1d (the default is 90d)"},
		{"mcp server", "[[agents]]\npath = \"a.toml\"\n", agentA + "[mcp_servers.fs]\nargs = [\"x\"]\n",
			"a.toml:3:2: mcp_servers.fs: set exactly one of command (a program run inside the agent's container) or url"},
		{"mcp headers without url", "[[agents]]\npath = \"a.toml\"\n", agentA + "[mcp_servers.fs]\ncommand = \"fs\"\nheaders = { Authorization = \"x\" }\n",
			"a.toml:5:1: mcp_servers.fs.headers: headers are sent to an http or sse server: set url, or remove headers"},
		{"mcp header on two lines", "[[agents]]\npath = \"a.toml\"\n", agentA + "[mcp_servers.api]\nurl = \"https://x\"\nheaders = { X-Key = \"a\\nb\" }\n",
			"a.toml:5:13: mcp_servers.api.headers.X-Key: invalid header: a name of letters, digits and - (e.g. Authorization), and a value on one line"},
		{"mcp timeout", "[[agents]]\npath = \"a.toml\"\n", agentA + "[mcp_servers.api]\nurl = \"https://x\"\ntimeout = -1\n",
			"a.toml:5:1: mcp_servers.api.timeout: must be a number of milliseconds, 1 or more (or left out)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"herdctl.toml": c.fleet, "a.toml": c.agent}
			if strings.Contains(c.fleet, "b.toml") {
				files["a.toml"] = "name = \"x\"\ndefault_prompt = \"hi\"\n[schedules.y-z]\ntype = \"interval\"\ninterval = \"1h\"\n"
				files["b.toml"] = c.agent
			}
			_, err := load(t, files, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != c.want {
				t.Errorf("got  %s\nwant %s", err, c.want)
			}
		})
	}
}

// TestRetention: [fleet] retention is read as schedules' durations are.
func TestRetention(t *testing.T) {
	f, err := load(t, map[string]string{"herdctl.toml": "[fleet]\nretention = \"30d\"\n[[agents]]\npath = \"a.toml\"\n", "a.toml": agentA}, nil)
	if err != nil || f.Retention != 30*24*time.Hour {
		t.Fatalf("retention: %v %v", f, err)
	}
}

func TestMerge(t *testing.T) {
	f, err := load(t, map[string]string{
		"herdctl.toml": `
[defaults]
model = "m-default"
allowed_tools = ["Read", "Write"]
[defaults.docker]
memory = "1g"
labels = { team = "ops", tier = "low" }
[[agents]]
path = "a.toml"
[agents.overrides]
max_turns = 3
[agents.overrides.docker]
labels = { tier = "high" }
`,
		"a.toml": agentA + `model = "m-agent"
allowed_tools = ["Bash"]
[docker]
pids_limit = 64
labels = { owner = "me" }
`,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := f.Agents[0]
	if a.Model != "m-agent" {
		t.Errorf("model = %q: the agent file replaces the default", a.Model)
	}
	if strings.Join(a.AllowedTools, ",") != "Bash" {
		t.Errorf("allowed_tools = %v: arrays replace, they do not append", a.AllowedTools)
	}
	if a.MaxTurns != 3 || a.Docker.Memory != "1g" || a.Docker.PidsLimit != 64 {
		t.Errorf("max_turns %d memory %q pids %d", a.MaxTurns, a.Docker.Memory, a.Docker.PidsLimit)
	}
	want := map[string]string{"team": "ops", "tier": "high", "owner": "me"}
	for k, v := range want {
		if a.Docker.Labels[k] != v {
			t.Errorf("labels[%s] = %q, want %q: tables deep-merge", k, a.Docker.Labels[k], v)
		}
	}
	if loc := a.Where("docker.labels.tier"); loc.Line != 13 || !strings.HasSuffix(loc.File, "herdctl.toml") {
		t.Errorf("labels.tier comes from %v, want herdctl.toml:13", loc)
	}
	if loc := a.Where("model"); !strings.HasSuffix(loc.File, "a.toml") || loc.Line != 3 {
		t.Errorf("model comes from %v, want a.toml:3", loc)
	}
}

func TestInterpolation(t *testing.T) {
	f, err := load(t, map[string]string{
		"herdctl.toml": `env_file = "herdctl.env"
[[agents]]
path = "a.toml"
[agents.overrides.docker.env]
KEY = "${API_KEY}"
FROM_PROCESS = "${HOMEISH}"
DEFAULTED = "${NOPE:-fallback}"
LITERAL = "$${NOT_EXPANDED}"
`,
		"herdctl.env": "# secrets\nAPI_KEY='sk-1'\nexport OTHER=\"a\\\"b\"\n",
		"a.toml":      agentA + "system_prompt = \"${API_KEY}\"\n",
	}, map[string]string{"HOMEISH": "/home/x", "API_KEY": "from-process"})
	if err != nil {
		t.Fatal(err)
	}
	a := f.Agents[0]
	env := a.Docker.Env
	if env["KEY"] != "sk-1" || env["FROM_PROCESS"] != "/home/x" || env["DEFAULTED"] != "fallback" || env["LITERAL"] != "${NOT_EXPANDED}" {
		t.Errorf("env = %v", env)
	}
	if a.SystemPrompt != "${API_KEY}" {
		t.Errorf("agent files are never interpolated (they could read secrets), got %q", a.SystemPrompt)
	}
	if f.Env["OTHER"] != `a"b` {
		t.Errorf("env file OTHER = %q", f.Env["OTHER"])
	}
}

func TestEnvFileErrors(t *testing.T) {
	cases := map[string]string{
		"NOVALUE\n":           "x.env:1:1: NOVALUE: expected KEY=VALUE; write the line as NAME=value or comment it out with #",
		"1BAD=x\n":            "x.env:1:1: 1BAD: invalid variable name: use letters, digits and _, not starting with a digit",
		"A=1\nB='open\n":      "x.env:2:3: B: unterminated single quote: close the value with '",
		"C=\"x\" trailing\n":  "x.env:1:3: C: text after the closing quote: put a # before a comment",
		"D=\"unterminated\n":  "x.env:1:3: D: unterminated double quote: close the value with \"",
		"OK=1 # comment\nE\n": "x.env:2:1: E: expected KEY=VALUE; write the line as NAME=value or comment it out with #",
	}
	for in, want := range cases {
		_, err := ParseEnvFile("x.env", []byte(in))
		if err == nil || err.Error() != want {
			t.Errorf("ParseEnvFile(%q) = %v, want %s", in, err, want)
		}
	}
	env, err := ParseEnvFile("x.env", []byte("A=1 # c\nB = two words \nC=\"q\\nr\"\nD=''\n"))
	if err != nil || env["A"] != "1" || env["B"] != "two words" || env["C"] != "q\nr" || env["D"] != "" {
		t.Errorf("env = %q, %v", env, err)
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]int64{"90s": 90, "15m": 900, "72h": 259200, "2d": 172800, "1h30m": 5400}
	for in, secs := range good {
		d, err := ParseDuration(in)
		if err != nil || int64(d.Seconds()) != secs {
			t.Errorf("ParseDuration(%q) = %v, %v", in, d, err)
		}
	}
	for _, in := range []string{"", "5", "h", "1.5h", "-1h", "1w", "99999999999d"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}

// TestKeysAreExact: the decoder would take "[Docker] Image" for
// docker.image; herdctl refuses it, so the tier check cannot be dodged.
func TestKeysAreExact(t *testing.T) {
	_, err := load(t, map[string]string{
		"herdctl.toml": "[[agents]]\npath = \"a.toml\"\n",
		"a.toml":       agentA + "[Docker]\nImage = \"evil\"\nNetwork = \"host\"\n",
	}, nil)
	want := "a.toml:3:2: Docker: unknown field (names are lower case and exact): check its spelling against herdctl.toml(5)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	_, err = load(t, map[string]string{"herdctl.toml": "[[Agents]]\npath = \"a.toml\"\n", "a.toml": agentA}, nil)
	if err == nil || !strings.Contains(err.Error(), "Agents: unknown field") {
		t.Fatalf("[[Agents]] accepted: %v", err)
	}
}

// TestOneBrokenAgentLeavesTheOthers: an agent whose file is broken (syntax,
// unknown field, a duplicate name, a colliding unit name, a missing file)
// is set aside with its errors; the rest of the fleet loads.
func TestOneBrokenAgentLeavesTheOthers(t *testing.T) {
	dir := fleetDir(t, map[string]string{
		"herdctl.toml": "version = 1\n[[agents]]\npath = \"good.toml\"\n[[agents]]\npath = \"syntax.toml\"\n[[agents]]\npath = \"unknown.toml\"\n" +
			"[[agents]]\npath = \"dup.toml\"\n[[agents]]\npath = \"missing.toml\"\n[[agents]]\npath = \"ab.toml\"\n[[agents]]\npath = \"a.toml\"\n",
		"good.toml":    "name = \"good\"\n",
		"syntax.toml":  "name = \"syntax\"\nmodel = \"unterminated\n",
		"unknown.toml": "name = \"unknown\"\nbogus = 1\n",
		"dup.toml":     "name = \"good\"\n",
		"ab.toml":      "name = \"a-b\"\n[schedules.c]\ntype = \"interval\"\ninterval = \"1h\"\n",
		"a.toml":       "name = \"a\"\n[schedules.b-c]\ntype = \"interval\"\ninterval = \"1h\"\n",
	})
	f, err := Load(filepath.Join(dir, "herdctl.toml"), LoadOptions{Getenv: noEnv})
	if err != nil {
		t.Fatalf("the fleet itself is fine: %v", err)
	}
	var names []string
	for _, a := range f.Agents {
		names = append(names, a.Name)
	}
	if strings.Join(names, " ") != "good a-b" {
		t.Errorf("loaded %v, want good and a-b", names)
	}
	if len(f.Broken) != 5 {
		t.Fatalf("broken: %+v", f.Broken)
	}
	for _, b := range f.Broken {
		if len(b.Errors) == 0 || b.Entry.File != filepath.Join(dir, "herdctl.toml") && b.Entry.File != b.File {
			t.Errorf("broken agent without errors or entry: %+v", b)
		}
		t.Logf("%s (%s): %v", b.File, b.Name, b.Errors)
	}
}

func noEnv(string) (string, bool) { return "", false }

// TestDropIns: fleet.d/*.toml add agents in lexical order; one that holds
// anything but agents, or that another user could write, is an error of
// the fleet's own files.
func TestDropIns(t *testing.T) {
	dir := fleetDir(t, map[string]string{
		"herdctl.toml":           "version = 1\n[defaults]\nmodel = \"sonnet\"\n",
		"fleet.d/20-b.toml":      "[[agents]]\npath = \"../b.toml\"\n",
		"fleet.d/10-a.toml":      "[[agents]]\npath = \"/AGENTS/a.toml\"\n  [agents.overrides]\n  max_turns = 3\n",
		"fleet.d/README":         "not a fleet file",
		"fleet.d/.hidden.toml":   "garbage",
		"a.toml":                 "name = \"a\"\n",
		"b.toml":                 "name = \"b\"\n",
		"fleet.d/30-empty.toml":  "",
		"fleet.d/nested/x.toml":  "garbage",
		"fleet.d/40-c.toml.orig": "garbage",
	})
	for _, p := range []string{"fleet.d/10-a.toml"} {
		b, _ := os.ReadFile(filepath.Join(dir, p))
		os.WriteFile(filepath.Join(dir, p), []byte(strings.ReplaceAll(string(b), "/AGENTS", dir)), 0o644)
	}
	f, err := Load(filepath.Join(dir, "herdctl.toml"), LoadOptions{Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Agents) != 2 || f.Agents[0].Name != "a" || f.Agents[1].Name != "b" || f.Agents[0].MaxTurns != 3 || f.Agents[1].Model != "sonnet" {
		t.Fatalf("agents: %+v %+v", f.Agents, f.Broken)
	}
	if where := f.Agents[0].Where("max_turns"); !strings.HasSuffix(where.File, "fleet.d/10-a.toml") {
		t.Errorf("max_turns comes from %s", where)
	}

	os.WriteFile(filepath.Join(dir, "fleet.d/50-bad.toml"), []byte("[defaults]\nmodel = \"opus\"\n"), 0o644)
	if _, err := Load(filepath.Join(dir, "herdctl.toml"), LoadOptions{Getenv: noEnv}); err == nil || !strings.Contains(err.Error(), "holds only [[agents]]") {
		t.Errorf("a drop-in with defaults: %v", err)
	}
	os.Remove(filepath.Join(dir, "fleet.d/50-bad.toml"))
	if os.Geteuid() == 0 {
		p := filepath.Join(dir, "fleet.d/60-theirs.toml")
		os.WriteFile(p, []byte("[[agents]]\npath = \"../b.toml\"\n"), 0o644)
		os.Chown(p, 1000, 1000)
		if _, err := Load(filepath.Join(dir, "herdctl.toml"), LoadOptions{Getenv: noEnv}); err == nil || !strings.Contains(err.Error(), "owned by uid 1000") {
			t.Errorf("a drop-in another user owns: %v", err)
		}
	}
}

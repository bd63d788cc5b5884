package policy

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/config"
)

var update = flag.Bool("update", false, "rewrite examples/bad/*/error.txt")

// realHost is the machine's host with a fixed workspace owner, so the
// tests do not depend on who owns the checkout.
type realHost struct{ OSHost }

func (realHost) Owner(string) (uint32, uint32, error) { return 1000, 1000, nil }

func noEnv(string) (string, bool) { return "", false }

// TestBadExamples loads each fleet under examples/bad and checks its error
// against the documented text in error.txt (paths relative to the case).
func TestBadExamples(t *testing.T) {
	dirs, _ := filepath.Glob("../examples/bad/*/herdctl.toml")
	if len(dirs) < 10 {
		t.Fatalf("found %d bad examples, want at least 10", len(dirs))
	}
	for _, fleet := range dirs {
		dir := filepath.Dir(fleet)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, _, err := Load(fleet, config.LoadOptions{Getenv: noEnv}, Options{Host: realHost{}})
			if err == nil {
				t.Fatal("loaded without error")
			}
			abs, _ := filepath.Abs(dir)
			got := strings.ReplaceAll(err.Error(), abs+"/", "") + "\n"
			want := filepath.Join(dir, "error.txt")
			if *update {
				os.WriteFile(want, []byte(got), 0o644)
			}
			b, _ := os.ReadFile(want)
			if string(b) != got {
				t.Errorf("error differs from %s:\n--- want\n%s--- got\n%s", want, b, got)
			}
		})
	}
}

// TestBrokenFiles covers what cannot be committed as an example.
func TestBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	huge := write("huge/herdctl.toml", "# "+strings.Repeat("x", 2<<20)+"\n")
	os.MkdirAll(filepath.Join(dir, "loop"), 0o755)
	os.Symlink("b.toml", filepath.Join(dir, "loop/a.toml"))
	os.Symlink("a.toml", filepath.Join(dir, "loop/b.toml"))
	loopFleet := write("loop/herdctl.toml", "version = 1\n[[agents]]\npath = \"a.toml\"\n")
	secret := write("secret.toml", "name = \"x\"\n")
	os.MkdirAll(filepath.Join(dir, "link/agent"), 0o755)
	os.Symlink(secret, filepath.Join(dir, "link/agent/agent.toml"))
	linkFleet := write("link/herdctl.toml", "version = 1\n[[agents]]\npath = \"agent/agent.toml\"\n")
	cases := []struct{ name, path, want string }{
		{"huge file", huge, "huge/herdctl.toml: cannot read it: file is 2097155 bytes, more than the 1048576 allowed: is this the right file?"},
		{"symlink loop", loopFleet, "loop/herdctl.toml:3:1: agents[0].path: agent file loop/a.toml: cannot read it: loop/a.toml is a symbolic link: a file here is read only when it is a regular file, never through a link; replace the link with the file itself"},
		{"agent file linked out of its directory", linkFleet, "link/herdctl.toml:3:1: agents[0].path: agent file link/agent/agent.toml: cannot read it: link/agent/agent.toml is a symbolic link: a file here is read only when it is a regular file, never through a link; replace the link with the file itself"},
		{"missing fleet", filepath.Join(dir, "nope.toml"), "nope.toml: cannot read it: no such file or directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Load(c.path, config.LoadOptions{Getenv: noEnv}, Options{Host: realHost{}})
			if err == nil {
				t.Fatal("loaded without error")
			}
			got := strings.ReplaceAll(err.Error(), dir+"/", "")
			if got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// TestCeilings: an agent file may lower every limit and set it up to the
// fleet's value, never above; where the fleet sets none, up to herdctl's
// built-in ceiling.
func TestCeilings(t *testing.T) {
	cases := []struct {
		name, defaults, agent string
		ok                    bool
	}{
		{"lower memory", "[defaults.docker]\nmemory = \"1g\"\n", "[docker]\nmemory = \"512m\"\n", true},
		{"equal memory", "[defaults.docker]\nmemory = \"1g\"\n", "[docker]\nmemory = \"1g\"\n", true},
		{"memory over the fleet's", "[defaults.docker]\nmemory = \"1g\"\n", "[docker]\nmemory = \"1025m\"\n", false},
		{"memory up to a higher fleet value", "[defaults.docker]\nmemory = \"8g\"\n", "[docker]\nmemory = \"6g\"\n", true},
		{"memory over the built-in ceiling", "", "[docker]\nmemory = \"3g\"\n", false},
		{"pids over", "", "[docker]\npids_limit = 257\n", false},
		{"pids under", "", "[docker]\npids_limit = 64\n", true},
		{"cpu quota within", "[defaults.docker]\ncpu_quota = 100000\ncpu_period = 100000\n", "[docker]\ncpu_quota = 50000\n", true},
		{"cpu period shrunk to widen", "[defaults.docker]\ncpu_quota = 50000\ncpu_period = 100000\n", "[docker]\ncpu_period = 10000\n", false},
		{"cpu quota lifted", "[defaults.docker]\ncpu_quota = 50000\ncpu_period = 100000\n", "[docker]\ncpu_quota = -1\n", false},
		{"cpu quota where the fleet has none", "", "[docker]\ncpu_quota = 50000\n", true},
		{"max_turns over", "[defaults]\nmax_turns = 10\n", "max_turns = 11\n", false},
		{"max_turns under", "[defaults]\nmax_turns = 10\n", "max_turns = 5\n", true},
		{"schedule timeout over the built-in", "", "[schedules.s]\ntype = \"interval\"\ninterval = \"1h\"\ntimeout = \"25h\"\n", false},
		{"schedule timeout over the fleet's", "[defaults]\ntimeout = \"10m\"\n", "[schedules.s]\ntype = \"interval\"\ninterval = \"1h\"\ntimeout = \"11m\"\n", false},
		{"schedule timeout within", "[defaults]\ntimeout = \"10m\"\n", "[schedules.s]\ntype = \"interval\"\ninterval = \"1h\"\ntimeout = \"5m\"\n", true},
		{"tmpfs too big", "", "[docker]\ntmpfs = [\"/x:size=1g\"]\n", false},
		{"tmpfs unlimited", "", "[docker]\ntmpfs = [\"/x:size=0\"]\n", false},
		{"too many tmpfs", "", "[docker]\ntmpfs = [\"/a\", \"/b\", \"/c\", \"/d\", \"/e\"]\n", false},
		{"max_concurrent over", "", "[instances]\nmax_concurrent = 2\n", false},
		{"max_concurrent within the fleet's", "[defaults.instances]\nmax_concurrent = 4\n", "[instances]\nmax_concurrent = 3\n", true},
		{"disk over", "", "[docker]\ndisk = \"11g\"\n", false},
		{"log budget over", "", "log_budget = \"17m\"\n", false},
		{"daily log budget under", "", "log_budget_daily = \"10m\"\n", true},
		{"daily cost under the fleet's", "[defaults]\nmax_cost_usd_per_day = 5\n", "max_cost_usd_per_day = 2.5\n", true},
		{"daily cost over the fleet's", "[defaults]\nmax_cost_usd_per_day = 5\n", "max_cost_usd_per_day = 5.01\n", false},
		{"daily cost lifted", "[defaults]\nmax_cost_usd_per_day = 5\n", "max_cost_usd_per_day = 0\n", false},
		{"daily cost where the fleet has none", "", "max_cost_usd_per_day = 100\n", true},
		{"job cost over the fleet's", "[defaults]\nmax_cost_usd_per_job = 1\n", "max_cost_usd_per_job = 2\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "herdctl.toml"), []byte("version = 1\n"+c.defaults+"[[agents]]\npath = \"a/agent.toml\"\n"), 0o644)
			os.MkdirAll(filepath.Join(dir, "a"), 0o755)
			os.WriteFile(filepath.Join(dir, "a/agent.toml"), []byte("name = \"a\"\ndefault_prompt = \"p\"\n"+c.agent), 0o644)
			_, agents, err := Load(filepath.Join(dir, "herdctl.toml"), config.LoadOptions{Getenv: noEnv}, Options{Host: realHost{}})
			if c.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !c.ok && (err == nil || !strings.Contains(err.Error(), "may only lower it") && !strings.Contains(err.Error(), "at most")) {
				t.Errorf("accepted: %v %v", agents, err)
			}
		})
	}
}

// TestEgressLists: the fleet's egress list (or the default) is what an
// agent may reach; an agent file may narrow it, never widen it; only the
// fleet sets the network and the private ranges.
func TestEgressLists(t *testing.T) {
	cases := []struct {
		name, fleet, agent string
		ok                 bool
		want               string
	}{
		{"default list", "network = \"egress\"\n", "", true, "api.anthropic.com:443"},
		{"the fleet's list", "network = \"egress\"\negress = [\"*.example.org\", \"git.example.org:22\"]\n", "", true, "*.example.org:443 git.example.org:22"},
		{"narrowed to a name under a wildcard", "network = \"egress\"\negress = [\"*.example.org\"]\n", "[docker]\negress = [\"api.example.org\"]\n", true, "api.example.org:443"},
		{"widened to another name", "network = \"egress\"\negress = [\"*.example.org\"]\n", "[docker]\negress = [\"evil.example.com\"]\n", false, ""},
		{"widened to another port", "network = \"egress\"\negress = [\"api.example.org\"]\n", "[docker]\negress = [\"api.example.org:22\"]\n", false, ""},
		{"widened to the wildcard's own domain", "network = \"egress\"\negress = [\"*.example.org\"]\n", "[docker]\negress = [\"example.org\"]\n", false, ""},
		{"widened from the default", "network = \"egress\"\n", "[docker]\negress = [\"*.anthropic.com\"]\n", false, ""},
		{"a raw address in the fleet's list", "network = \"egress\"\negress = [\"10.0.0.1\"]\n", "", false, ""},
		{"private ranges from the agent file", "network = \"egress\"\n", "[docker]\negress_private = [\"10.0.0.0/8\"]\n", false, ""},
		{"network from the agent file", "", "[docker]\nnetwork = \"egress\"\n", false, ""},
		{"an egress list without egress", "egress = [\"api.example.org\"]\n", "", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "a"), 0o755)
			os.WriteFile(filepath.Join(dir, "herdctl.toml"), []byte("version = 1\n[defaults.docker]\n"+c.fleet+"[[agents]]\npath = \"a/agent.toml\"\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "a/agent.toml"), []byte("name = \"a\"\ndefault_prompt = \"p\"\n"+c.agent), 0o644)
			_, agents, err := Load(filepath.Join(dir, "herdctl.toml"), config.LoadOptions{Getenv: noEnv}, Options{Host: realHost{}})
			if c.ok != (err == nil) {
				t.Fatalf("ok %v, err %v", c.ok, err)
			}
			if c.ok && strings.Join(agents[0].Container.Egress, " ") != c.want {
				t.Errorf("egress %v, want %s", agents[0].Container.Egress, c.want)
			}
		})
	}
}

// TestWorkspaceInPrivateTmp: herdctl.service has PrivateTmp=, so the
// daemon refuses a workspace under /tmp (where t.TempDir is) with a
// message that says where to put it; without the option it loads.
func TestWorkspaceInPrivateTmp(t *testing.T) {
	dir := t.TempDir()
	if !strings.HasPrefix(dir, "/tmp/") {
		t.Skipf("t.TempDir is %s, not under /tmp", dir)
	}
	os.WriteFile(filepath.Join(dir, "herdctl.toml"), []byte("version = 1\n[[agents]]\npath = \"a/agent.toml\"\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	os.WriteFile(filepath.Join(dir, "a/agent.toml"), []byte("name = \"a\"\ndefault_prompt = \"p\"\n"), 0o644)
	fleet := filepath.Join(dir, "herdctl.toml")
	_, _, err := Load(fleet, config.LoadOptions{Getenv: noEnv}, Options{Host: realHost{}, PrivateTmp: true})
	if err == nil || !strings.Contains(err.Error(), "is under /tmp, which herdctl.service cannot see") || !strings.Contains(err.Error(), "under /srv or /var/lib") {
		t.Errorf("workspace under /tmp: %v", err)
	}
	if _, _, err := Load(fleet, config.LoadOptions{Getenv: noEnv}, Options{Host: realHost{}}); err != nil {
		t.Errorf("without PrivateTmp: %v", err)
	}
}

// TestBudgetAction: an agent file may tighten skip to cancel, never loosen
// the fleet's cancel; a bad value names the choices.
func TestBudgetAction(t *testing.T) {
	for _, c := range []struct{ defaults, agent, want string }{
		{"", "budget_action = \"cancel\"\n", ""},
		{"[defaults]\nbudget_action = \"cancel\"\n", "budget_action = \"skip\"\n", "weaker than the fleet's \"cancel\""},
		{"", "budget_action = \"pause\"\n", "use skip"},
		{"", "max_cost_usd_per_day = -1\n", "must be a number of dollars above 0"},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "herdctl.toml"), []byte("version = 1\n"+c.defaults+"[[agents]]\npath = \"a/agent.toml\"\n"), 0o644)
		os.MkdirAll(filepath.Join(dir, "a"), 0o755)
		os.WriteFile(filepath.Join(dir, "a/agent.toml"), []byte("name = \"a\"\ndefault_prompt = \"p\"\n"+c.agent), 0o644)
		_, agents, err := Load(filepath.Join(dir, "herdctl.toml"), config.LoadOptions{Getenv: noEnv}, Options{Host: realHost{}})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.agent, err)
		case c.want == "" && agents[0].Budget.Action != BudgetCancel:
			t.Errorf("%q: action %q", c.agent, agents[0].Budget.Action)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: %v, want %q", c.agent, err, c.want)
		}
	}
}

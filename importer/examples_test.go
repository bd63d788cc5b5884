package importer

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// examples are the original herdctl's example fleets, copied under
// testdata/original (see its README for their source and licence).
var examples = []string{"hello-world", "hurricane-watcher", "price-checker", "discord-chat-bot", "slack-chat-bot",
	"multi-agent", "runtime-showcase", "star-trek-captains", "bragdoc-developer", "docs-maintainer"}

// testOwner is the user the imported agents run as (--user).
var testOwner = Owner{UID: 1000, GID: 1000}

func noEnv(string) (string, bool) { return "", false }

func importExample(t *testing.T, name string) (*Result, string) {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("testdata", "original"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(Options{Fleet: filepath.Join(src, name, "herdctl.yaml"), Getenv: noEnv})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res, src
}

// notesText is what import prints on stderr, as the golden files hold it.
func notesText(res *Result) string {
	var b strings.Builder
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "%s: %s\n", n.Agent, n)
	}
	for _, v := range res.Vars {
		fmt.Fprintf(&b, "var %s optional=%v dotenv=%v\n", v.Name, v.Optional, v.InDotEnv)
	}
	return b.String()
}

// TestExamplesGolden: each of the original's example fleets imports to
// the files under testdata/golden/NAME (with the source directory
// written @ORIGINAL@), and the notes in notes.txt.
func TestExamplesGolden(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex, func(t *testing.T) {
			res, src := importExample(t, ex)
			files := append(res.Files(""), File{Path: "notes.txt", Data: []byte(notesText(res))})
			for _, f := range files {
				got := strings.ReplaceAll(string(f.Data), src, "@ORIGINAL@")
				golden(t, filepath.Join("testdata", "golden", ex, f.Path), got)
			}
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./importer -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test ./importer -update rewrites it):\n--- got\n%s", path, got)
	}
}

// testEnv gives every variable the fleet references a value of the shape
// its field wants: the env file an operator would write.
func testEnv(res *Result) map[string]string {
	env := map[string]string{}
	for i, v := range res.Vars {
		switch n := v.Name; {
		case strings.Contains(n, "SLACK") && strings.Contains(n, "CHANNEL"):
			env[n] = fmt.Sprintf("C%09d", i)
		case strings.Contains(n, "SLACK") && strings.HasSuffix(n, "_USER"):
			env[n] = fmt.Sprintf("U%09d", i)
		case strings.Contains(n, "SLACK_BOT"):
			env[n] = fmt.Sprintf("xoxb-%012d-abcdef", i)
		case strings.Contains(n, "SLACK_APP"):
			env[n] = fmt.Sprintf("xapp-%012d-abcdef", i)
		case strings.HasSuffix(n, "_TOKEN"):
			env[n] = fmt.Sprintf("MTIz.token-%024d", i)
		default:
			env[n] = fmt.Sprintf("1%017d", i)
		}
	}
	return env
}

// mapHost is the machine, with every absolute workspace the fleet names
// and that does not exist here (the original's authors' /Users/...)
// created under root instead.
type mapHost struct {
	policy.OSHost
	root string
}

func (h mapHost) where(p string) string {
	if _, err := os.Lstat(p); err == nil {
		return p
	}
	q := filepath.Join(h.root, p)
	if os.MkdirAll(q, 0o755) == nil {
		os.Chown(q, testOwner.UID, testOwner.GID)
	}
	return q
}

func (h mapHost) RealPath(p string) (string, error) { return h.OSHost.RealPath(h.where(p)) }
func (h mapHost) Owner(p string) (uint32, uint32, error) {
	return h.OSHost.Owner(h.where(p))
}

// TestExamplesValidate: each imported example is a fleet policy.Load
// accepts (what herdctlctl validate runs), once the workspaces it names
// exist and the env file sets its variables; it keeps every agent and
// every schedule, with its interval or cron and its prompt.
func TestExamplesValidate(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex, func(t *testing.T) {
			res, _ := importExample(t, ex)
			dir := t.TempDir()
			out := filepath.Join(dir, "fleet")
			if err := Write(res.Files(out), WriteOptions{Out: out, Owner: &testOwner}); err != nil {
				t.Fatal(err)
			}
			env := testEnv(res)
			getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			f, agents, err := policy.Load(filepath.Join(out, FleetFileName), config.LoadOptions{Getenv: getenv},
				policy.Options{Host: mapHost{root: filepath.Join(dir, "host")}, StateDir: "/var/lib/herdctl", RuntimeDir: "/run/herdctl"})
			if err != nil {
				t.Fatalf("the imported fleet is invalid:\n%v", err)
			}
			orig := originalSchedules(t, ex)
			if len(agents) != len(orig) {
				t.Fatalf("%d agents, the original has %d", len(agents), len(orig))
			}
			for _, a := range f.Agents {
				want, ok := orig[a.Name]
				if !ok {
					t.Errorf("agent %s is not in the original", a.Name)
					continue
				}
				if len(a.Schedules) != len(want) {
					t.Errorf("agent %s: %d schedules, the original has %d", a.Name, len(a.Schedules), len(want))
				}
				for name, w := range want {
					got := a.Schedules[name]
					if got.Interval != w.Interval || got.Cron != w.Cron || got.Prompt != w.Prompt {
						t.Errorf("agent %s schedule %s: got %+v, want %+v", a.Name, name, got, w)
					}
				}
			}
		})
	}
}

// originalSchedules reads the schedules of the original fleet straight
// from its YAML (with the fleet's overrides), independently of the mapper.
func originalSchedules(t *testing.T, ex string) map[string]map[string]config.Schedule {
	t.Helper()
	fleetFile := filepath.Join("testdata", "original", ex, "herdctl.yaml")
	root, err := readYAML(fleetFile)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]config.Schedule{}
	for _, e := range root.get("agents").items {
		a, err := readYAML(filepath.Join(filepath.Dir(fleetFile), e.get("path").str))
		if err != nil {
			t.Fatal(err)
		}
		a = merge(a, e.get("overrides"))
		scheds := map[string]config.Schedule{}
		if s := a.get("schedules"); s != nil {
			for _, name := range s.keys {
				v := s.field[name]
				str := func(k string) string {
					if x := v.get(k); x != nil {
						return x.str
					}
					return ""
				}
				c := str("cron")
				if c == "" {
					c = str("expression")
				}
				scheds[name] = config.Schedule{Interval: str("interval"), Cron: c, Prompt: str("prompt")}
			}
		}
		out[a.get("name").str] = scheds
	}
	return out
}

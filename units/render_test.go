package units

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

type fakeHost struct{}

func (fakeHost) Owner(string) (uint32, uint32, error) { return 1000, 1000, nil }
func (fakeHost) RealPath(p string) (string, error)    { return p, nil }
func (fakeHost) HomeDirs() []string                   { return nil }
func (fakeHost) LookPath(string) (string, error)      { return "/usr/bin/claude", nil }

func exampleUnits(t *testing.T, runner string) []Unit {
	t.Helper()
	env := map[string]string{"HERDCTL_TEST_SECRET": "s3cr3t-value"}
	f, err := config.Load("../examples/herdctl.toml", config.LoadOptions{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	agents, err := policy.ResolveFleet(f, policy.Options{Host: fakeHost{}})
	if err != nil {
		t.Fatal(err)
	}
	return RenderFleet(agents, Options{Runner: runner})
}

func TestRenderGolden(t *testing.T) {
	got := exampleUnits(t, "")
	dir := filepath.Join("testdata", "examples")
	if *update {
		os.RemoveAll(dir)
		os.MkdirAll(dir, 0o755)
		for _, u := range got {
			if err := os.WriteFile(filepath.Join(dir, u.Name), []byte(u.Content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != len(got) {
		t.Fatalf("rendered %d units, golden has %d files (run go test ./units -update and review the diff)", len(got), len(files))
	}
	for _, u := range got {
		want, err := os.ReadFile(filepath.Join(dir, u.Name))
		if err != nil {
			t.Fatalf("%s: %v (run go test ./units -update)", u.Name, err)
		}
		if string(want) != u.Content {
			t.Errorf("%s differs from its golden file:\n--- want\n%s\n--- got\n%s", u.Name, want, u.Content)
		}
	}
}

func TestRenderNoSecrets(t *testing.T) {
	for _, u := range exampleUnits(t, "") {
		for _, secret := range []string{"sk-ant-example-not-a-real-key", "s3cr3t-value"} {
			if strings.Contains(u.Content, secret) {
				t.Errorf("%s contains a secret", u.Name)
			}
		}
	}
}

// TestSystemdVerify checks every rendered unit with systemd-analyze verify,
// with a stub standing in for the runner binary.
func TestSystemdVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (apt-get install systemd)")
	}
	dir := t.TempDir()
	runner := filepath.Join(dir, "herdctl-runner")
	if err := os.WriteFile(runner, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	us := exampleUnits(t, runner)
	var paths []string
	for _, u := range us {
		p := filepath.Join(dir, u.Name)
		if err := os.WriteFile(p, []byte(u.Content), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	// herdctl.service is what the timers are PartOf; give verify a stand-in.
	stub := "[Unit]\nDescription=stub\n[Service]\nType=notify\nExecStart=" + runner + "\n"
	if err := os.WriteFile(filepath.Join(dir, "herdctl.service"), []byte(stub), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("systemd-analyze", append([]string{"verify", "--man=no"}, paths...)...)
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	t.Logf("verified %d units", len(paths))
}

func TestUnitNames(t *testing.T) {
	cases := []struct{ agent, schedule, want string }{
		{"gardener", "weather", "herdctl-gardener-weather"},
		{"a_b", "c-d", "herdctl-a_b-c-d"},
		{"x", "a/b", `herdctl-x-a\x2fb`},
		{"x", "a b", `herdctl-x-a\x20b`},
	}
	for _, c := range cases {
		if got := BaseName(c.agent, c.schedule); got != c.want {
			t.Errorf("BaseName(%q, %q) = %q, want %q", c.agent, c.schedule, got, c.want)
		}
	}
}

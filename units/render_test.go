package units

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
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
	agents, _, err := policy.ResolveFleet(f, policy.Options{Host: fakeHost{}})
	if err != nil {
		t.Fatal(err)
	}
	// The env file is found next to the fleet file: the checkout's path
	// is not the golden files' business.
	abs, _ := filepath.Abs("../examples")
	us := RenderFleet(agents, Options{Runner: runner})
	for i := range us {
		us[i].Content = strings.ReplaceAll(us[i].Content, abs+"/", "/etc/herdctl/")
	}
	return us
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

// TestJobUnitForms: a scheduled job's unit file and a manual job's
// transient properties come from the same directives, and a scheduled job
// and a manual job of the same agent get the same sandbox and limits.
func TestJobUnitForms(t *testing.T) {
	a := &policy.Agent{Name: "gardener", Schedules: []policy.Schedule{{Name: "weekly", Timeout: time.Hour}}}
	scheduled := NewJobService(a, a.Schedules[0], nil, Options{})
	manual := NewJobService(a, a.Schedules[0], &state.Job{ID: "20261130-020031-abcdef"}, Options{})

	// Every line of the file has its property, with the same meaning.
	props := map[string][]any{}
	for _, p := range TransientProperties(manual) {
		props[p.Name] = append(props[p.Name], p.Value.Value())
	}
	perJob := map[string]bool{"Description": true, "ExecStart": true, "Environment": true}
	fileOnly := map[string]bool{"X-Herdctl-Agent": true, "X-Herdctl-Schedule": true}
	for _, d := range scheduled.directives() {
		if fileOnly[d.key] {
			if d.prop.Name != "" {
				t.Errorf("%s: a file-only marker has property %s", d.key, d.prop.Name)
			}
			continue
		}
		if !strings.Contains(RenderService(scheduled), "\n"+d.key+"="+d.value+"\n") {
			t.Errorf("the unit file lacks %s=%s", d.key, d.value)
		}
		got, ok := props[d.prop.Name]
		if !ok {
			t.Errorf("%s=%s has no transient property (%s)", d.key, d.value, d.prop.Name)
			continue
		}
		if !perJob[d.key] && !reflect.DeepEqual(got[0], d.prop.Value.Value()) {
			t.Errorf("%s: scheduled %v, manual %v", d.key, d.prop.Value.Value(), got[0])
		}
	}
	// The same sandbox: every directive but the job's own names.
	same := func(js JobService) []string {
		var out []string
		for _, d := range js.directives() {
			if !perJob[d.key] && !fileOnly[d.key] {
				out = append(out, d.key+"="+d.value)
			}
		}
		return out
	}
	if s, m := same(scheduled), same(manual); !reflect.DeepEqual(s, m) {
		t.Errorf("scheduled and manual jobs differ:\n%v\n%v", s, m)
	}
	for _, want := range []string{"NoNewPrivileges=yes", "RuntimeMaxSec=1h", "KillMode=mixed", "SystemCallArchitectures=native"} {
		if !slices.Contains(same(manual), want) {
			t.Errorf("the job unit lacks %s", want)
		}
	}
	if _, ok := props["CollectMode"]; !ok {
		t.Error("a transient job unit must be collected when it ends")
	}
}

// TestManualJobArgs: a manual job's runner is told its job, the session
// to resume and the chat attachments' stage, each only when it is one
// herdctl makes: nothing else of the record reaches the command line.
func TestManualJobArgs(t *testing.T) {
	a := &policy.Agent{Name: "gardener"}
	j := &state.Job{ID: "20261130-020031-abcdef", Resume: "0f8fad5b-d9cb-469f-a165-70867728950e", Inbox: "0123456789abcdef0123456789abcdef"}
	got := strings.Join(NewJobService(a, policy.Schedule{}, j, Options{}).ExecStart, " ")
	if !strings.HasSuffix(got, "run --agent=gardener --job=20261130-020031-abcdef --trigger=manual --resume=0f8fad5b-d9cb-469f-a165-70867728950e --inbox=0123456789abcdef0123456789abcdef") {
		t.Errorf("ExecStart: %s", got)
	}
	j.Inbox, j.Resume = "../../etc", "x --evil"
	if got := strings.Join(NewJobService(a, policy.Schedule{}, j, Options{}).ExecStart, " "); strings.Contains(got, "--inbox") || strings.Contains(got, "--resume") {
		t.Errorf("ExecStart: %s", got)
	}
}

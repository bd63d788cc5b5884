package kube

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

type fakeHost struct{ owner uint32 }

func (h fakeHost) Owner(string) (uint32, uint32, error) { return h.owner, h.owner, nil }
func (fakeHost) RealPath(p string) (string, error)      { return p, nil }
func (fakeHost) HomeDirs() []string                     { return nil }
func (fakeHost) LookPath(string) (string, error)        { return "/usr/bin/claude", nil }

// fleets are the fleets exported in the golden tests, by golden name.
var fleets = map[string]string{
	"examples":  "../examples/herdctl.toml",
	"packaging": "../packaging/etc/herdctl.toml",
	"networks":  "testdata/fleets/networks/herdctl.toml",
	"sessions":  "testdata/fleets/sessions/herdctl.toml",
	"refused":   "testdata/fleets/refused/herdctl.toml",
}

func noEnv(string) (string, bool) { return "", false }

// load resolves a fleet as herdctlctl export does.
func load(t *testing.T, path string) (*policy.Fleet, Options) {
	t.Helper()
	owner := uint32(1000)
	if strings.Contains(path, "packaging") {
		owner = 998
	}
	f, err := policy.LoadFleet(path, config.LoadOptions{Getenv: noEnv}, policy.Options{Host: fakeHost{owner: owner}})
	if err != nil {
		t.Fatal(err)
	}
	if errs := f.Errs(); len(errs) > 0 {
		t.Fatal(errs)
	}
	opts := Options{Image: "localhost/herdctl:test", TimeZone: "Europe/Berlin",
		Where: func(agent, field string) config.Location {
			for _, a := range f.Config.Agents {
				if a.Name == agent {
					return a.Where(field)
				}
			}
			return config.Location{}
		}}
	return f, opts
}

// export renders a fleet as the command prints it: the YAML, the notes,
// or the refusals; the checkout's path is not the golden files' business.
func export(t *testing.T, path string) (out, notes, refused string) {
	t.Helper()
	f, opts := load(t, path)
	e, err := Render(f.Agents, opts)
	abs, _ := filepath.Abs(filepath.Join(filepath.Dir(path), ".."))
	clean := func(s string) string { return strings.ReplaceAll(s, abs+"/", "/srv/fleets/") }
	if err != nil {
		return "", "", clean(err.Error() + "\n")
	}
	var b bytes.Buffer
	if err := e.WriteYAML(&b, Header{Fleet: f.Config.File, EnvFile: f.Config.EnvFile, Version: "test"}, opts); err != nil {
		t.Fatal(err)
	}
	return clean(b.String()), clean(strings.Join(e.Notes, "\n") + "\n"), ""
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "export", name)
	if *update {
		if got == "" {
			os.Remove(path)
			return
		}
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if os.IsNotExist(err) && got == "" {
		return
	}
	if err != nil {
		t.Fatalf("%s: %v (run go test ./kube -update and review the diff)", name, err)
	}
	if string(want) != got {
		t.Errorf("%s differs from its golden file (run go test ./kube -update and review the diff):\n--- want\n%s\n--- got\n%s", name, want, got)
	}
}

func TestExportGolden(t *testing.T) {
	for name, path := range fleets {
		t.Run(name, func(t *testing.T) {
			out, notes, refused := export(t, path)
			golden(t, name+".yaml", out)
			golden(t, name+".notes", strings.TrimPrefix(notes, "\n"))
			golden(t, name+".refused", refused)
		})
	}
}

// TestExportRefusals: each refusal names the agent, the file, the field
// and what to do.
func TestExportRefusals(t *testing.T) {
	_, _, refused := export(t, fleets["refused"])
	for _, want := range []string{
		`refused/herdctl.toml:13:3: agents[0].overrides.docker.network: agent "wide" has network = "host"`, `give it network = "egress"`,
		`odd/agent.toml:6:1: schedules.seven.interval: schedule "seven" of agent "odd" runs every 7m`, `use an interval that divides an hour or a day`,
		`schedules.both.cron: schedule "both" of agent "odd": cron "0 0 */2 * mon"`, `list the days of the month instead`,
	} {
		if !strings.Contains(refused, want) {
			t.Errorf("the refusals lack %q:\n%s", want, refused)
		}
	}
	_, _, refused = export(t, fleets["examples"])
	if !strings.Contains(refused, `schedule "weather" of agent "gardener" runs every 3d`) {
		t.Errorf("the example fleet's 72h interval is not refused by name:\n%s", refused)
	}
}

// TestExportDeterministic: the same fleet gives the same bytes, whatever
// the order of its agents and schedules.
func TestExportDeterministic(t *testing.T) {
	for _, name := range []string{"networks", "sessions"} {
		f, opts := load(t, fleets[name])
		var outs []string
		for i := 0; i < 2; i++ {
			agents := slices.Clone(f.Agents)
			if i == 1 {
				slices.Reverse(agents)
				for _, a := range agents {
					slices.Reverse(a.Schedules)
				}
			}
			e, err := Render(agents, opts)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			e.WriteYAML(&b, Header{}, opts)
			outs = append(outs, b.String())
		}
		if outs[0] != outs[1] {
			t.Errorf("%s: two exports differ", name)
		}
	}
}

// TestExportHoldsNoSecret: no value of the env file is anywhere in the
// output, the notes included.
func TestExportHoldsNoSecret(t *testing.T) {
	for name, path := range fleets {
		f, _ := load(t, path)
		out, notes, refused := export(t, path)
		for k, v := range f.Config.Env {
			if len(v) < policy.MinSecretLen {
				continue
			}
			if strings.Contains(out+notes+refused, v) {
				t.Errorf("%s: the value of %s is in the export", name, k)
			}
		}
	}
}

// TestExportRestricted: every pod of every export meets Pod Security
// "restricted" and herdctl's own line, read back from the YAML.
func TestExportRestricted(t *testing.T) {
	for _, name := range []string{"networks", "sessions", "packaging"} {
		out, _, _ := export(t, fleets[name])
		for _, doc := range strings.Split(out, "\n---\n")[1:] {
			var o map[string]any
			if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var pod map[string]any
			switch o["kind"] {
			case "CronJob":
				pod = dig(o, "spec", "jobTemplate", "spec", "template", "spec")
			case "Deployment":
				pod = dig(o, "spec", "template", "spec")
			default:
				continue
			}
			where := name + " " + dig(o, "metadata")["name"].(string)
			for _, k := range []string{"hostNetwork", "hostPID", "hostIPC", "automountServiceAccountToken"} {
				if pod[k] != false {
					t.Errorf("%s: %s is %v", where, k, pod[k])
				}
			}
			if sp := dig(pod, "securityContext", "seccompProfile"); sp["type"] != "RuntimeDefault" {
				t.Errorf("%s: pod seccomp %v", where, sp)
			}
			for _, c := range pod["containers"].([]any) {
				sc := dig(c.(map[string]any), "securityContext")
				if sc["allowPrivilegeEscalation"] != false || sc["runAsNonRoot"] != true || sc["readOnlyRootFilesystem"] != true || sc["privileged"] != false {
					t.Errorf("%s: container security %v", where, sc)
				}
				if uid, _ := sc["runAsUser"].(float64); uid == 0 {
					t.Errorf("%s: runs as root", where)
				}
				if drop := dig(sc, "capabilities")["drop"]; !reflect.DeepEqual(drop, []any{"ALL"}) {
					t.Errorf("%s: drops %v", where, drop)
				}
			}
			for _, v := range pod["volumes"].([]any) {
				if _, ok := v.(map[string]any)["hostPath"]; ok {
					t.Errorf("%s: a hostPath volume", where)
				}
			}
		}
	}
}

func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, _ := m[k].(map[string]any)
		m = next
	}
	return m
}

// TestExportNames: objects of one kind whose names would be the same in
// Kubernetes are refused by name; of different kinds they may share one.
func TestExportNames(t *testing.T) {
	f, opts := load(t, fleets["sessions"])
	byName := map[string]*policy.Agent{}
	for _, a := range f.Agents {
		byName[a.Name] = a
	}
	// keeper's schedule "home" is a CronJob herdctl-keeper-home beside
	// its claim herdctl-keeper-home: different kinds.
	keeper := byName["keeper"]
	keeper.Schedules[0].Name = "home"
	if _, err := Render(f.Agents, opts); err != nil {
		t.Errorf("a CronJob and a claim of one name: %v", err)
	}
	// An agent named egress would take the egress NetworkPolicy's name;
	// schedules HOME and home of agents named keeper the same CronJob's.
	byName["chatty"].Name = "egress"
	hooked := byName["hooked"]
	hooked.Name, hooked.Schedules[0].Name = "keeper", "HOME"
	_, err := Render(f.Agents, opts)
	for _, want := range []string{`agent "egress" and the egress Deployment's NetworkPolicy would both be the NetworkPolicy "herdctl-egress"`,
		`would both be the CronJob "herdctl-keeper-home"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("no refusal %q: %v", want, err)
		}
	}
}

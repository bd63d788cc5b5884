package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// adversarial are agent files an agent could write to make the daemon
// work: big, deep, wide. Each is within the size cap.
var adversarial = map[string]func(n int) string{
	"dotted keys": func(n int) string {
		var b strings.Builder
		b.WriteString("name = \"x\"\n")
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "docker.labels.k%d = \"v\"\n", i)
		}
		return b.String()
	},
	"wide table": func(n int) string {
		var b strings.Builder
		b.WriteString("name = \"x\"\n[docker.labels]\n")
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "k%d = \"v\"\n", i)
		}
		return b.String()
	},
	"deep dotted key": func(n int) string { return "name = \"x\"\n" + strings.Repeat("a.", n/2-10) + "b = 1\n" },
	"many tables": func(n int) string {
		var b strings.Builder
		b.WriteString("name = \"x\"\n")
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "[schedules.s%d]\ntype = \"interval\"\ninterval = \"1h\"\n", i)
		}
		return b.String()
	},
	"deep inline tables": func(n int) string {
		d := n / 10
		return "name = \"x\"\nx = " + strings.Repeat("{a=", d) + "1" + strings.Repeat("}", d) + "\n"
	},
	"deep arrays": func(n int) string {
		d := n / 4
		return "name = \"x\"\nallowed_tools = " + strings.Repeat("[", d) + strings.Repeat("]", d) + "\n"
	},
	"long array": func(n int) string {
		return "name = \"x\"\nallowed_tools = [" + strings.Repeat("\"Read\",", n/8) + "\"Read\"]\n"
	},
}

// TestAdversarialAgentFiles: every adversarial agent file is refused for
// its shape (or loads, for a long flat array) with a message that says
// which rule, and leaves only that agent out.
func TestAdversarialAgentFiles(t *testing.T) {
	for name, gen := range adversarial {
		t.Run(name, func(t *testing.T) {
			dir := fleetDir(t, map[string]string{
				"herdctl.toml": "version = 1\n[[agents]]\npath = \"a.toml\"\n[[agents]]\npath = \"good.toml\"\n",
				"a.toml":       gen(MaxAgentFile - 100),
				"good.toml":    "name = \"good\"\n",
			})
			f, err := Load(filepath.Join(dir, "herdctl.toml"), LoadOptions{Getenv: noEnv})
			if err != nil {
				t.Fatalf("the fleet's own files are fine: %v", err)
			}
			if len(f.Agents) == 0 || f.Agents[len(f.Agents)-1].Name != "good" {
				t.Errorf("the good agent did not load: %+v", f.Agents)
			}
			if name == "long array" {
				return
			}
			if len(f.Broken) != 1 {
				t.Fatalf("broken: %+v", f.Broken)
			}
			msg := f.Broken[0].Errors.Error()
			if !strings.Contains(msg, "keys and tables") && !strings.Contains(msg, "levels deep") {
				t.Errorf("the refusal does not say which rule: %s", msg)
			}
		})
	}
}

// BenchmarkAdversarialAgentFile: how long loading each adversarial agent
// file takes (go test -bench Adversarial ./config).
func BenchmarkAdversarialAgentFile(b *testing.B) {
	for name, gen := range adversarial {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			dir := b.TempDir()
			writeFiles(b, dir, map[string]string{"herdctl.toml": "version = 1\n[[agents]]\npath = \"a.toml\"\n", "a.toml": gen(MaxAgentFile - 100)})
			for b.Loop() {
				Load(filepath.Join(dir, "herdctl.toml"), LoadOptions{Getenv: noEnv})
			}
		})
	}
}

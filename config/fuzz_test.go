package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes as the agent file and as the fleet file:
// Load must return a fleet or an error, never panic or hang.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/agents/*/agent.toml")
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		f.Add(b, []byte("[[agents]]\npath = \"a.toml\"\n[defaults.docker]\nmemory = \"1g\"\n"))
	}
	for _, gen := range adversarial {
		f.Add([]byte(gen(MaxAgentFile/4)), []byte("[[agents]]\npath = \"a.toml\"\n"))
	}
	f.Add([]byte("name = \"x\"\n[schedules.s]\ntype=\"cron\"\ncron=\"*/5 1-3 * jan-mar mon\"\n"), []byte("[[agents]]\npath=\"a.toml\"\n[agents.overrides.docker.env]\nK=\"${V:-d}\"\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, agent, fleet []byte) {
		os.WriteFile(filepath.Join(dir, "a.toml"), agent, 0o600)
		os.WriteFile(filepath.Join(dir, "herdctl.toml"), fleet, 0o600)
		Load(filepath.Join(dir, "herdctl.toml"), LoadOptions{Getenv: func(string) (string, bool) { return "", false }})
	})
}

// FuzzParseCron checks the cron parser never panics and that what it
// accepts stays in range.
func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"* * * * *", "*/15 9-17 1,15 jan-jun mon-fri", "@daily", "0 0 * * 7", "5/10 * * * *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCron(s)
		if err != nil {
			return
		}
		for _, v := range c.Dow {
			if v < 0 || v > 6 {
				t.Fatalf("%q: day of week %d", s, v)
			}
		}
		if len(c.Minute) == 0 || len(c.Hour) == 0 || len(c.Dom) == 0 || len(c.Month) == 0 || len(c.Dow) == 0 {
			t.Fatalf("%q: an empty field was accepted", s)
		}
	})
}

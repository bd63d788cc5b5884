package config

import (
	"os"
	"path/filepath"
	"slices"
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

// FuzzCronStandard checks that a cron's standard form, when it has one,
// parses back to an expression that fires at exactly the same times: the
// same minutes, hours and months, and the same days under cron's rule for
// the two day fields.
func FuzzCronStandard(f *testing.F) {
	for _, s := range []string{"* * * * *", "*/15 9-17 1,15 jan-jun mon-fri", "@weekly", "0 0 */2 * *", "0 0 */2 * mon", "0 8 1 * sun", "0 0 1-31 * mon", "0 0 1 * 0-6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCron(s)
		if err != nil {
			return
		}
		std, ok := c.Standard()
		if !ok {
			return
		}
		back, err := ParseCron(std)
		if err != nil {
			t.Fatalf("%q: its standard form %q does not parse: %v", s, std, err)
		}
		if !slices.Equal(c.Minute, back.Minute) || !slices.Equal(c.Hour, back.Hour) || !slices.Equal(c.Month, back.Month) {
			t.Fatalf("%q and %q differ in minutes, hours or months", s, std)
		}
		for dom := 1; dom <= 31; dom++ {
			for dow := 0; dow < 7; dow++ {
				if dayMatches(c, dom, dow) != dayMatches(back, dom, dow) {
					t.Fatalf("%q and %q differ on day %d, weekday %d", s, std, dom, dow)
				}
			}
		}
	})
}

// dayMatches is cron's rule: both day fields must match, unless neither
// begins with "*", when either may.
func dayMatches(c *Cron, dom, dow int) bool {
	d, w := slices.Contains(c.Dom, dom), slices.Contains(c.Dow, dow)
	if !c.DomStar && !c.DowStar {
		return d || w
	}
	return d && w
}

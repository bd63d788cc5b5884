package importer

import (
	"os"
	"path/filepath"
	"testing"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/herdctl/herdctl/config"
)

// FuzzReadYAML: any bytes as an agent file either fail with an error at
// the file, or map to an agent file and overrides that are valid TOML
// and decode into config's types; never a panic, never a hang.
func FuzzReadYAML(f *testing.F) {
	for _, ex := range examples {
		matches, _ := filepath.Glob(filepath.Join("testdata", "original", ex, "*", "*.yaml"))
		for _, m := range matches {
			if b, err := os.ReadFile(m); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("a: &a [1]\nb: [*a, *a]\n<<: {name: x}\n"))
	f.Add([]byte("name: a\nsystem_prompt: \"\\\"\\\"\\\"x\\\\\\u0001\"\nschedules: {s: {type: cron, cron: '* * * * *'}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseYAML("agent.yaml", data)
		if err != nil {
			if _, ok := err.(config.Errors); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if v.kind != kindMap {
			return
		}
		res := &Result{}
		m := &mapper{name: "a", file: &config.Agent{Name: "a"}, over: &config.Agent{}, res: res, agentDir: "/srv/x"}
		m.mapAgent(v)
		for _, a := range []*config.Agent{m.file, m.over} {
			text := encodeTOML(*a)
			var back config.Agent
			if err := toml.Unmarshal([]byte(text), &back); err != nil {
				t.Fatalf("the TOML written does not parse: %v\n%s", err, text)
			}
			if back.SystemPrompt != a.SystemPrompt || back.Description != a.Description {
				t.Fatalf("a string changed on its way through TOML: %q → %q", a.SystemPrompt, back.SystemPrompt)
			}
		}
	})
}

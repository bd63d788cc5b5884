package claudecli

import (
	"slices"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/policy"
)

// ours are the options herdctl itself puts on claude's command line; every
// other word before "--" must be one of these with its value joined by "=".
var ours = []string{"-p", "--output-format", "--verbose", "--permission-mode", "--model", "--max-turns",
	"--allowedTools", "--disallowedTools", "--append-system-prompt", "--mcp-config", "--resume"}

// checkArgv fails when any word of argv before "--" is not one of ours, or
// when the prompt is not the one word after "--".
func checkArgv(t *testing.T, name string, argv []string, prompt string) {
	t.Helper()
	dd := slices.Index(argv, "--")
	if dd < 0 || dd != len(argv)-2 || argv[dd+1] != prompt {
		t.Errorf("%s: the prompt is not the one word after --: %q", name, argv)
		return
	}
	for _, w := range argv[1:dd] {
		opt, _, _ := strings.Cut(w, "=")
		if !slices.Contains(ours, opt) {
			t.Errorf("%s: %q reaches claude as an option of its own: %q", name, w, argv)
		}
	}
}

func TestClaudeArgsFieldByField(t *testing.T) {
	const evil = "--dangerously-skip-permissions"
	base := func() *policy.Agent {
		return &policy.Agent{Name: "a", Claude: policy.Claude{PermissionMode: "plan"}}
	}
	cases := []struct {
		name   string
		set    func(a *policy.Agent)
		want   string // a word argv must hold
		prompt string
		resume string
	}{
		{"permission mode", func(a *policy.Agent) {}, "--permission-mode=plan", "p", ""},
		{"model", func(a *policy.Agent) { a.Claude.Model = evil }, "--model=" + evil, "p", ""},
		{"max turns", func(a *policy.Agent) { a.Claude.MaxTurns = 7 }, "--max-turns=7", "p", ""},
		{"allowed tool", func(a *policy.Agent) {
			a.Claude.AllowedTools = []string{"Read", evil, "--permission-mode=bypassPermissions"}
		},
			"--allowedTools=--permission-mode=bypassPermissions", "p", ""},
		{"denied tool", func(a *policy.Agent) { a.Claude.DeniedTools = []string{"Bash", evil} }, "--disallowedTools=" + evil, "p", ""},
		{"tool with a specifier", func(a *policy.Agent) { a.Claude.AllowedTools = []string{"Bash(git log:*)"} }, "--allowedTools=Bash(git log:*)", "p", ""},
		{"system prompt", func(a *policy.Agent) { a.Claude.SystemPrompt = evil + "\n--verbose" }, "--append-system-prompt=" + evil + "\n--verbose", "p", ""},
		{"mcp config", func(a *policy.Agent) { a.Claude.MCPConfig = `{"mcpServers":{}}` }, `--mcp-config={"mcpServers":{}}`, "p", ""},
		{"prompt that looks like an option", func(a *policy.Agent) {}, "--", evil, ""},
		{"resume", func(a *policy.Agent) {}, "--resume=0b9d9c5e-3f3c-4a5e-9a51-2c1d1e0f7a11", "p", "0b9d9c5e-3f3c-4a5e-9a51-2c1d1e0f7a11"},
	}
	for _, c := range cases {
		a := base()
		c.set(a)
		argv := Args(a, Job{Prompt: c.prompt, Resume: c.resume})
		if !slices.Contains(argv, c.want) {
			t.Errorf("%s: argv lacks %q: %q", c.name, c.want, argv)
		}
		checkArgv(t, c.name, argv, c.prompt)
		if argv[0] != Binary {
			t.Errorf("%s: argv[0] = %q", c.name, argv[0])
		}
	}
}

func TestClaudeArgsDropsBadSessionIDs(t *testing.T) {
	a := &policy.Agent{Name: "a", Claude: policy.Claude{PermissionMode: "default"}}
	for _, bad := range []string{"--dangerously-skip-permissions", "../../x", "0B9D9C5E-3F3C-4A5E-9A51-2C1D1E0F7A11", "x", "0b9d9c5e-3f3c-4a5e-9a51-2c1d1e0f7a11 --verbose"} {
		for _, w := range Args(a, Job{Prompt: "p", Resume: bad}) {
			if strings.HasPrefix(w, "--resume") {
				t.Errorf("resume %q reached argv as %q", bad, w)
			}
		}
	}
}

func TestWithResume(t *testing.T) {
	a := &policy.Agent{Name: "a", Claude: policy.Claude{PermissionMode: "default"}}
	const id = "0b9d9c5e-3f3c-4a5e-9a51-2c1d1e0f7a11"
	// A prompt of "--" must not be taken for the end of the options.
	got := WithResume(Args(a, Job{Prompt: "--"}), id)
	want := Args(a, Job{Prompt: "--", Resume: id})
	if !slices.Equal(got, want) {
		t.Errorf("WithResume = %q, want %q", got, want)
	}
	plain := Args(a, Job{Prompt: "p"})
	for _, bad := range []string{"", "--verbose", "../x"} {
		if got := WithResume(plain, bad); !slices.Equal(got, plain) {
			t.Errorf("resume %q changed argv: %q", bad, got)
		}
	}
}

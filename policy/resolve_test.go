package policy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/herdctl/herdctl/config"
)

type fakeHost struct{ owner uint32 }

func (h fakeHost) Owner(string) (uint32, uint32, error) { return h.owner, h.owner, nil }
func (fakeHost) RealPath(p string) (string, error)      { return p, nil }
func (fakeHost) HomeDirs() []string                     { return []string{"/home/alice"} }
func (fakeHost) LookPath(string) (string, error)        { return "/usr/bin/claude", nil }

// loadExamples resolves the example fleet as the daemon would.
func loadExamples(t *testing.T) []*Agent {
	t.Helper()
	_, agents, err := Load("../examples/herdctl.toml", config.LoadOptions{Getenv: noEnv}, Options{Host: fakeHost{owner: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	return agents
}

func TestResolveExamples(t *testing.T) {
	for _, a := range loadExamples(t) {
		t.Logf("%+v", a)
	}
}

// TestCredentialsFromEnvFile: the env file's credentials reach the
// container, sealed: the resolved agent (its snapshot) names them, and
// only the env file, loaded as the job's credential, holds their values.
func TestCredentialsFromEnvFile(t *testing.T) {
	a := loadExamples(t)[0]
	if v, ok := a.Container.Env["ANTHROPIC_API_KEY"]; ok {
		t.Errorf("the key is in the snapshot's plain environment: %q", v)
	}
	if got := a.Container.SecretEnv["ANTHROPIC_API_KEY"]; got != "${ANTHROPIC_API_KEY}" {
		t.Errorf("ANTHROPIC_API_KEY's template = %q", got)
	}
	if a.Container.EnvFile == "" {
		t.Error("no env file to load as the job's credential")
	}
	env, err := a.Container.OpenSecrets(map[string]string{"ANTHROPIC_API_KEY": "sk-ant-example-not-a-real-key"})
	if err != nil || env["ANTHROPIC_API_KEY"] != "sk-ant-example-not-a-real-key" {
		t.Errorf("opened: %v, %v", env, err)
	}
}

// TestPackagedFleet: the fleet the packages install as
// /etc/herdctl/herdctl.toml loads, with its workspace owned by the
// herdctl-agent system user.
func TestPackagedFleet(t *testing.T) {
	_, agents, err := Load("../packaging/etc/herdctl.toml", config.LoadOptions{Getenv: noEnv}, Options{Host: fakeHost{owner: 998}})
	if err != nil {
		t.Fatal(err)
	}
	if len(agents) != 1 || agents[0].Workspace != "/var/lib/herdctl/workspaces/gardener" || agents[0].Container.UID != 998 {
		t.Fatalf("packaged fleet: %+v", agents)
	}
}

// TestMCPConfig: an MCP server's headers, timeout and always_load reach
// Claude Code's --mcp-config under the names Claude Code reads.
func TestMCPConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile("herdctl.toml", "[[agents]]\npath = \"a/agent.toml\"\n")
	writeFile("a/agent.toml", "name = \"a\"\n[mcp_servers.api]\ntype = \"http\"\nurl = \"https://mcp.example.org/\"\n"+
		"headers = { Authorization = \"Bearer ${API_TOKEN}\" }\ntimeout = 30000\nalways_load = true\n")
	_, agents, err := Load(filepath.Join(dir, "herdctl.toml"), config.LoadOptions{Getenv: noEnv}, Options{Host: fakeHost{owner: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"mcpServers":{"api":{"type":"http","url":"https://mcp.example.org/","headers":{"Authorization":"Bearer ${API_TOKEN}"},"timeout":30000,"alwaysLoad":true}}}`
	if got := agents[0].Claude.MCPConfig; got != want {
		t.Errorf("--mcp-config\n got %s\nwant %s", got, want)
	}
}

// TestFleetOnly: the tier table as the importer asks it.
func TestFleetOnly(t *testing.T) {
	for path, want := range map[string]bool{"docker.image": true, "docker.network": true, "docker.env": true, "docker.memory": false,
		"docker.egress": false, "chat.discord.bot_token": true, "hooks.after_run": true, "command": true, "model": false,
		"schedules.x.prompt": false, "mcp_servers.api": false, "docker": false} {
		if got := FleetOnly(path); got != want {
			t.Errorf("FleetOnly(%q) = %v, want %v", path, got, want)
		}
	}
	if c, ok := BuiltinCeiling("docker.memory"); !ok || c != CeilingMemory {
		t.Errorf("BuiltinCeiling(docker.memory) = %d, %v", c, ok)
	}
}

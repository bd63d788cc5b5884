package policy

import (
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

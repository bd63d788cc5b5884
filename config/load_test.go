package config

import (
	"testing"
)

func TestLoadExamples(t *testing.T) {
	f, err := Load("../examples/herdctl.toml", LoadOptions{Getenv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Agents) != 3 {
		t.Fatalf("agents = %d", len(f.Agents))
	}
	for _, a := range f.Agents {
		t.Logf("%s: %+v", a.Name, a.Agent)
		t.Logf("  docker.memory at %v; model at %v; network at %v", a.Where("docker.memory"), a.Where("model"), a.Where("docker.network"))
	}
}

package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/config"
)

// TestPreflight: each finding is reported once, names its file and what
// to do; a sound fleet has none but the host's own.
func TestPreflight(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the files must be root's")
	}
	dir := t.TempDir()
	fleetFile := filepath.Join(dir, "herdctl.toml")
	envFile := filepath.Join(dir, "herdctl.env")
	os.WriteFile(fleetFile, nil, 0o666)
	os.Chmod(fleetFile, 0o666)
	os.WriteFile(envFile, nil, 0o644)
	f := &config.Fleet{File: fleetFile, EnvFile: envFile}
	claude := func(name, network string, env map[string]string) *Agent {
		return &Agent{Name: name, File: filepath.Join(dir, name+".toml"), Claude: Claude{Path: filepath.Join(dir, "no-claude")},
			Container: Container{Network: network, Env: env}}
	}
	agents := []*Agent{
		claude("nokey", NetworkEgress, nil),
		claude("offline", NetworkNone, map[string]string{"ANTHROPIC_API_KEY": "k"}),
		claude("wide", NetworkHost, map[string]string{"CLAUDE_CODE_OAUTH_TOKEN": "t"}),
		{Name: "script", Command: []string{"/bin/true"}, Container: Container{Network: NetworkNone}},
	}
	var got []string
	for _, e := range Preflight(f, agents, Options{}) {
		got = append(got, e.Error())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"claude at " + filepath.Join(dir, "no-claude") + " cannot be found",
		"agent nokey has no credentials",
		`agent offline runs Claude Code with network = "none"`,
		`agent wide has network = "host"`,
		"the fleet file is mode 0666 (chmod go-w " + fleetFile + ")",
		"the env file is mode 0644 (chmod 0600 " + envFile + ")",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
	if n := strings.Count(all, "no-claude"); n != 1 {
		t.Errorf("the missing claude reported %d times, want once:\n%s", n, all)
	}
	if strings.Contains(all, "agent script") {
		t.Errorf("an agent with its own command needs no claude nor credentials:\n%s", all)
	}

	os.Chmod(fleetFile, 0o644)
	os.Chmod(envFile, 0o600)
	exe := filepath.Join(dir, "claude")
	os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	a := claude("ok", NetworkEgress, map[string]string{"ANTHROPIC_API_KEY": "k"})
	a.Claude.Path = exe
	for _, e := range Preflight(f, []*Agent{a}, Options{}) {
		if !strings.Contains(e.Error(), "protected_hardlinks") {
			t.Errorf("sound fleet: %v", e)
		}
	}
}

// TestPreflightPrivateTmp: the daemon (PrivateTmp=) does not call a claude
// under /var/tmp missing, which jobs, seeing the host's /var/tmp, run; it
// says it could not look and why. herdctlctl validate, on the host, looks.
func TestPreflightPrivateTmp(t *testing.T) {
	f := &config.Fleet{File: "/etc/herdctl/herdctl.toml", EnvFile: "/etc/herdctl/herdctl.env"}
	a := &Agent{Name: "a", Claude: Claude{Path: "/var/tmp/herdctl-test-absent/claude"},
		Container: Container{Network: NetworkEgress, Env: map[string]string{"ANTHROPIC_API_KEY": "k"}}}
	daemon := Preflight(f, []*Agent{a}, Options{PrivateTmp: true}).Error()
	if strings.Contains(daemon, "cannot be found") || !strings.Contains(daemon, "was not checked: it is under /var/tmp, which herdctl.service does not see") {
		t.Errorf("from the daemon:\n%s", daemon)
	}
	host := Preflight(f, []*Agent{a}, Options{}).Error()
	if !strings.Contains(host, "/var/tmp/herdctl-test-absent/claude cannot be found") {
		t.Errorf("from the host:\n%s", host)
	}
}

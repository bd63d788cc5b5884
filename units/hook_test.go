package units

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func exampleHooks(self string) []HookService {
	job := "20261130-020031-4fa9c2"
	return []HookService{
		{Name: HookUnitName(job, "on_error", 0), Description: "herdctl hook on_error[0] after job " + job + " of gardener",
			Agent: "gardener", Job: job, Hook: "on_error[0]", Webhook: true, ExecStart: []string{self, "hook", "webhook"},
			Stdin: "/run/herdctl/hooks/herdctl-hook-" + job + "-on_error-0.json", Stdout: "/run/herdctl/hooks/herdctl-hook-" + job + "-on_error-0.result",
			Credential: "/run/herdctl/hooks/herdctl-hook-" + job + "-on_error-0.webhook", CredentialName: "webhook", Timeout: 57 * time.Second},
		{Name: HookUnitName(job, "after_run", 1), Description: "herdctl hook after_run[1] after job " + job + " of gardener",
			Agent: "gardener", Job: job, Hook: "after_run[1]", ExecStart: []string{"/usr/local/bin/notify", "--channel", "ops"},
			Stdin: "/run/herdctl/hooks/herdctl-hook-" + job + "-after_run-1.json", Timeout: time.Minute},
	}
}

func TestHookGolden(t *testing.T) {
	for _, h := range exampleHooks("/usr/sbin/herdctl") {
		got := RenderHookService(h)
		p := filepath.Join("testdata", "hooks", h.Name)
		if *update {
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(got), 0o644)
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test ./units -update)", err)
		}
		if string(want) != got {
			t.Errorf("%s differs from its golden file:\n--- want\n%s\n--- got\n%s", h.Name, want, got)
		}
	}
}

// TestHookUnitsVerify checks the hook units with systemd-analyze verify.
func TestHookUnitsVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (apt-get install systemd)")
	}
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog")
	os.WriteFile(prog, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	var paths []string
	for _, h := range exampleHooks(prog) {
		h.ExecStart[0] = prog
		p := filepath.Join(dir, h.Name)
		os.WriteFile(p, []byte(RenderHookService(h)), 0o644)
		paths = append(paths, p)
	}
	cmd := exec.Command("systemd-analyze", append([]string{"verify", "--man=no"}, paths...)...)
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
	out, err := cmd.CombinedOutput()
	// The hook user need not exist on the machine that runs the tests.
	var rest []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" && !strings.Contains(l, HookUser) {
			rest = append(rest, l)
		}
	}
	if len(rest) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestHookPropertiesMatchTheFile: every directive of the file is a
// property of the transient unit, and nothing of the job is in either.
func TestHookPropertiesMatchTheFile(t *testing.T) {
	for _, h := range exampleHooks("/usr/sbin/herdctl") {
		names := map[string]bool{}
		for _, p := range HookProperties(h) {
			names[p.Name] = true
		}
		for _, want := range []string{"Type", "ExecStart", "TimeoutStartUSec", "StandardInputFile", "StandardError", "LogExtraFields",
			"NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "RestrictAddressFamilies",
			"MemoryMax", "TasksMax", "CapabilityBoundingSet", "SystemCallFilter", "InaccessiblePaths"} {
			if !names[want] {
				t.Errorf("%s: no %s property", h.Name, want)
			}
		}
		if h.Webhook != (names["DynamicUser"] && names["LoadCredential"] && names["StandardOutputFile"]) {
			t.Errorf("%s: a webhook runs as a dynamic user with its credential and its result file, a shell hook not", h.Name)
		}
		if !h.Webhook && (!names["User"] || !names["PrivateNetwork"]) {
			t.Errorf("%s: a shell hook runs as %s without a network by default", h.Name, HookUser)
		}
	}
}

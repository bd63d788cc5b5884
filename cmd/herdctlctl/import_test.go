package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const importExamples = "../../importer/testdata/original"

// TestImport: herdctlctl import as an operator runs it: --dry-run prints
// the files and writes nothing, a run writes them and lists what was not
// mapped per agent on stderr, a second run refuses without --force, and
// the fleet it wrote is one validate accepts as far as this host allows
// (a TOML error or a tier error would fail it).
func TestImport(t *testing.T) {
	fleet := filepath.Join(importExamples, "price-checker", "herdctl.yaml")
	out := filepath.Join(t.TempDir(), "fleet")

	stdout, stderr, code, msg := run("import", fleet, "--dry-run")
	if code != 0 || !strings.Contains(stdout, "# ==> herdctl.toml <==") || !strings.Contains(stdout, "[schedules.check]") {
		t.Fatalf("--dry-run: exit %d %s\n%s", code, msg, stdout)
	}
	if !strings.Contains(stderr, "agent price-checker:\n  ") || !strings.Contains(stderr, "hooks.after_run[1].when: not mapped") {
		t.Errorf("--dry-run: stderr lacks the notes per agent:\n%s", stderr)
	}

	if _, _, code, msg := run("import", fleet); code != 2 || !strings.Contains(msg, "--out DIR") {
		t.Errorf("without --out: exit %d %q", code, msg)
	}
	if _, _, code, msg := run("import", fleet, "--out", out, "--user", "no-such-user-here"); code != 2 || !strings.Contains(msg, "no such user") {
		t.Errorf("unknown --user: exit %d %q", code, msg)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a refused run wrote the output directory")
	}

	_, stderr, code, msg = run("import", fleet, "--out", out, "--user", "1000:1000")
	if code != 0 || !strings.Contains(stderr, "wrote "+filepath.Join(out, "herdctl.toml")+" and 1 agents") {
		t.Fatalf("import: exit %d %s\n%s", code, msg, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "agents", "price-checker", "agent.toml")); err != nil {
		t.Fatal(err)
	}
	if _, _, code, msg := run("import", fleet, "--out", out); code != 2 || !strings.Contains(msg, "--force") {
		t.Errorf("second run: exit %d %q, want a refusal naming --force", code, msg)
	}
	if _, _, code, msg := run("import", fleet, "--out", out, "--force", "--user", "1000:1000"); code != 0 {
		t.Errorf("--force: exit %d %q", code, msg)
	}

	stdout, _, code, _ = run("import", fleet, "--dry-run", "--json")
	var rep importReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 || len(rep.Agents) != 1 || len(rep.Files) != 2 || rep.Files[1].Content == "" || len(rep.Notes) == 0 {
		t.Errorf("--json: %v %+v", err, rep)
	}
}

// TestImportError: an error in the YAML exits 2, naming file:line.
func TestImportError(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "herdctl.yaml")
	os.WriteFile(p, []byte("agents:\n  - path: a.yaml\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("name: a\nmax_turns: [1]\n"), 0o644)
	_, stderr, code, _ := run("import", p, "--dry-run")
	if code != 2 || !strings.Contains(stderr, filepath.Join(dir, "a.yaml")+":2:12: max_turns: must be a whole number") {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
}

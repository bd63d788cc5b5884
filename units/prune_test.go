package units

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/state"
)

// TestTranscriptPruneGolden: the transcripts' prune unit as a file, and
// systemd-analyze verify finds nothing wrong with it. Its properties are
// the same directives.
func TestTranscriptPruneGolden(t *testing.T) {
	argv := []string{"/usr/sbin/herdctl", "prune-transcripts", "--before=2026-09-01T00:00:00Z", "--keep=/run/herdctl/prune/keep", "--out=/run/herdctl/prune/result.json"}
	got := RenderTranscriptPruneService(argv, state.Default())
	p := filepath.Join("testdata", "prune", TranscriptPruneUnit)
	if *update {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(got), 0o644)
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./units -update)", err)
	}
	if string(want) != got {
		t.Errorf("differs from its golden file:\n--- want\n%s\n--- got\n%s", want, got)
	}
	if n, want := len(TranscriptPruneProperties(argv, state.Default())), len(transcriptPruneDirectives(argv, state.Default())); n != want {
		t.Errorf("%d properties for %d directives", n, want)
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (apt-get install systemd)")
	}
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog")
	os.WriteFile(prog, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	argv[0] = prog
	unit := filepath.Join(dir, TranscriptPruneUnit)
	os.WriteFile(unit, []byte(RenderTranscriptPruneService(argv, state.Default())), 0o644)
	cmd := exec.Command("systemd-analyze", "verify", "--man=no", unit)
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
	if out, err := cmd.CombinedOutput(); err != nil || strings.Contains(string(out), TranscriptPruneUnit) {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

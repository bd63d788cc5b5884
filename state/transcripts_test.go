package state

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPruneSessionDirs: an old session's directory (its subagents'
// transcripts) goes with it; a kept session's stays, as does one with
// anything written since the cutoff; a link in one loses only its name.
func TestPruneSessionDirs(t *testing.T) {
	dir := t.TempDir()
	projects := filepath.Join(dir, ".claude", "projects")
	old := time.Now().Add(-400 * 24 * time.Hour)
	cutoff := time.Now().Add(-90 * 24 * time.Hour)
	const (
		gone  = "00000000-0000-4000-8000-00000000000a"
		kept  = "00000000-0000-4000-8000-00000000000b"
		fresh = "00000000-0000-4000-8000-00000000000c"
	)
	outside := filepath.Join(dir, "outside.txt")
	write := func(p string, when time.Time) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, when, when)
	}
	write(outside, old)
	for _, s := range []string{gone, kept, fresh} {
		write(filepath.Join(projects, "p", s+".jsonl"), old)
		write(filepath.Join(projects, "p", s, "subagents", "agent-1.jsonl"), old)
	}
	write(filepath.Join(projects, "p", fresh, "subagents", "agent-2.jsonl"), time.Now())
	link := filepath.Join(projects, "p", gone, "subagents", "link")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	ts := []unix.Timespec{unix.NsecToTimespec(old.UnixNano()), unix.NsecToTimespec(old.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, link, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{gone, kept, fresh} {
		for _, d := range []string{filepath.Join(projects, "p", s, "subagents"), filepath.Join(projects, "p", s)} {
			os.Chtimes(d, old, old)
		}
	}
	dry := PruneTranscripts(projects, cutoff, map[string]bool{kept: true}, true)
	if _, err := os.Stat(filepath.Join(projects, "p", gone)); err != nil || len(dry.Removed) != 3 {
		t.Fatalf("dry run: %v %+v", err, dry)
	}
	res := PruneTranscripts(projects, cutoff, map[string]bool{kept: true}, false)
	// gone's transcript and directory, and fresh's transcript (its
	// directory has a file written since).
	if len(res.Removed) != 3 || len(res.Errors) != 0 {
		t.Errorf("removed %+v", res)
	}
	if _, err := os.Lstat(filepath.Join(projects, "p", gone)); !os.IsNotExist(err) {
		t.Errorf("the old session's directory is still there: %v", err)
	}
	for _, p := range []string{outside, filepath.Join(projects, "p", kept, "subagents", "agent-1.jsonl"), filepath.Join(projects, "p", fresh, "subagents", "agent-2.jsonl")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

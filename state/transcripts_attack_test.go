package state

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPruneTranscriptsAttacks (the red team's prune attempts, all held):
// what an agent's uid can leave in ~/.claude/projects at any moment. A
// named pipe with a transcript's name is not opened (no hang) nor
// removed; a hard link to a file elsewhere loses only its own name; a
// project directory exchanged with a link to a directory elsewhere, in
// a loop while prunes run, never makes one remove a file there.
func TestPruneTranscriptsAttacks(t *testing.T) {
	dir := t.TempDir()
	projects := filepath.Join(dir, "home", ".claude", "projects")
	outside := filepath.Join(dir, "outside")
	for _, d := range []string{filepath.Join(projects, "p"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-400 * 24 * time.Hour)
	const victim = "00000000-0000-4000-8000-000000000001.jsonl"
	touch := func(p string) {
		t.Helper()
		if err := os.WriteFile(p, []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
	}
	touch(filepath.Join(outside, victim))
	// The home is the agent's (uid 1000), as are the links it makes:
	// safepath follows a link only of root's in a directory of root's.
	const agent = 1000
	own := func() {
		t.Helper()
		filepath.Walk(filepath.Join(dir, "home"), func(p string, _ os.FileInfo, err error) error {
			if err == nil {
				err = os.Lchown(p, agent, agent)
			}
			return err
		})
	}
	// A fifo and a hard link, with transcripts' names.
	fifo := filepath.Join(projects, "p", "00000000-0000-4000-8000-000000000002.jsonl")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(fifo, old, old)
	if err := os.Link(filepath.Join(outside, victim), filepath.Join(projects, "p", "00000000-0000-4000-8000-000000000003.jsonl")); err != nil {
		t.Fatal(err)
	}
	own()
	done := make(chan struct{})
	go func() {
		PruneTranscripts(projects, time.Now(), map[string]bool{}, false)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("prune hangs on a named pipe")
	}
	if _, err := os.Lstat(fifo); err != nil {
		t.Errorf("the fifo: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, victim)); err != nil {
		t.Fatalf("the file a hard link named is gone: %v", err)
	}

	// Exchange p (a real directory) and q (a link to outside) while
	// prunes run.
	if err := os.Symlink(outside, filepath.Join(projects, "q")); err != nil {
		t.Fatal(err)
	}
	own()
	var stop atomic.Bool
	swapped := make(chan int)
	go func() {
		n := 0
		for !stop.Load() {
			if unix.Renameat2(unix.AT_FDCWD, filepath.Join(projects, "p"), unix.AT_FDCWD, filepath.Join(projects, "q"), unix.RENAME_EXCHANGE) == nil {
				n++
			}
		}
		swapped <- n
	}()
	for i := 0; i < 300; i++ {
		touch(filepath.Join(outside, victim))
		PruneTranscripts(projects, time.Now(), map[string]bool{}, false)
		if _, err := os.Stat(filepath.Join(outside, victim)); err != nil {
			stop.Store(true)
			<-swapped
			t.Fatalf("prune %d removed a file outside the agent's projects: %v", i, err)
		}
	}
	stop.Store(true)
	if n := <-swapped; n == 0 {
		t.Fatal("no exchange happened")
	}
}

package state

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func mkfifo(p string) error { return syscall.Mkfifo(p, 0o600) }

func TestJobIDs(t *testing.T) {
	id := NewJobID(time.Date(2026, 11, 30, 2, 0, 31, 0, time.UTC))
	if !strings.HasPrefix(id, "20261130-020031-") || !IsJobID(id) {
		t.Errorf("NewJobID = %q", id)
	}
	for _, bad := range []string{"", "x", "../../etc/passwd", "20261130-020031-ABCDEF", "20261130-020031-abcdef.json", "-20261130-020031-abcdef"} {
		if IsJobID(bad) {
			t.Errorf("IsJobID(%q) = true", bad)
		}
	}
	for i := 1; i <= len(id); i++ {
		if !IsJobIDPrefix(id[:i]) {
			t.Errorf("IsJobIDPrefix(%q) = false", id[:i])
		}
	}
	for _, bad := range []string{"", "gardener", "-2026", "20261130-020031-abcdef0", "20261130-020031-ABC", "20261130-0200311"} {
		if IsJobIDPrefix(bad) {
			t.Errorf("IsJobIDPrefix(%q) = true", bad)
		}
	}
}

func TestRecordsAndPrompts(t *testing.T) {
	l := Layout{StateDir: t.TempDir(), RuntimeDir: t.TempDir()}
	r := Records{Layout: l}
	id := NewJobID(time.Now())
	if err := r.Write(&Job{ID: id, Agent: "a", Status: StatusQueued, Prompt: "secret"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Write(&Job{ID: "../x"}); err == nil {
		t.Error("a record with a path for an id was written")
	}
	fi, _ := os.Stat(l.JobRecord(id))
	if fi.Mode().Perm() != RecordMode {
		t.Errorf("record mode %v", fi.Mode().Perm())
	}
	os.WriteFile(l.JobsDir()+"/.tmp.json", []byte("{}"), 0o600)
	os.WriteFile(l.JobsDir()+"/junk.json", []byte("{}"), 0o600)
	if ids, err := r.IDs(); err != nil || len(ids) != 1 || ids[0] != id {
		t.Errorf("IDs = %v %v", ids, err)
	}
	if err := l.WritePrompt(id, "do it"); err != nil {
		t.Fatal(err)
	}
	if p, ok, err := l.TakePrompt(id); p != "do it" || !ok || err != nil {
		t.Errorf("TakePrompt = %q %v %v", p, ok, err)
	}
	if _, ok, err := l.TakePrompt(id); ok || err != nil {
		t.Errorf("a prompt is taken once: %v %v", ok, err)
	}
}

// TestDiskFull: a full disk says where and what to do; other errors are
// left as they are.
func TestDiskFull(t *testing.T) {
	err := diskFull(&os.PathError{Op: "write", Path: "/var/lib/herdctl/jobs/.x", Err: syscall.ENOSPC}, "/var/lib/herdctl")
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "the filesystem of /var/lib/herdctl is full; free space there (herdctlctl prune") {
		t.Errorf("full: %v", err)
	}
	if other := os.ErrPermission; diskFull(other, "/x") != other {
		t.Error("another error was changed")
	}
}

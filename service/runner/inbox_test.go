package runner

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/herdctl/herdctl/policy"
)

const agentUID = 4242

// inboxRig is a stage of the bridge's and an agent's workspace (owned by
// agentUID), as the runner finds them.
func inboxRig(t *testing.T, files map[string]string) (stage, ws string, a *policy.Agent) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root: the runner copies attachments as root into another user's workspace")
	}
	dir := t.TempDir()
	stage, ws = filepath.Join(dir, "stage"), filepath.Join(dir, "ws")
	os.Mkdir(stage, 0o700)
	os.Mkdir(ws, 0o755)
	os.Chown(ws, agentUID, agentUID)
	for n, c := range files {
		os.WriteFile(filepath.Join(stage, n), []byte(c), 0o600)
	}
	a = &policy.Agent{Name: "a"}
	a.Container.UID, a.Container.GID, a.Container.DiskBytes, a.Container.Inodes = agentUID, agentUID, 1<<20, 1000
	return stage, ws, a
}

func owner(t *testing.T, p string) uint32 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Uid
}

// TestCopyInbox: the staged files land in inbox/, the agent's, replacing
// what the agent had under their names.
func TestCopyInbox(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o077))
	stage, ws, a := inboxRig(t, map[string]string{"notes.txt": "hello", "data.csv": "1,2"})
	os.Mkdir(filepath.Join(ws, "inbox"), 0o755)
	os.Chown(filepath.Join(ws, "inbox"), agentUID, agentUID)
	os.WriteFile(filepath.Join(ws, "inbox", "notes.txt"), []byte("old"), 0o644)
	if err := copyInbox(stage, ws, a, []string{ws}); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[string]string{"notes.txt": "hello", "data.csv": "1,2"} {
		p := filepath.Join(ws, "inbox", n)
		fi, _ := os.Stat(p)
		if b, _ := os.ReadFile(p); string(b) != want || owner(t, p) != agentUID || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %q, owner %d, mode %v", n, b, owner(t, p), fi.Mode())
		}
	}
	// A fresh workspace gets an inbox of the agent's.
	stage, ws, a = inboxRig(t, map[string]string{"a.txt": "x"})
	if err := copyInbox(stage, ws, a, []string{ws}); err != nil || owner(t, filepath.Join(ws, "inbox")) != agentUID {
		t.Errorf("fresh inbox: %v", err)
	}
}

// TestCopyInboxAttacks: what an agent (its workspace) or a stage can hold
// to make root write elsewhere, or more, is refused.
func TestCopyInboxAttacks(t *testing.T) {
	t.Run("inbox is a link to a directory elsewhere", func(t *testing.T) {
		stage, ws, a := inboxRig(t, map[string]string{"passwd": "pwned"})
		target := t.TempDir()
		os.Symlink(target, filepath.Join(ws, "inbox"))
		if err := copyInbox(stage, ws, a, []string{ws}); err == nil {
			t.Error("accepted")
		}
		if _, err := os.Stat(filepath.Join(target, "passwd")); err == nil {
			t.Error("written through the link")
		}
	})
	t.Run("a file in inbox is a link elsewhere", func(t *testing.T) {
		stage, ws, a := inboxRig(t, map[string]string{"x.txt": "pwned"})
		victim := filepath.Join(t.TempDir(), "victim")
		os.WriteFile(victim, []byte("safe"), 0o644)
		os.Mkdir(filepath.Join(ws, "inbox"), 0o755)
		os.Chown(filepath.Join(ws, "inbox"), agentUID, agentUID)
		os.Symlink(victim, filepath.Join(ws, "inbox", "x.txt"))
		if err := copyInbox(stage, ws, a, []string{ws}); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(victim); string(b) != "safe" {
			t.Errorf("the link was followed: %q", b)
		}
		if fi, _ := os.Lstat(filepath.Join(ws, "inbox", "x.txt")); fi == nil || !fi.Mode().IsRegular() {
			t.Error("the link was not replaced by the file")
		}
	})
	t.Run("inbox is someone else's directory", func(t *testing.T) {
		stage, ws, a := inboxRig(t, map[string]string{"x.txt": "x"})
		os.Mkdir(filepath.Join(ws, "inbox"), 0o755) // root's
		if err := copyInbox(stage, ws, a, []string{ws}); err == nil || !strings.Contains(err.Error(), "belongs to uid 0") {
			t.Errorf("copy: %v", err)
		}
	})
	t.Run("over the disk limit", func(t *testing.T) {
		stage, ws, a := inboxRig(t, map[string]string{"big.bin": strings.Repeat("x", 600<<10)})
		os.WriteFile(filepath.Join(ws, "mine"), []byte(strings.Repeat("y", 600<<10)), 0o644)
		if err := copyInbox(stage, ws, a, []string{ws}); err == nil || !strings.Contains(err.Error(), "disk limit") {
			t.Errorf("copy: %v", err)
		}
		if _, err := os.Stat(filepath.Join(ws, "inbox")); err == nil {
			t.Error("something was copied")
		}
	})
	t.Run("a staged link", func(t *testing.T) {
		stage, ws, a := inboxRig(t, nil)
		os.Symlink("/etc/shadow", filepath.Join(stage, "shadow"))
		if err := copyInbox(stage, ws, a, []string{ws}); err == nil {
			t.Error("a staged link was followed")
		}
	})
	t.Run("too many staged files", func(t *testing.T) {
		stage, ws, a := inboxRig(t, map[string]string{"1": "", "2": "", "3": "", "4": "", "5": "", "6": ""})
		if err := copyInbox(stage, ws, a, []string{ws}); err == nil || !strings.Contains(err.Error(), "at most 5") {
			t.Errorf("copy: %v", err)
		}
	})
	t.Run("a staged name the bridge would not make", func(t *testing.T) {
		stage, ws, a := inboxRig(t, map[string]string{".bashrc": "evil"})
		if err := copyInbox(stage, ws, a, []string{ws}); err == nil {
			t.Error("accepted")
		}
	})
}

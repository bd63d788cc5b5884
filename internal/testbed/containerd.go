// Package testbed starts the real components integration and system tests
// run against: a private containerd daemon in a temporary directory, a
// private dbus-daemon, the cached Claude Code CLI and a stand-in for the
// Anthropic API, and a throwaway systemd-nspawn machine (Machine) with a
// real systemd, D-Bus and journald. Tests skip (saying why) when not root
// or when HERDCTL_INTEGRATION / HERDCTL_E2E is unset and the parts are
// missing; CI sets them, so in CI nothing skips.
package testbed

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/herdctl/herdctl/containerd"
)

// Require skips the test unless it can run real containers: root, and
// containerd and runc installed. With HERDCTL_INTEGRATION=1 a missing part
// fails the test instead.
func Require(t *testing.T, programs ...string) {
	t.Helper()
	RequireTools(t, append([]string{"containerd", "runc"}, programs...)...)
}

// RequireTools skips the test unless it runs as root with programs
// installed; with HERDCTL_INTEGRATION=1 it fails instead.
func RequireTools(t *testing.T, programs ...string) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root"
	}
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil && why == "" {
			why = p + " is not installed (make deps)"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("HERDCTL_INTEGRATION") != "" {
		t.Fatalf("integration test cannot run: %s", why)
	}
	t.Skipf("integration test skipped: %s (make test runs it)", why)
}

// Containerd is a private containerd daemon.
type Containerd struct {
	Address string
	Client  *containerd.Client
	Dir     string
}

// StartContainerd starts containerd with its root, state and socket in a
// new temporary directory, and stops it when the test ends.
func StartContainerd(t *testing.T) *Containerd {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "hc-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "c.sock")
	cfg := filepath.Join(dir, "config.toml")
	// Only what herdctl uses: no CRI, no other snapshotters to probe.
	os.WriteFile(cfg, []byte("version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.snapshotter.v1.btrfs\", \"io.containerd.snapshotter.v1.zfs\", \"io.containerd.snapshotter.v1.devmapper\", \"io.containerd.snapshotter.v1.aufs\"]\n"), 0o644)
	logf, _ := os.Create(filepath.Join(dir, "containerd.log"))
	cmd := exec.Command("containerd", "--config", cfg, "--root", filepath.Join(dir, "root"), "--state", filepath.Join(dir, "state"), "--address", sock)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &Containerd{Address: sock, Dir: dir}
	t.Cleanup(func() {
		if c.Client != nil {
			c.Client.Close()
		}
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		exec.Command("umount", "-R", filepath.Join(dir, "state")).Run()
		os.RemoveAll(dir)
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			cl, err := containerd.Connect(context.Background(), sock, "herdctl")
			if err == nil {
				if _, err := cl.List(context.Background()); err == nil {
					c.Client = cl
					return c
				}
				cl.Close()
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
			t.Fatalf("containerd did not come up in 20s:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CacheDir is where scripts/deps.sh caches what tests need and the
// repository must not hold: $HERDCTL_TEST_CACHE, /var/cache/herdctl-test
// by default.
func CacheDir() string {
	if c := os.Getenv("HERDCTL_TEST_CACHE"); c != "" {
		return c
	}
	return "/var/cache/herdctl-test"
}

// ClaudePath is the cached Claude Code binary (scripts/deps.sh puts it
// there), or "" when it is missing.
func ClaudePath() string {
	p := filepath.Join(CacheDir(), "claude/node_modules/@anthropic-ai/claude-code-linux-x64/claude")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// RequireClaude returns the Claude Code binary or skips (fails under
// HERDCTL_INTEGRATION) when it is not cached.
func RequireClaude(t *testing.T) string {
	t.Helper()
	p := ClaudePath()
	if p == "" {
		msg := "Claude Code CLI not cached: run scripts/deps.sh"
		if os.Getenv("HERDCTL_INTEGRATION") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// VarLibDir makes a directory for a test under /var/lib (root-owned, like
// the places herdctl's workspaces live: tests never use /tmp for them) and
// removes it when the test ends.
func VarLibDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/var/lib", "herdctl-test-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

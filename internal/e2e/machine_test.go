package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// machine is a booted systemd-nspawn container over an overlay of /.
type machine struct {
	t      *testing.T
	dir    string
	root   string // the merged overlay: the machine's /
	pid    int    // its PID 1, as this host sees it
	nspawn *exec.Cmd
}

// requireE2E skips unless HERDCTL_E2E is set; then missing parts fail.
func requireE2E(t *testing.T) {
	t.Helper()
	if os.Getenv("HERDCTL_E2E") == "" {
		t.Skip("system test: set HERDCTL_E2E=1 (make e2e) to boot a test machine")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the system test needs root")
	}
	for _, p := range []string{"systemd-nspawn", "nsenter", "containerd", "runc"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed: run make deps", p)
		}
	}
}

// newMachine mounts an overlay of / and lets setup write files into it
// before the machine boots.
func newMachine(t *testing.T) *machine {
	t.Helper()
	dir, err := os.MkdirTemp("/var/tmp", "herdctl-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	m := &machine{t: t, dir: dir, root: filepath.Join(dir, "merged")}
	for _, d := range []string{"upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := fmt.Sprintf("lowerdir=/,upperdir=%s/upper,workdir=%s/work", dir, dir)
	if err := unix.Mount("overlay", m.root, "overlay", 0, opts); err != nil {
		t.Fatalf("mounting the overlay: %v", err)
	}
	t.Cleanup(m.destroy)
	return m
}

// path is a path inside the machine, as this host writes it.
func (m *machine) path(p string) string { return filepath.Join(m.root, p) }

func (m *machine) writeFile(p, content string, mode os.FileMode) {
	m.t.Helper()
	full := m.path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		m.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), mode); err != nil {
		m.t.Fatal(err)
	}
	os.Chmod(full, mode)
}

func (m *machine) copyFile(src, dst string, mode os.FileMode) {
	m.t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		m.t.Fatal(err)
	}
	m.writeFile(dst, string(b), mode)
}

// boot starts the machine and waits until systemd says it is up.
func (m *machine) boot() {
	m.t.Helper()
	marker := "herdctl.e2e=" + filepath.Base(m.dir)
	name := strings.ReplaceAll(filepath.Base(m.dir), "_", "-")
	cmd := exec.Command("systemd-nspawn", "--register=no", "--keep-unit", "-D", m.root, "-M", name,
		"--capability=all", "--system-call-filter=@keyring bpf", "--private-network", "-b",
		"systemd.firstboot=off", "systemd.mask=postgresql.service", "systemd.mask=console-getty.service", marker)
	cmd.Env = append(os.Environ(), "SYSTEMD_NSPAWN_API_VFS_WRITABLE=yes")
	log, err := os.Create(filepath.Join(m.dir, "console.log"))
	if err != nil {
		m.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	m.nspawn = cmd
	deadline := time.Now().Add(60 * time.Second)
	for m.pid == 0 && time.Now().Before(deadline) {
		m.pid = findInit(marker)
		time.Sleep(100 * time.Millisecond)
	}
	if m.pid == 0 {
		m.t.Fatalf("the machine did not start; see %s/console.log", m.dir)
	}
	for time.Now().Before(deadline) {
		out, _ := m.try("systemctl", "is-system-running")
		if s := strings.TrimSpace(out); s == "running" || s == "degraded" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	m.t.Fatalf("the machine did not finish booting; see %s/console.log", m.dir)
}

// shutdown stops the machine (systemd shuts down in order) and keeps its
// overlay, so boot can start it again: a reboot.
func (m *machine) shutdown() {
	m.t.Helper()
	m.nspawn.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { m.nspawn.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		m.t.Fatal("the machine did not shut down")
	}
	m.nspawn, m.pid = nil, 0
}

// findInit finds the machine's PID 1: systemd with our marker argument.
func findInit(marker string) int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if strings.Contains(args[0], "systemd") && bytes.Contains(b, []byte(marker)) && !strings.Contains(args[0], "nspawn") {
			var pid int
			fmt.Sscanf(filepath.Base(filepath.Dir(p)), "%d", &pid)
			return pid
		}
	}
	return 0
}

// try runs a command inside the machine and returns its combined output.
func (m *machine) try(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"-t", fmt.Sprint(m.pid), "-a", "--"}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "SYSTEMD_PAGER=", "NO_COLOR=1"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// run runs a command inside the machine; it must succeed.
func (m *machine) run(args ...string) string {
	m.t.Helper()
	out, err := m.try(args...)
	if err != nil {
		m.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// sh runs a shell command line inside the machine; it must succeed.
func (m *machine) sh(script string) string {
	m.t.Helper()
	return m.run("sh", "-c", script)
}

// exitCode runs a command inside the machine and returns its exit code.
func (m *machine) exitCode(args ...string) (int, string) {
	out, err := m.try(args...)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out
	}
	if err != nil {
		m.t.Fatal(err)
	}
	return 0, out
}

// eventually retries cond every 200 ms until it holds or timeout passes.
func (m *machine) eventually(timeout time.Duration, what string, cond func() bool) {
	m.t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return
		}
	}
	m.t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// startContainerd makes runc work inside the machine (nspawn mounts the
// cgroup v1 controllers read-only) and (re)starts containerd.
func (m *machine) startContainerd() {
	m.t.Helper()
	m.sh(`if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
  for c in freezer pids devices cpuset memory cpuacct blkio cpu; do
    [ -d /sys/fs/cgroup/$c ] || continue
    umount /sys/fs/cgroup/$c 2>/dev/null; mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c
  done
fi
systemctl restart containerd`)
}

func (m *machine) destroy() {
	if m.nspawn != nil && m.nspawn.Process != nil {
		if m.t.Failed() {
			out, _ := m.try("journalctl", "--no-pager", "-n", "150")
			m.t.Logf("machine journal (last 150):\n%s", out)
		}
		m.nspawn.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { m.nspawn.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			m.nspawn.Process.Kill()
			<-done
		}
	}
	// Leftover mounts under the overlay (the machine's) go first.
	for i := 0; i < 3; i++ {
		if err := unix.Unmount(m.root, unix.MNT_DETACH); err == nil {
			break
		}
		time.Sleep(time.Second)
	}
	if os.Getenv("HERDCTL_E2E_KEEP") == "" {
		os.RemoveAll(m.dir)
	}
}

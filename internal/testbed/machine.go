package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/herdctl/herdctl/units"
)

// Machine is a booted systemd-nspawn container over an overlay of this
// host's / (TESTBED.md): a real systemd, D-Bus and journald, thrown away
// when the test ends.
type Machine struct {
	T      *testing.T
	Dir    string
	Root   string // the merged overlay: the machine's /
	PID    int    // its PID 1, as this host sees it
	nspawn *exec.Cmd
}

// RequireE2E skips unless HERDCTL_E2E is set; then missing parts fail.
func RequireE2E(t *testing.T) {
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

// NewMachine mounts an overlay of / and lets setup write files into it
// before the machine boots.
func NewMachine(t *testing.T) *Machine {
	t.Helper()
	dir, err := os.MkdirTemp("/var/tmp", "herdctl-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	m := &Machine{T: t, Dir: dir, Root: filepath.Join(dir, "merged")}
	for _, d := range []string{"upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := fmt.Sprintf("lowerdir=/,upperdir=%s/upper,workdir=%s/work", dir, dir)
	if err := unix.Mount("overlay", m.Root, "overlay", 0, opts); err != nil {
		t.Fatalf("mounting the overlay: %v", err)
	}
	t.Cleanup(m.destroy)
	return m
}

// Path is a path inside the machine, as this host writes it.
func (m *Machine) Path(p string) string { return filepath.Join(m.Root, p) }

func (m *Machine) WriteFile(p, content string, mode os.FileMode) {
	m.T.Helper()
	full := m.Path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		m.T.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), mode); err != nil {
		m.T.Fatal(err)
	}
	os.Chmod(full, mode)
}

func (m *Machine) CopyFile(src, dst string, mode os.FileMode) {
	m.T.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		m.T.Fatal(err)
	}
	m.WriteFile(dst, string(b), mode)
}

// Boot starts the machine and waits until systemd says it is up.
func (m *Machine) Boot() {
	m.T.Helper()
	marker := "herdctl.e2e=" + filepath.Base(m.Dir)
	name := strings.ReplaceAll(filepath.Base(m.Dir), "_", "-")
	cmd := exec.Command("systemd-nspawn", "--register=no", "--keep-unit", "-D", m.Root, "-M", name,
		"--capability=all", "--system-call-filter=@keyring bpf", "--private-network", "-b",
		"systemd.firstboot=off", "systemd.mask=postgresql.service", "systemd.mask=console-getty.service", marker)
	cmd.Env = append(os.Environ(), "SYSTEMD_NSPAWN_API_VFS_WRITABLE=yes")
	log, err := os.Create(filepath.Join(m.Dir, "console.log"))
	if err != nil {
		m.T.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		m.T.Fatal(err)
	}
	m.nspawn = cmd
	deadline := time.Now().Add(60 * time.Second)
	for m.PID == 0 && time.Now().Before(deadline) {
		m.PID = findInit(marker)
		time.Sleep(100 * time.Millisecond)
	}
	if m.PID == 0 {
		m.T.Fatalf("the machine did not start; see %s/console.log", m.Dir)
	}
	for time.Now().Before(deadline) {
		out, _ := m.Try("systemctl", "is-system-running")
		if s := strings.TrimSpace(out); s == "running" || s == "degraded" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	m.T.Fatalf("the machine did not finish booting; see %s/console.log", m.Dir)
}

// Shutdown stops the machine (systemd shuts down in order) and keeps its
// overlay, so boot can start it again: a reboot.
func (m *Machine) Shutdown() {
	m.T.Helper()
	m.nspawn.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { m.nspawn.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		m.T.Fatal("the machine did not shut down")
	}
	m.nspawn, m.PID = nil, 0
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

// Try runs a command inside the machine and returns its combined output.
func (m *Machine) Try(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"-t", fmt.Sprint(m.PID), "-a", "--"}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "SYSTEMD_PAGER=", "NO_COLOR=1"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Run runs a command inside the machine; it must succeed.
func (m *Machine) Run(args ...string) string {
	m.T.Helper()
	out, err := m.Try(args...)
	if err != nil {
		m.T.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Sh runs a shell command line inside the machine; it must succeed.
func (m *Machine) Sh(script string) string {
	m.T.Helper()
	return m.Run("sh", "-c", script)
}

// ExitCode runs a command inside the machine and returns its exit code.
func (m *Machine) ExitCode(args ...string) (int, string) {
	out, err := m.Try(args...)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out
	}
	if err != nil {
		m.T.Fatal(err)
	}
	return 0, out
}

// Eventually retries cond every 200 ms until it holds or timeout passes.
func (m *Machine) Eventually(timeout time.Duration, what string, cond func() bool) {
	m.T.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return
		}
	}
	m.T.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// StartContainerd makes runc work inside the machine (nspawn mounts the
// cgroup v1 controllers read-only) and (re)starts containerd.
func (m *Machine) StartContainerd() {
	m.T.Helper()
	m.Sh(`if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
  for c in freezer pids devices cpuset memory cpuacct blkio cpu; do
    [ -d /sys/fs/cgroup/$c ] || continue
    umount /sys/fs/cgroup/$c 2>/dev/null; mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c
  done
fi
systemctl restart containerd`)
}

func (m *Machine) destroy() {
	if m.nspawn != nil && m.nspawn.Process != nil {
		if m.T.Failed() {
			out, _ := m.Try("journalctl", "--no-pager", "-n", "150")
			m.T.Logf("machine journal (last 150):\n%s", out)
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
		if err := unix.Unmount(m.Root, unix.MNT_DETACH); err == nil {
			break
		}
		time.Sleep(time.Second)
	}
	if os.Getenv("HERDCTL_E2E_KEEP") == "" {
		os.RemoveAll(m.Dir)
	}
}

// HerdctlMachine makes a machine with the built herdctl installed (the
// binaries, herdctl.service and the D-Bus policy), the fleet file and the
// other files given (path → content) in place. Boot it, then start().
func HerdctlMachine(t *testing.T, fleet string, files map[string]string) *Machine {
	RequireE2E(t)
	bin := SharedTempDir(t)
	herdctl := Build(t, bin, "herdctl")
	runner := Build(t, bin, "herdctl-runner")
	herdctlctl := Build(t, bin, "herdctlctl")
	chat := Build(t, bin, "herdctl-chat")
	m := NewMachine(t)
	m.CopyFile(herdctl, "/usr/sbin/herdctl", 0o755)
	m.CopyFile(runner, units.DefaultRunner, 0o755)
	m.CopyFile(herdctlctl, "/usr/bin/herdctlctl", 0o755)
	m.CopyFile(filepath.Join(repoRoot(), "packaging/herdctl.service"), "/usr/lib/systemd/system/herdctl.service", 0o644)
	m.CopyFile(filepath.Join(repoRoot(), "packaging", units.ReapUnit), "/usr/lib/systemd/system/"+units.ReapUnit, 0o644)
	for _, u := range []string{units.PruneService, units.PruneTimer} {
		m.CopyFile(filepath.Join(repoRoot(), "packaging", u), "/usr/lib/systemd/system/"+u, 0o644)
	}
	m.CopyFile(filepath.Join(repoRoot(), "packaging/dbus/dev.herdctl.Manager1.conf"), "/usr/share/dbus-1/system.d/dev.herdctl.Manager1.conf", 0o644)
	m.CopyFile(filepath.Join(repoRoot(), "packaging/journald/herdctl.conf"), "/usr/lib/systemd/journald@herdctl.conf.d/50-herdctl.conf", 0o644)
	// The chat bridge: started by its path unit when an agent has chat
	// (its user is the test's to make: systemd-sysusers with the
	// packaged sysusers.conf).
	m.CopyFile(chat, "/usr/libexec/herdctl/herdctl-chat", 0o755)
	for _, u := range []string{"herdctl-chat.service", "herdctl-chat.path"} {
		m.CopyFile(filepath.Join(repoRoot(), "packaging", u), "/usr/lib/systemd/system/"+u, 0o644)
	}
	m.CopyFile(filepath.Join(repoRoot(), "packaging/herdctl-chat.conf"), "/usr/lib/systemd/system/herdctl.service.d/herdctl-chat.conf", 0o644)
	m.WriteFile("/etc/herdctl/herdctl.toml", fleet, 0o644)
	for p, content := range files {
		m.WriteFile(p, content, 0o644)
	}
	return m
}

// Start makes the agents' directories theirs, starts containerd and
// herdctl.
func (m *Machine) Start() {
	m.T.Helper()
	m.Sh("chown -R 1000:1000 /srv/herdctl && groupadd -r herdctl && useradd -M -s /bin/sh e2eviewer")
	m.StartContainerd()
	m.Run("systemctl", "start", "herdctl")
}

// CtlJSON runs herdctlctl ARGS inside the machine and decodes its JSON.
func (m *Machine) CtlJSON(v any, args ...string) {
	m.T.Helper()
	out := m.Run(append([]string{"herdctlctl"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		m.T.Fatalf("herdctlctl %v: %v\n%s", args, err, out)
	}
}

// Timers lists herdctl's timers as systemctl list-timers shows them.
func (m *Machine) Timers() string {
	return m.Run("systemctl", "list-timers", "--all", "--no-legend", "herdctl-*")
}

// repoRoot is the repository's top directory, found from this file.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// CockpitPackage is the herdctl-cockpit .deb that make package put in
// dist/.
func CockpitPackage(t *testing.T) string {
	t.Helper()
	debs, _ := filepath.Glob(filepath.Join(repoRoot(), "dist", "herdctl-cockpit_*_all.deb"))
	if len(debs) != 1 {
		t.Fatalf("want one herdctl-cockpit .deb in dist/, found %v: run make package", debs)
	}
	return debs[0]
}

// Packages are the .deb and .rpm that make package put in dist/.
func Packages(t *testing.T) (deb, rpm string) {
	t.Helper()
	debs, _ := filepath.Glob(filepath.Join(repoRoot(), "dist", "herdctl_*.deb"))
	rpms, _ := filepath.Glob(filepath.Join(repoRoot(), "dist", "herdctl-[0-9]*.rpm"))
	if len(debs) != 1 || len(rpms) != 1 {
		t.Fatalf("want one .deb and one .rpm in dist/, found %v %v: run make package", debs, rpms)
	}
	return debs[0], rpms[0]
}

// PackagedMachine boots a machine with herdctl installed from the .deb
// (make package) by apt, as shipped, then replaces the example fleet with
// fleet and files (path → content) and restarts herdctl on it. The
// agents' directories under /srv/herdctl belong to uid 1000.
func PackagedMachine(t *testing.T, fleet string, files map[string]string) *Machine {
	RequireE2E(t)
	deb, _ := Packages(t)
	m := NewMachine(t)
	m.CopyFile(deb, "/var/tmp/herdctl.deb", 0o644)
	m.Boot()
	m.StartContainerd()
	// No network in the machine: apt resolves containerd and runc from
	// what the host has installed.
	if code, out := m.ExitCode("apt-get", "install", "-y", "/var/tmp/herdctl.deb"); code != 0 {
		t.Fatalf("apt-get install: exit %d\n%s", code, out)
	}
	m.WriteFile("/etc/herdctl/herdctl.toml", fleet, 0o644)
	for p, content := range files {
		m.WriteFile(p, content, 0o644)
	}
	m.Sh("chown -R 1000:1000 /srv/herdctl && systemctl restart herdctl")
	return m
}

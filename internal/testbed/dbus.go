package testbed

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Bus is a private dbus-daemon.
type Bus struct {
	Address string
	Dir     string // world-searchable, for files other users must reach
}

// SharedTempDir makes a temporary directory every user can enter (for a
// bus socket or a binary that a test runs as another user), removed when
// the test ends.
func SharedTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "herdctl-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// StartBus starts a private dbus-daemon any local user may connect to.
// With systemLike, its default policy is the system bus's (deny every
// method call and every name, except to the bus itself) and the policy
// files given are included, as /usr/share/dbus-1/system.d/ files are;
// without, everyone may call and own anything.
func StartBus(t *testing.T, systemLike bool, policies ...string) *Bus {
	t.Helper()
	RequireTools(t, "dbus-daemon")
	dir := SharedTempDir(t)
	policy := `<allow send_destination="*"/>
    <allow own="*"/>`
	if systemLike {
		policy = `<deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>`
	}
	var includes strings.Builder
	for _, p := range policies {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&includes, "  <include>%s</include>\n", abs)
	}
	conf := fmt.Sprintf(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    %s
  </policy>
%s</busconfig>
`, dir, policy, includes.String())
	confFile := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+confFile, "--nofork", "--nopidfile", "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Dies with the test binary, even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon did not print its address: %v", err)
	}
	return &Bus{Address: strings.TrimSpace(addr), Dir: dir}
}

// Build builds one of the project's commands (e.g. "herdctlctl") into
// dir and returns its path.
func Build(t *testing.T, dir, command string) string {
	t.Helper()
	out := filepath.Join(dir, command)
	cmd := exec.Command("go", "build", "-o", out, "github.com/herdctl/herdctl/cmd/"+command)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", command, err, b)
	}
	return out
}

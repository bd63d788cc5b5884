package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// packages finds the .deb and .rpm "make package" built.
func packages(t *testing.T) (deb, rpm string) { return testbed.Packages(t) }

func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// TestPackagesAgree: the .rpm holds the same files and scriptlets as the
// .deb, and lintian finds no error in the .deb.
func TestPackagesAgree(t *testing.T) {
	testbed.RequireE2E(t)
	deb, rpm := packages(t)
	var debFiles []string
	for _, line := range strings.Split(output(t, "dpkg-deb", "-c", deb), "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && !strings.HasSuffix(f[5], "/") {
			debFiles = append(debFiles, strings.TrimPrefix(f[5], "."))
		}
	}
	rpmFiles := strings.Fields(output(t, "rpm", "-qlp", rpm))
	// Where the two formats differ on purpose.
	normalize := func(files []string) []string {
		var out []string
		for _, f := range files {
			if slices.ContainsFunc(files, func(g string) bool { return strings.HasPrefix(g, f+"/") }) {
				continue // a directory (rpm lists the ones it owns)
			}
			switch {
			case strings.HasPrefix(f, "/usr/share/doc/"):
				continue // Debian's copyright and changelog
			case f == "/usr/share/licenses/herdctl/LICENSE":
				continue // rpm's licence file; Debian's copyright names common-licenses
			case strings.HasSuffix(f, "/_herdctlctl"):
				f = "zsh completion"
			}
			out = append(out, f)
		}
		return slices.Sorted(slices.Values(out))
	}
	if d, r := normalize(debFiles), normalize(rpmFiles); !slices.Equal(d, r) {
		t.Errorf("file lists differ:\ndeb %v\nrpm %v", d, r)
	}
	if l := strings.TrimSpace(output(t, "rpm", "-qp", "--queryformat", "%{LICENSE}", rpm)); l != "Apache-2.0" {
		t.Errorf("rpm licence %q, want Apache-2.0", l)
	}
	if c := output(t, "sh", "-c", "dpkg-deb --fsys-tarfile "+deb+" | tar -xO ./usr/share/doc/herdctl/copyright"); !strings.Contains(c, "License: Apache-2.0") {
		t.Errorf("the deb's copyright names no Apache-2.0:\n%s", c)
	}
	scripts := output(t, "rpm", "-qp", "--scripts", rpm)
	for _, s := range []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet", "herdctl teardown", "systemd-sysusers"} {
		if !strings.Contains(scripts, s) {
			t.Errorf("rpm scriptlets lack %q", s)
		}
	}
	// Neither owns a file in /etc: the post-install script makes the
	// configuration when there is none, so an upgrade never asks.
	if config, _ := exec.Command("rpm", "-qcp", rpm).CombinedOutput(); strings.Contains(string(config), "/etc/") {
		t.Errorf("rpm config files: %s", config)
	}
	if conf, _ := exec.Command("sh", "-c", "dpkg-deb --ctrl-tarfile "+deb+" | tar -xO ./conffiles 2>/dev/null").CombinedOutput(); strings.TrimSpace(string(conf)) != "" {
		t.Errorf("deb conffiles: %s", conf)
	}
	for _, f := range debFiles {
		if strings.HasPrefix(f, "/etc/") {
			t.Errorf("the deb owns %s", f)
		}
	}
	lint, _ := exec.Command("lintian", "--tag-display-limit", "0", deb).CombinedOutput()
	t.Logf("lintian:\n%s", lint)
	for _, line := range strings.Split(string(lint), "\n") {
		if strings.HasPrefix(line, "E: ") {
			t.Errorf("lintian error: %s", line)
		}
	}
}

// TestPackageInstall installs the .deb with apt into a booted machine, as
// an admin would, and removes it again.
func TestPackageInstall(t *testing.T) {
	testbed.RequireE2E(t)
	claude := testbed.RequireClaude(t)
	deb, _ := packages(t)
	m := testbed.NewMachine(t)
	m.CopyFile(deb, "/var/tmp/herdctl.deb", 0o644)
	m.Boot()
	m.StartContainerd()
	// No network in the machine: apt resolves containerd and runc from
	// what the host has installed.
	if code, out := m.ExitCode("apt-get", "install", "-y", "/var/tmp/herdctl.deb"); code != 0 {
		t.Fatalf("apt-get install: exit %d\n%s", code, out)
	}
	m.Eventually(20*time.Second, "herdctl.service active", func() bool {
		out, _ := m.Try("systemctl", "is-active", "herdctl")
		return strings.TrimSpace(out) == "active"
	})
	var st api.Status
	m.CtlJSON(&st, "status", "--json")
	if st.FleetName != "example" || st.Agents != 1 {
		t.Errorf("status of the packaged fleet: %+v", st)
	}
	if timers := m.Timers(); !strings.Contains(timers, "herdctl-gardener-weekly.timer") {
		t.Errorf("list-timers:\n%s", timers)
	}
	if out := m.Run("systemctl", "is-enabled", "herdctl"); strings.TrimSpace(out) != "enabled" {
		t.Errorf("herdctl.service is %s after install, want enabled", out)
	}
	if fi, err := os.Stat(m.Path("/etc/herdctl/herdctl.env")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("herdctl.env: %v %v", fi, err)
	}

	// Point the packaged fleet at Claude Code and the stand-in API (by
	// name, through the gardener's egress proxy), and give the gardener a
	// schedule that fires now.
	m.Sh("echo '127.0.0.1 api.stand-in.test' >> /etc/hosts")
	ln, err := testbed.ListenInNetns(m.PID, "127.0.0.1:47201")
	if err != nil {
		t.Fatal(err)
	}
	stand := testbed.ServeAPI(t, ln, []testbed.Turn{
		{Tool: "Write", Input: map[string]any{"file_path": "/workspace/garden.md", "content": "water the tomatoes\n"}},
		{Text: "Updated garden.md."},
	})
	fleet, err := os.ReadFile(m.Path("/etc/herdctl/herdctl.toml"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(fleet), `#claude_path = "/usr/local/bin/claude"`, `claude_path = "`+claude+`"`, 1) +
		"  egress = [\"api.stand-in.test:47201\"]\n  egress_private = [\"127.0.0.0/8\"]\n"
	m.WriteFile("/etc/herdctl/herdctl.toml", edited, 0o644)
	m.WriteFile("/etc/herdctl/herdctl.env", "ANTHROPIC_API_KEY=sk-pkg-not-a-real-key\nANTHROPIC_BASE_URL=http://api.stand-in.test:47201\n", 0o600)
	_ = stand
	agent, _ := os.ReadFile(m.Path("/etc/herdctl/agents/gardener/agent.toml"))
	m.WriteFile("/etc/herdctl/agents/gardener/agent.toml", string(agent)+"\n[schedules.soon]\ntype = \"interval\"\ninterval = \"2s\"\n", 0o644)
	m.Run("herdctlctl", "reload")

	var done api.Job
	m.Eventually(60*time.Second, "a timer-fired gardener job completed", func() bool {
		var js []api.Job
		m.CtlJSON(&js, "jobs", "--json", "--agent=gardener", "--status=completed")
		if len(js) > 0 {
			done = js[0]
		}
		return len(js) > 0
	})
	if done.Trigger != "schedule" || done.Schedule != "soon" || done.SessionID == "" {
		t.Errorf("job: %+v", done)
	}
	if b, err := os.ReadFile(m.Path("/var/lib/herdctl/workspaces/gardener/garden.md")); err != nil || string(b) != "water the tomatoes\n" {
		t.Errorf("garden.md: %q %v", b, err)
	}
	var events int
	for _, line := range strings.Split(m.Run("journalctl", "--namespace="+state.JournalNamespace, "--no-pager", "-o", "json", "HERDCTL_AGENT=gardener", "HERDCTL_JOB="+done.ID), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil && e["HERDCTL_EVENT"] != nil {
			events++
		}
	}
	if events < 4 {
		t.Errorf("journalctl HERDCTL_AGENT=gardener: %d events of job %s", events, done.ID)
	}

	// An upgrade keeps the edited configuration and restarts the daemon.
	pidBefore := m.Run("systemctl", "show", "-p", "MainPID", "herdctl")
	m.CopyFile(bumpedDeb(t, deb), "/var/tmp/herdctl-next.deb", 0o644)
	if code, out := m.ExitCode("apt-get", "install", "-y", "/var/tmp/herdctl-next.deb"); code != 0 {
		t.Fatalf("upgrade: exit %d\n%s", code, out)
	}
	if b, _ := os.ReadFile(m.Path("/etc/herdctl/herdctl.toml")); string(b) != edited {
		t.Error("the upgrade overwrote the edited fleet file")
	}
	if out := m.Run("dpkg", "-s", "herdctl"); !strings.Contains(out, "Status: install ok installed") {
		t.Errorf("dpkg -s after an upgrade over an edited configuration:\n%s", out)
	}
	if out := m.Run("systemctl", "is-active", "herdctl"); strings.TrimSpace(out) != "active" {
		t.Errorf("herdctl after the upgrade: %s", out)
	}
	if pid := m.Run("systemctl", "show", "-p", "MainPID", "herdctl"); pid == pidBefore {
		t.Errorf("the upgrade did not restart the daemon (%s)", strings.TrimSpace(pid))
	}

	// Removal stops everything and leaves the state.
	if code, out := m.ExitCode("apt-get", "remove", "-y", "herdctl"); code != 0 {
		t.Fatalf("apt-get remove: exit %d\n%s", code, out)
	}
	if out := m.Run("systemctl", "list-units", "--all", "--no-legend", "herdctl*"); strings.Contains(out, " active ") || strings.Contains(out, ".timer") {
		t.Errorf("units left after remove:\n%s", out)
	}
	if left, _ := filepath.Glob(m.Path("/run/systemd/system/herdctl-*")); len(left) > 0 {
		t.Errorf("unit files left in /run/systemd/system: %v", left)
	}
	if out := m.Run("ctr", "-n", "herdctl", "containers", "ls", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("containers left after remove: %s", out)
	}
	if _, err := os.Stat(m.Path("/var/lib/herdctl/jobs/" + done.ID + ".json")); err != nil {
		t.Errorf("remove lost the job records: %v", err)
	}
	m.Run("apt-get", "purge", "-y", "herdctl")
	for _, p := range []string{"/var/lib/herdctl", "/etc/herdctl", "/var/lib/herdctl-chat", "/var/lib/herdctl-hook"} {
		if _, err := os.Stat(m.Path(p)); !os.IsNotExist(err) {
			t.Errorf("%s after purge: %v", p, err)
		}
	}
}

// bumpedDeb repacks deb with a higher version: the next release, for the
// upgrade path.
func bumpedDeb(t *testing.T, deb string) string {
	t.Helper()
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	output(t, "dpkg-deb", "-R", deb, tree)
	control := filepath.Join(tree, "DEBIAN", "control")
	b, err := os.ReadFile(control)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Version: "); ok {
			line = "Version: " + v + ".1"
		}
		out = append(out, line)
	}
	if err := os.WriteFile(control, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(dir, "next.deb")
	output(t, "dpkg-deb", "--root-owner-group", "-b", tree, next)
	return next
}

// TestMakeInstall runs the README's first command, sudo make install, in
// a fresh machine (the repository and Go are there through the overlay):
// it builds, packages, installs with apt and starts herdctl with the
// example fleet.
func TestMakeInstall(t *testing.T) {
	testbed.RequireE2E(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("go is not on PATH")
	}
	root, _ := filepath.Abs("../..")
	m := testbed.NewMachine(t)
	// The sources as a clean clone has them (the checkout may be under
	// /tmp, which is the machine's own tmpfs).
	for _, f := range strings.Fields(output(t, "git", "-C", root, "ls-files")) {
		if fi, err := os.Lstat(filepath.Join(root, f)); err == nil && fi.Mode().IsRegular() {
			m.CopyFile(filepath.Join(root, f), "/var/tmp/herdctl-src/"+f, fi.Mode().Perm())
		}
	}
	m.Boot()
	m.StartContainerd()
	code, out := m.ExitCode("sh", "-c", "export HOME=/root PATH="+filepath.Dir(goBin)+":$PATH; cd /var/tmp/herdctl-src && make install")
	if code != 0 {
		t.Fatalf("make install: exit %d\n%s", code, out)
	}
	if s := m.Run("systemctl", "is-active", "herdctl"); strings.TrimSpace(s) != "active" {
		t.Fatalf("herdctl after make install: %s", s)
	}
	var st api.Status
	m.CtlJSON(&st, "status", "--json")
	if st.FleetName != "example" || st.Agents != 1 || st.Timers != 1 {
		t.Errorf("status after make install: %+v", st)
	}
}

package packaging

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/service/daemon"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPackagedFilesFollowTheCode: every name the packaged files share with
// the code is the code's.
func TestPackagedFilesFollowTheCode(t *testing.T) {
	nfpm := read(t, "../nfpm.yaml")
	unit := read(t, "herdctl.service")
	policy := read(t, "dbus/"+api.BusName+".conf")
	sysusers := read(t, "sysusers.conf")
	for _, c := range []struct{ what, text, want string }{
		{"nfpm installs the daemon's unit", nfpm, "dst: /usr/lib/systemd/system/" + units.DaemonUnit + "\n"},
		{"nfpm installs the runner where job units run it", nfpm, "dst: " + units.DefaultRunner + "\n"},
		{"nfpm installs the D-Bus policy under the bus name", nfpm, "dst: /usr/share/dbus-1/system.d/" + api.BusName + ".conf\n"},
		{"the post-install script makes the fleet file", read(t, "scripts/postinstall.sh"), " " + config.DefaultFleetFile + "\n"},
		{"the post-install script makes the env file", read(t, "scripts/postinstall.sh"), " " + config.DefaultEnvFile + "\n"},
		{"the post-install script makes the drop-in directory", read(t, "scripts/postinstall.sh"), " " + config.DropInDir(config.DefaultFleetFile) + " "},
		{"the daemon's unit reaps first, and wants the prune timer", unit, "Wants=containerd.service " + units.ReapUnit + " " + units.PruneTimer + "\n"},
		{"nfpm installs the prune timer", nfpm, "dst: /usr/lib/systemd/system/" + units.PruneTimer + "\n"},
		{"nfpm installs the prune service", nfpm, "dst: /usr/lib/systemd/system/" + units.PruneService + "\n"},
		{"the prune service asks the daemon", read(t, units.PruneService), "ExecStart=/usr/bin/herdctlctl prune --quiet\n"},
		{"nfpm installs the jobs' journal namespace's drop-in", nfpm, "dst: /usr/lib/systemd/journald@" + state.JournalNamespace + ".conf.d/"},
		{"the reaper runs the runner", read(t, units.ReapUnit), "ExecStart=-" + units.DefaultRunner + " reap\n"},
		{"nfpm installs the reaper", nfpm, "dst: /usr/lib/systemd/system/" + units.ReapUnit + "\n"},
		{"the unit's state directory", unit, "StateDirectory=" + strings.TrimPrefix(state.DefaultStateDir, "/var/lib/") + "\n"},
		{"the unit's runtime directory", unit, "RuntimeDirectory=" + strings.TrimPrefix(state.DefaultRuntimeDir, "/run/") + "\n"},
		{"the unit may write the generated units", unit, "ReadWritePaths=" + daemon.DefaultUnitDir + "\n"},
		{"the bus policy lets root own the name", policy, `<allow own="` + api.BusName + `"/>`},
		{"the bus policy opens the methods to the group", policy, `<policy group="` + daemon.DefaultGroup + `">`},
		{"sysusers makes the group", sysusers, "g " + daemon.DefaultGroup + " "},
		{"sysusers makes the hook user", sysusers, "u " + units.HookUser + " "},
	} {
		if !strings.Contains(c.text, c.want) {
			t.Errorf("%s: %q is not there", c.what, c.want)
		}
	}
	// Every send_destination and interface in the policy is the bus name.
	for _, m := range regexp.MustCompile(`(?:send_destination|send_interface|own)="([^"]+)"`).FindAllStringSubmatch(policy, -1) {
		if m[1] != api.BusName && m[1] != api.Interface && !strings.HasPrefix(m[1], "org.freedesktop.DBus.") {
			t.Errorf("the D-Bus policy names %q, not %s", m[1], api.BusName)
		}
	}
	// The read-only methods the policy opens to everyone are the API's.
	opened := 0
	for _, m := range regexp.MustCompile(`send_interface="`+regexp.QuoteMeta(api.Interface)+`" send_member="(\w+)"`).FindAllStringSubmatch(policy, -1) {
		if !api.ReadOnly(m[1]) {
			t.Errorf("the D-Bus policy opens %s to everyone, but it is not a read-only method", m[1])
		}
		opened++
	}
	if opened != len(api.ReadOnlyMethods()) {
		t.Errorf("the D-Bus policy opens %d methods to everyone; the API has %d read-only ones", opened, len(api.ReadOnlyMethods()))
	}
}

package packaging

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/chat"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

// TestChatFilesFollowTheCode: the chat bridge's packaged files use the
// names package chat defines.
func TestChatFilesFollowTheCode(t *testing.T) {
	nfpm := read(t, "../nfpm.yaml")
	unit := read(t, chat.ServiceUnit)
	path := read(t, chat.PathUnit)
	dropIn := read(t, "herdctl-chat.conf")
	sysusers := read(t, "sysusers.conf")
	snapshot := chat.SnapshotPath(state.DefaultRuntimeDir)
	for _, c := range []struct{ what, text, want string }{
		{"nfpm installs the bridge", nfpm, "dst: " + chat.Binary + "\n"},
		{"nfpm installs its unit", nfpm, "dst: /usr/lib/systemd/system/" + chat.ServiceUnit + "\n"},
		{"nfpm installs its path unit", nfpm, "dst: /usr/lib/systemd/system/" + chat.PathUnit + "\n"},
		{"nfpm installs the daemon's drop-in", nfpm, "dst: /usr/lib/systemd/system/" + units.DaemonUnit + ".d/herdctl-chat.conf\n"},
		{"nfpm installs its man page", nfpm, "dst: /usr/share/man/man8/herdctl-chat.8.gz\n"},
		{"the unit runs the bridge", unit, "ExecStart=" + chat.Binary + "\n"},
		{"the unit runs as its user", unit, "User=" + chat.User + "\n"},
		{"the unit is in the admin group", unit, "SupplementaryGroups=" + api.AdminGroup + "\n"},
		{"the unit receives the snapshot as its credential", unit, "LoadCredential=" + chat.SnapshotName + ":" + snapshot + "\n"},
		{"the unit needs the snapshot", unit, "ConditionPathExists=" + snapshot + "\n"},
		{"the unit's state directory", unit, "StateDirectory=" + filepath.Base(chat.StateDir) + "\n"},
		{"the unit goes with the daemon", unit, "PartOf=" + units.DaemonUnit + "\n"},
		{"the unit allows inet sockets and no other family", unit, "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n"},
		{"the path unit watches the snapshot", path, "PathExists=" + snapshot + "\n"},
		{"the path unit starts the bridge", path, "Unit=" + chat.ServiceUnit + "\n"},
		{"the daemon wants the path unit", dropIn, "Wants=" + chat.PathUnit + "\n"},
		{"sysusers makes the bridge's user", sysusers, "u " + chat.User + " "},
		{"sysusers puts it in the admin group", sysusers, "m " + chat.User + "  " + api.AdminGroup + "\n"},
	} {
		if !strings.Contains(c.text, c.want) {
			t.Errorf("%s: %q is not there", c.what, c.want)
		}
	}
	if regexp.MustCompile(`(?m)^(Environment|EnvironmentFile|SetCredential)=`).MatchString(unit) {
		t.Error("the chat unit passes something through its environment or an inline credential: secrets go by LoadCredential= only")
	}
}

// TestChatUnitSecurity: systemd-analyze security rates the chat bridge's
// unit at most 2.5, as the issue asks (herdctl.service rates 1.0).
func TestChatUnitSecurity(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (apt-get install systemd)")
	}
	abs, _ := filepath.Abs(chat.ServiceUnit)
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager", abs).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for ` + regexp.QuoteMeta(chat.ServiceUnit) + `: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	level, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("systemd-analyze security %s: %.1f", chat.ServiceUnit, level)
	if level > 2.5 {
		t.Errorf("exposure %.1f, more than 2.5:\n%s", level, out)
	}
}

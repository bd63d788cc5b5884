package daemon

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herdctl/herdctl/chat"
	"github.com/herdctl/herdctl/service/api"
)

const chatToken = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.daemon-test-token"

// chatFleet is testFleet with a Discord bot for beta.
const chatFleet = testFleet + `  [agents.overrides.chat.discord]
  bot_token = "` + chatToken + `"
  users = ["3456789012"]
`

// TestChatSnapshot: the daemon writes the chat snapshot root-only when an
// agent has chat, leaves an unchanged one alone, and removes it when no
// agent has chat any more; no token reaches an agent's snapshot.
func TestChatSnapshot(t *testing.T) {
	r := newDaemonRig(t)
	p := chat.SnapshotPath(r.d.Layout.RuntimeDir)
	r.start()
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("a snapshot without chat: %v", err)
	}
	r.write("herdctl.toml", chatFleet)
	if err := r.d.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(p)
	s, err := chat.Decode(b)
	if err != nil || len(s.Agents) != 1 || s.Agents[0].Agent != "beta" || s.Agents[0].Discord.BotToken != chatToken {
		t.Fatalf("snapshot: %+v %v", s, err)
	}
	for _, a := range []string{"alpha", "beta"} {
		if ab, _ := os.ReadFile(r.d.Layout.Snapshot(a)); strings.Contains(string(ab), chatToken) {
			t.Errorf("agent %s's snapshot holds the bot token", a)
		}
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p, old, old)
	if err := r.d.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); !fi.ModTime().Equal(old) {
		t.Error("an unchanged snapshot was rewritten")
	}
	r.write("herdctl.toml", testFleet)
	if err := r.d.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("the snapshot is left without chat: %v", err)
	}
}

// TestReportChat: the bridge's report becomes the ChatConnectors property
// (times set by the daemon) and is answered with the snapshot's
// fingerprint; another user may not report.
func TestReportChat(t *testing.T) {
	r := newBusRig(t, false, "")
	ctx := context.Background()
	if cs, err := r.client.ChatConnectors(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("before any report: %+v %v", cs, err)
	}
	fp, err := r.client.ReportChat(ctx, []api.ChatConnector{{Agent: "alpha", Platform: "discord", Connected: true, Pending: 2,
		LastError: strings.Repeat("x", 1000)}})
	if err != nil || fp != "" {
		t.Fatalf("ReportChat without a snapshot: %q %v", fp, err)
	}
	cs, err := r.client.ChatConnectors(ctx)
	if err != nil || len(cs) != 1 || cs[0].Agent != "alpha" || !cs[0].Connected || cs[0].Pending != 2 || cs[0].Reported.IsZero() || len(cs[0].LastError) != 300 {
		t.Fatalf("ChatConnectors: %+v %v", cs, err)
	}
	r.write("herdctl.toml", chatFleet)
	if err := r.d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(chat.SnapshotPath(r.d.Layout.RuntimeDir))
	if fp, err := r.client.ReportChat(ctx, nil); err != nil || fp != chat.Fingerprint(b) || fp == "" {
		t.Errorf("fingerprint %q, want %q (%v)", fp, chat.Fingerprint(b), err)
	}

	uid, _ := nobody(t)
	if _, err := exec.LookPath("busctl"); err != nil {
		t.Skip("busctl is not installed")
	}
	cmd := exec.Command("busctl", "--address="+r.bus.Address, "call", api.BusName, api.ObjectPath, api.Interface, api.MethodReportChat, "aa{sv}", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Access denied") {
		t.Errorf("uid %s reported: %v %s", strconv.Itoa(int(uid)), err, out)
	}
}

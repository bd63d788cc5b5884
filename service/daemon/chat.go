package daemon

import (
	"errors"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/godbus/dbus/v5"
	"go.uber.org/zap"

	"github.com/herdctl/herdctl/chat"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// The daemon's side of the chat bridge (herdctl-chat.service), which
// reaches the daemon like any member of group herdctl: the daemon writes
// the chat snapshot (the agents' bots and their tokens) root-only into
// its runtime directory, where systemd hands it to the bridge as a
// credential and herdctl-chat.path starts the bridge; it takes the
// bridge's reports for herdctlctl status. Nothing else of chat is here:
// the daemon links no chat library and never talks to Discord or Slack.

// writeChat writes the chat snapshot of agents when it changed, or
// removes it when no agent has chat (herdctl-chat.path then leaves the
// bridge stopped). A failure is logged: chat never stops the fleet.
func (d *Daemon) writeChat(agents map[string]*policy.Agent) {
	p := chat.SnapshotPath(d.Layout.RuntimeDir)
	b, any := chat.Encode(agents)
	if !any {
		if err := os.Remove(p); err == nil {
			d.Log.Info("no agent has chat: the chat snapshot is removed")
		} else if !errors.Is(err, os.ErrNotExist) {
			d.Log.Error("cannot remove the chat snapshot", zap.String("file", p), zap.Error(err))
		}
		return
	}
	if old, err := os.ReadFile(p); err == nil && string(old) == string(b) {
		return
	}
	if err := state.WriteFileAtomic(p, b, 0o600); err != nil {
		d.Log.Error("cannot write the chat snapshot: chat keeps its last one", zap.String("file", p), zap.Error(err))
		return
	}
	d.Log.Info("chat snapshot written", zap.String("file", p), zap.String("snapshot", chat.Fingerprint(b)))
}

// chatFingerprint is the fingerprint of the snapshot on disk, "" if none.
func (d *Daemon) chatFingerprint() string {
	b, err := os.ReadFile(chat.SnapshotPath(d.Layout.RuntimeDir))
	if err != nil {
		return ""
	}
	return chat.Fingerprint(b)
}

// chatCaller reports whether uid may report chat connectors: root and
// the bridge's own user.
func chatCaller(uid uint32) bool {
	if uid == 0 {
		return true
	}
	u, err := user.Lookup(chat.User)
	return err == nil && u.Uid == strconv.FormatUint(uint64(uid), 10)
}

// ReportChat takes the bridge's connectors into the ChatConnectors
// property and answers with the fingerprint of the current chat
// snapshot.
func (m *manager) ReportChat(sender dbus.Sender, connectors []api.Dict) (string, *dbus.Error) {
	uid, derr := m.b.caller(sender)
	if derr != nil {
		return "", derr
	}
	if !chatCaller(uid) {
		m.b.d.Log.Warn("refused a caller", zap.Uint32("uid", uid), zap.String("method", api.MethodReportChat))
		return "", dbusError(api.ErrAccessDenied, "uid %d may not report chat connectors: only %s does (herdctl-chat.service)", uid, chat.User)
	}
	if len(connectors) > api.MaxChatConnectors {
		return "", dbusError(api.ErrInvalidArgs, "%d connectors; at most %d", len(connectors), api.MaxChatConnectors)
	}
	now := m.b.d.now()
	out := make([]api.Dict, len(connectors))
	for i, d := range connectors {
		var c api.ChatConnector
		if err := api.Decode(d, &c); err != nil {
			return "", dbusError(api.ErrInvalidArgs, "connector %d: %v", i, err)
		}
		c.Reported = now.Truncate(time.Microsecond)
		c.LastError = clip(c.LastError, 300)
		c.Agent, c.Platform = clip(c.Agent, 64), clip(c.Platform, 16)
		out[i] = api.Encode(&c)
	}
	m.b.props.SetMust(api.Interface, api.PropChatConnectors, out)
	return m.b.d.chatFingerprint(), nil
}

// clip cuts s to at most n bytes.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

package journallog

import (
	"errors"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"
	"go.uber.org/zap"
)

func TestFields(t *testing.T) {
	var got map[string]string
	var msg string
	c := NewCore("herdctl-chat", func(m string, _ journal.Priority, vars map[string]string) error {
		msg, got = m, vars
		return nil
	})
	zap.New(c).With(zap.String("chat_agent", "gardener")).Warn("refused", zap.String("chat_user", "666"),
		zap.Strings("chat_jobs", []string{"a", "b"}), zap.Error(errors.New("boom")))
	want := map[string]string{"HERDCTL_CHAT_AGENT": "gardener", "HERDCTL_CHAT_USER": "666", "HERDCTL_CHAT_JOBS": "a,b",
		"HERDCTL_ERROR": "boom", "SYSLOG_IDENTIFIER": "herdctl-chat"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if msg != `refused chat_agent="gardener" chat_jobs="a,b" chat_user="666" error="boom"` {
		t.Errorf("MESSAGE %q", msg)
	}
}

// Package journal is the chat bridge's logger: a zap core that sends
// every entry to journald with each field as a journal field (key
// "chat_agent" becomes HERDCTL_CHAT_AGENT, "job" HERDCTL_JOB, as the
// daemon's own entries do), under SYSLOG_IDENTIFIER=herdctl-chat; or
// human lines on stderr when journald is not there. Field names are
// always the bridge's own constants: nothing a platform sends becomes
// one.
package journal

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Identifier is the bridge's SYSLOG_IDENTIFIER.
const Identifier = "herdctl-chat"

// New is the bridge's logger.
func New() *zap.Logger {
	if !journal.Enabled() {
		cfg := zap.NewDevelopmentEncoderConfig()
		return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(cfg), zapcore.Lock(os.Stderr), zapcore.InfoLevel))
	}
	return zap.New(&core{LevelEnabler: zapcore.InfoLevel, send: journal.Send})
}

type core struct {
	zapcore.LevelEnabler
	fields map[string]string
	send   func(msg string, p journal.Priority, vars map[string]string) error
}

func (c *core) With(fs []zapcore.Field) zapcore.Core {
	return &core{LevelEnabler: c.LevelEnabler, fields: c.add(fs), send: c.send}
}

func (c *core) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// Write sends one entry; its fields are also appended to MESSAGE as
// key=value, for journalctl's plain output.
func (c *core) Write(e zapcore.Entry, fs []zapcore.Field) error {
	vars := c.add(fs)
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	msg := e.Message
	for _, k := range keys {
		msg += " " + strings.ToLower(strings.TrimPrefix(k, "HERDCTL_")) + "=" + strconv.Quote(vars[k])
	}
	vars["SYSLOG_IDENTIFIER"] = Identifier
	return c.send(msg, priority(e.Level), vars)
}

func (c *core) Sync() error { return nil }

func (c *core) add(fs []zapcore.Field) map[string]string {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fs {
		f.AddTo(enc)
	}
	out := make(map[string]string, len(c.fields)+len(enc.Fields))
	for k, v := range c.fields {
		out[k] = v
	}
	for k, v := range enc.Fields {
		out[Key(k)] = value(v)
	}
	return out
}

// Key makes a zap key a journal field name: HERDCTL_ and the key in
// upper case, anything but letters and digits as underscores.
func Key(k string) string {
	b := []byte("HERDCTL_" + strings.ToUpper(k))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

func value(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case error:
		return x.Error()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = value(e)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

func priority(l zapcore.Level) journal.Priority {
	switch {
	case l >= zapcore.DPanicLevel:
		return journal.PriCrit
	case l >= zapcore.ErrorLevel:
		return journal.PriErr
	case l >= zapcore.WarnLevel:
		return journal.PriWarning
	case l >= zapcore.InfoLevel:
		return journal.PriInfo
	}
	return journal.PriDebug
}

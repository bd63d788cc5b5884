// Package journallog owns how herdctl's long-lived processes (the daemon,
// the chat bridge) log: a zap core that sends every entry to journald
// with each zap field as a journal field (key "agent" becomes
// HERDCTL_AGENT, "chat_user" HERDCTL_CHAT_USER), under the process's
// SYSLOG_IDENTIFIER; or human lines on stderr when journald is not
// there. The fields are also appended to MESSAGE as key=value, so that
// journalctl's plain output, which shows MESSAGE only, still says which
// job or agent is meant. Field names are always the callers' own
// constants: nothing an agent or a platform sends becomes one.
package journallog

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

// Send is what a Core hands each entry to: journal.Send, or a test's.
type Send func(msg string, p journal.Priority, vars map[string]string) error

// New is the logger of the process named identifier.
func New(identifier string) *zap.Logger {
	if !journal.Enabled() {
		cfg := zap.NewDevelopmentEncoderConfig()
		return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(cfg), zapcore.Lock(os.Stderr), zapcore.InfoLevel))
	}
	return zap.New(NewCore(identifier, journal.Send))
}

// NewCore is the journald core of New, sending through send.
func NewCore(identifier string, send Send) zapcore.Core {
	return &core{LevelEnabler: zapcore.InfoLevel, ident: identifier, send: send}
}

type core struct {
	zapcore.LevelEnabler
	ident  string
	fields map[string]string
	send   Send
}

func (c *core) With(fs []zapcore.Field) zapcore.Core {
	return &core{LevelEnabler: c.LevelEnabler, ident: c.ident, fields: c.add(fs), send: c.send}
}

func (c *core) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// Write sends one entry.
func (c *core) Write(e zapcore.Entry, fs []zapcore.Field) error {
	vars := c.add(fs)
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	msg := e.Message
	for _, k := range keys {
		msg += " " + ZapKey(k) + "=" + strconv.Quote(vars[k])
	}
	vars["SYSLOG_IDENTIFIER"] = c.ident
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
		out[Field(k)] = value(v)
	}
	return out
}

// Field is the journal field a zap key becomes: HERDCTL_ and the key in
// upper case, anything but letters and digits as underscores.
func Field(k string) string {
	b := []byte("HERDCTL_" + strings.ToUpper(k))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// ZapKey is the zap key that becomes the journal field f (HERDCTL_X).
func ZapKey(f string) string { return strings.ToLower(strings.TrimPrefix(f, "HERDCTL_")) }

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

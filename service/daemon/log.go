package daemon

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

// NewLogger is the daemon's logger: straight to journald with every zap
// field as a journal field (key "agent" becomes HERDCTL_AGENT, so
// journalctl HERDCTL_AGENT=x shows the daemon's entries about x beside
// the jobs'), or human lines on stderr when journald is not there.
func NewLogger() *zap.Logger {
	if !journal.Enabled() {
		cfg := zap.NewDevelopmentEncoderConfig()
		return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(cfg), zapcore.Lock(os.Stderr), zapcore.InfoLevel))
	}
	return zap.New(&journalCore{LevelEnabler: zapcore.InfoLevel})
}

type journalCore struct {
	zapcore.LevelEnabler
	fields map[string]string
}

func (c *journalCore) With(fs []zapcore.Field) zapcore.Core {
	return &journalCore{LevelEnabler: c.LevelEnabler, fields: c.add(fs)}
}

func (c *journalCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// Write sends one entry. The fields are journal fields; they are also
// appended to MESSAGE as key=value, so that journalctl's plain output,
// which shows MESSAGE only, still says which job or agent is meant.
func (c *journalCore) Write(e zapcore.Entry, fs []zapcore.Field) error {
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
	vars["SYSLOG_IDENTIFIER"] = "herdctl"
	return journal.Send(msg, priority(e.Level), vars)
}

func (c *journalCore) Sync() error { return nil }

func (c *journalCore) add(fs []zapcore.Field) map[string]string {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fs {
		f.AddTo(enc)
	}
	out := make(map[string]string, len(c.fields)+len(enc.Fields))
	for k, v := range c.fields {
		out[k] = v
	}
	for k, v := range enc.Fields {
		out[journalKey(k)] = toString(v)
	}
	return out
}

// journalKey makes a zap key a journal field name: upper case letters,
// digits and underscores, prefixed HERDCTL_.
func journalKey(k string) string {
	b := []byte("HERDCTL_" + strings.ToUpper(k))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case error:
		return x.Error()
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

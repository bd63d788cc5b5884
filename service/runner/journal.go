package runner

import (
	"encoding/json"
	"io"
	"sync"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/herdctl/herdctl/internal/nsjournal"
	"github.com/herdctl/herdctl/state"
)

// Priorities used for job entries (syslog levels).
const (
	PriErr     = 3
	PriWarning = 4
	PriInfo    = 6
)

// Sink receives journal entries: MESSAGE, a priority and fields.
type Sink interface {
	Send(message string, priority int, fields map[string]string) error
}

// NewSink writes to the jobs' journald namespace (state.JournalNamespace)
// through its native protocol when its socket is there (a job unit
// requires it), to the main journal when only that is (the runner run
// by hand), and JSON lines to fallback otherwise (unit tests, a shell).
func NewSink(fallback io.Writer) Sink {
	if w := nsjournal.New(state.JournalNamespace); w.Available() {
		return w
	}
	if journal.Enabled() {
		return journaldSink{}
	}
	return &JSONSink{W: fallback}
}

type journaldSink struct{}

func (journaldSink) Send(msg string, pri int, fields map[string]string) error {
	return journal.Send(msg, journal.Priority(pri), fields)
}

// JSONSink writes each entry as one JSON object per line, with MESSAGE and
// PRIORITY beside the fields, as `journalctl -o json` would show them.
type JSONSink struct {
	mu sync.Mutex
	W  io.Writer
}

// Send implements Sink.
func (s *JSONSink) Send(msg string, pri int, fields map[string]string) error {
	entry := make(map[string]string, len(fields)+2)
	for k, v := range fields {
		entry[k] = v
	}
	entry["MESSAGE"] = msg
	entry["PRIORITY"] = string(rune('0' + pri))
	b, err := json.Marshal(entry)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.W.Write(append(b, '\n'))
	return err
}

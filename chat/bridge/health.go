package bridge

import (
	"sync"
	"time"

	"github.com/herdctl/herdctl/service/api"
)

// Health is one connector's state, as herdctlctl status shows it: its
// connector updates the connection, the bridge the messages.
type Health struct {
	mu          sync.Mutex
	now         func() time.Time
	connected   bool
	since       time.Time
	lastMessage time.Time
	lastError   string
	lastErrorAt time.Time
}

// NewHealth is a Health that reads the time with now (time.Now if nil).
func NewHealth(now func() time.Time) *Health {
	if now == nil {
		now = time.Now
	}
	return &Health{now: now, since: now()}
}

// Connected records that the connector is connected (again).
func (h *Health) Connected() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.connected {
		h.connected, h.since = true, h.now()
	}
}

// Disconnected records a lost connection and why (err may be nil).
func (h *Health) Disconnected(err error) {
	h.mu.Lock()
	if h.connected {
		h.connected, h.since = false, h.now()
	}
	h.mu.Unlock()
	if err != nil {
		h.Error(err)
	}
}

// Error records an error. Its text must never hold a token or a
// message's text: connectors pass their own errors, not the platform's
// echo of a request.
func (h *Health) Error(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastError, h.lastErrorAt = err.Error(), h.now()
}

// Message records that a message for the agent arrived.
func (h *Health) Message() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastMessage = h.now()
}

// IsConnected reports whether the connector is connected.
func (h *Health) IsConnected() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.connected
}

// report is the connector's entry in a ReportChat.
func (h *Health) report(agent, platform string, pending int) api.ChatConnector {
	h.mu.Lock()
	defer h.mu.Unlock()
	return api.ChatConnector{Agent: agent, Platform: platform, Connected: h.connected, Since: h.since,
		LastMessage: h.lastMessage, LastError: h.lastError, LastErrorAt: h.lastErrorAt, Pending: pending}
}

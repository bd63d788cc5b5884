package api

import (
	"context"
	"time"

	"github.com/godbus/dbus/v5"
)

// The chat bridge's part of the interface: herdctl-chat.service reports
// its connectors with ReportChat (root and the bridge's user only), and
// anyone reads them in the ChatConnectors property (herdctlctl status).
const (
	MethodReportChat   = "ReportChat"
	PropChatConnectors = "ChatConnectors"
)

// MaxChatConnectors bounds one report.
const MaxChatConnectors = 1024

// ChatConnector is one bot of the chat bridge, as it last reported.
type ChatConnector struct {
	Agent    string `json:"agent"`
	Platform string `json:"platform"` // discord or slack
	// Connected says whether the bot is connected to its platform, and
	// Since since when it is (or is not).
	Connected bool      `json:"connected"`
	Since     time.Time `json:"since,omitzero"`
	// LastMessage is when the bot last received a message for its agent.
	LastMessage time.Time `json:"last_message,omitzero"`
	// LastError is its last error (never a token or a message's text),
	// and LastErrorAt when it happened.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// Pending counts the replies it owes: jobs still running or answers
	// not yet posted.
	Pending int `json:"pending,omitempty"`
	// Reported is when the daemon received this (set by the daemon).
	Reported time.Time `json:"reported,omitzero"`
}

// ReportChat calls ReportChat with the bridge's connectors and returns
// the fingerprint of the chat snapshot the daemon has written ("" for
// none): the bridge restarts to load a new one when it differs from its
// own.
func (c *Client) ReportChat(ctx context.Context, cs []ChatConnector) (string, error) {
	ds := make([]Dict, len(cs))
	for i := range cs {
		ds[i] = Encode(&cs[i])
	}
	var fingerprint string
	return fingerprint, c.call(ctx, MethodReportChat, &fingerprint, ds)
}

// ChatConnectors reads the ChatConnectors property: the chat bridge's
// connectors as it last reported them (none when it never did).
func (c *Client) ChatConnectors(ctx context.Context) ([]ChatConnector, error) {
	call := c.obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, Interface, PropChatConnectors)
	if call.Err != nil {
		return nil, callError(call.Err)
	}
	var v dbus.Variant
	if err := call.Store(&v); err != nil {
		return nil, err
	}
	ds, _ := v.Value().([]map[string]dbus.Variant)
	out := make([]ChatConnector, len(ds))
	for i, d := range ds {
		if err := Decode(d, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

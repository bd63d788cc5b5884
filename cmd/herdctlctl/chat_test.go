package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/herdctl/herdctl/service/api"
)

// chatStatus is healthyStatus with the chat bridge's bots: connected,
// disconnected with an error an agent's message could not write, and one
// whose bridge stopped reporting.
func chatStatus() statusView {
	v := healthyStatus()
	v.Running, v.Failures = nil, nil
	v.Chat = []api.ChatConnector{
		{Agent: "gardener", Platform: "discord", Connected: true, Since: ago(26 * time.Hour), LastMessage: ago(5 * time.Minute), Pending: 1, Reported: ago(10 * time.Second)},
		{Agent: "homelab", Platform: "slack", Since: ago(90 * time.Second), LastError: "connecting to Slack: dial tcp: lookup slack.com: no such host\x1b[2J",
			LastErrorAt: ago(30 * time.Second), Reported: ago(5 * time.Second)},
		{Agent: "homelab", Platform: "discord", Connected: true, Since: ago(3 * time.Hour), Reported: ago(10 * time.Minute)},
	}
	return v
}

func TestStatusChat(t *testing.T) {
	for _, colour := range []bool{false, true} {
		var b bytes.Buffer
		if err := printStatus(&b, colour, now, chatStatus()); err != nil {
			t.Fatal(err)
		}
		name := "print/status-chat.txt"
		if colour {
			name = "print/status-chat.colour.txt"
		}
		golden(t, name, b.Bytes())
		checkTerminalSafe(t, name, b.Bytes())
	}
}

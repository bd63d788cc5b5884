package main

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"github.com/herdctl/herdctl/service/api"
)

// chatStale is how old the chat bridge's last report may be before
// status says so: it reports every 15 seconds.
const chatStale = 2 * time.Minute

// loadChat reads the chat bridge's connectors (of agent only, when not
// ""); none when the daemon has no such property (an older one) or the
// bridge never reported.
func loadChat(ctx context.Context, cl *api.Client, agent string) []api.ChatConnector {
	cs, err := cl.ChatConnectors(ctx)
	if err != nil {
		return nil
	}
	var out []api.ChatConnector
	for _, c := range cs {
		if agent == "" || c.Agent == agent {
			out = append(out, c)
		}
	}
	return out
}

// writeChat writes status's chat section: each bot, whether it is
// connected and since when, its last message and its last error.
func writeChat(b *bytes.Buffer, colour bool, now time.Time, cs []api.ChatConnector) {
	if len(cs) == 0 {
		return
	}
	b.WriteString("\nChat (herdctl-chat.service):\n")
	var t table
	t.add("AGENT", "PLATFORM", "STATE", "SINCE", "LAST MESSAGE", "OWED", "LAST ERROR")
	for _, c := range cs {
		state := col{"connected", green}
		switch {
		case now.Sub(c.Reported) > chatStale:
			state = col{"stale: reported " + since(c.Reported, now), boldYel}
		case !c.Connected:
			state = col{"disconnected", boldRed}
		}
		lastErr := "-"
		if c.LastError != "" {
			lastErr = cell(c.LastError, freeTextWidth) + " (" + since(c.LastErrorAt, now) + ")"
		}
		t.addCols(col{text: c.Agent}, col{text: c.Platform}, state, col{text: since(c.Since, now)},
			col{text: lastRun(c.LastMessage, now)}, col{text: owed(c.Pending)}, col{text: lastErr})
	}
	t.write(b, colour)
}

// owed is a count of answers owed, "-" for none.
func owed(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

package slack

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/chat/bridge"
	"github.com/herdctl/herdctl/internal/testbed/fakeslack"
	"github.com/herdctl/herdctl/policy"
)

var app = fakeslack.App{AppToken: "xapp-1-A111-222-gardenerapptoken", BotToken: "xoxb-111-222-gardenerbottoken", BotUser: "UBOT111"}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func receive(t *testing.T, in chan bridge.Inbound) bridge.Inbound {
	t.Helper()
	select {
	case m := <-in:
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no message")
	}
	return bridge.Inbound{}
}

// TestSocketMode: apps.connections.open and hello, envelopes acked, a
// mention answered in its thread, a direct message, a reconnect when
// Slack asks and after a drop, a 429 waited out, the reaction that
// stands for typing.
func TestSocketMode(t *testing.T) {
	fake := fakeslack.New()
	fake.PingEvery = 200 * time.Millisecond
	fake.AddApp(app)
	fake.Start(t)
	c := New("gardener", &policy.SlackChat{API: fake.URL, AppToken: app.AppToken, BotToken: app.BotToken, Channels: []string{"C0123"}, Users: []string{"U0300"}},
		bridge.NewHealth(nil), zap.NewNop())
	in := make(chan bridge.Inbound, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, in) }()
	defer func() { cancel(); <-done }()
	eventually(t, "connected", func() bool { return c.Health().IsConnected() && fake.Connected(app) })

	ts, env := fake.Mention(app, "C0123", "U0300", "water the beans", "")
	m := receive(t, in)
	if !m.Mentioned || m.ID != ts || m.User != "U0300" || strings.TrimSpace(m.Text) != "water the beans" || m.ReplyIn.Thread != ts || m.Thread != "" {
		t.Errorf("mention: %+v", m)
	}
	eventually(t, "the ack", func() bool { return fake.Acked(env) })
	_, _ = fake.DM(app, "D0999", "U0300", "hello there")
	if m := receive(t, in); !m.DM || m.Text != "hello there" || m.ReplyIn.Thread != "" {
		t.Errorf("DM: %+v", m)
	}

	sockets := fake.Sockets()
	fake.Disconnect()
	eventually(t, "a new connection", func() bool { return fake.Sockets() > sockets && fake.Connected(app) })
	sockets = fake.Sockets()
	fake.Drop()
	eventually(t, "a connection after the drop", func() bool { return fake.Sockets() > sockets && fake.Connected(app) })
	ts2, _ := fake.Mention(app, "C0123", "U0300", "still there?", ts)
	if m := receive(t, in); m.ID != ts2 || m.Thread != ts || m.ReplyIn.Thread != ts {
		t.Errorf("in the thread: %+v", m)
	}

	to := m.ReplyIn
	if err := c.Typing(context.Background(), to, ts); err != nil {
		t.Fatal(err)
	}
	fake.RateLimit(1, 1)
	start := time.Now()
	msg, err := c.Post(context.Background(), to, ts, c.Escape("<!channel> done & dusted"))
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < time.Second {
		t.Error("Retry-After was not waited out")
	}
	// An edit is chat.update of the posted message, after a 429 too.
	fake.RateLimit(1, 1)
	if err := c.Edit(context.Background(), to, msg, c.Escape("<@U0300> edited")); err != nil {
		t.Fatal(err)
	}
	if us := fake.Updates(); len(us) != 1 || us[0].TS != msg || us[0].Text != "&lt;@U0300&gt; edited" || us[0].Channel != "C0123" {
		t.Errorf("updates: %+v", us)
	}
	// A long answer as a file, in the thread.
	if _, err := c.Upload(context.Background(), to, ts, "the start", "answer.md", "# all of it\n"); err != nil {
		t.Fatal(err)
	}
	if us := fake.Uploads(); len(us) != 1 || us[0].Channel != "C0123" || us[0].ThreadTS != ts || us[0].Name != "answer.md" || us[0].Content != "# all of it\n" || us[0].Comment != "the start" {
		t.Errorf("uploads: %+v", us)
	}
	c.DoneTyping(context.Background(), to, ts)
	ps := fake.Posts()
	if len(ps) != 1 || ps[0].Text != "&lt;!channel&gt; done &amp; dusted" || ps[0].ThreadTS != ts || ps[0].Channel != "C0123" {
		t.Errorf("posts: %+v", ps)
	}
	if r := fake.Reactions(); len(r) != 2 || !strings.HasPrefix(r[0], "reactions.add "+WorkingReaction) || !strings.HasPrefix(r[1], "reactions.remove") {
		t.Errorf("reactions: %v", r)
	}
}

// TestRevokedToken: a bot token Slack refuses fails Run, without the
// token in the error.
func TestRevokedToken(t *testing.T) {
	fake := fakeslack.New()
	fake.Start(t)
	c := New("gardener", &policy.SlackChat{API: fake.URL, AppToken: "xapp-1-nope", BotToken: "xoxb-nope-secret", Users: []string{"U1"}},
		bridge.NewHealth(nil), zap.NewNop())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Run(ctx, make(chan bridge.Inbound)); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Run: %v", err)
	}
}

func TestScrub(t *testing.T) {
	err := scrub(errors.New(`dial "wss://wss-primary.slack.com/link/?ticket=abc-123&app_id=A1": refused`))
	if err.Error() != `dial "wss://wss-primary.slack.com/link/?ticket=…&app_id=A1": refused` {
		t.Errorf("%v", err)
	}
}

// TestAutoChannel: in an auto channel a message without a mention comes
// to the bridge once (answered in its thread), one with a mention once
// too (as app_mention); a channel that is not auto gives nothing.
func TestAutoChannel(t *testing.T) {
	fake := fakeslack.New()
	fake.AddApp(app)
	fake.Start(t)
	c := New("gardener", &policy.SlackChat{API: fake.URL, AppToken: app.AppToken, BotToken: app.BotToken, Channels: []string{"C0123", "C0124"},
		AutoChannels: []string{"C0123"}, Users: []string{"U0300"}}, bridge.NewHealth(nil), zap.NewNop())
	in := make(chan bridge.Inbound, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, in) }()
	defer func() { cancel(); <-done }()
	eventually(t, "connected", func() bool { return c.Health().IsConnected() && fake.Connected(app) })

	fake.Message(app, "C0124", "U0300", "not auto here", "")
	ts, _ := fake.Message(app, "C0123", "U0300", "no mention needed", "")
	m := receive(t, in)
	if m.Mentioned || m.ID != ts || m.Channel != "C0123" || m.Text != "no mention needed" || m.ReplyIn.Thread != ts {
		t.Errorf("auto: %+v", m)
	}
	if v, _ := c.Rules().Route(m); v != bridge.Accept {
		t.Errorf("routed %v", v)
	}
	ts, _ = fake.Message(app, "C0123", "U0300", "<@"+app.BotUser+"> with a mention", "")
	if m := receive(t, in); !m.Mentioned || m.ID != ts {
		t.Errorf("mention in an auto channel: %+v", m)
	}
	select {
	case m := <-in:
		t.Errorf("a second delivery: %+v", m)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestSlackAttachments: a mention's shared files come as attachments,
// fetched with the bot token.
func TestSlackAttachments(t *testing.T) {
	fake := fakeslack.New()
	fake.AddApp(app)
	fake.Start(t)
	c := New("gardener", &policy.SlackChat{API: fake.URL, AppToken: app.AppToken, BotToken: app.BotToken, Channels: []string{"C0123"}, Users: []string{"U0300"}},
		bridge.NewHealth(nil), zap.NewNop())
	in := make(chan bridge.Inbound, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, in) }()
	defer func() { cancel(); <-done }()
	eventually(t, "connected", func() bool { return c.Health().IsConnected() && fake.Connected(app) })
	fake.MentionFiles(app, "C0123", "U0300", "see", []fakeslack.File{{Name: "../x.txt", Content: "hello"}})
	m := receive(t, in)
	if len(m.Attachments) != 1 || m.Attachments[0].Name != "../x.txt" || m.Attachments[0].Size != 5 {
		t.Fatalf("attachments: %+v", m.Attachments)
	}
	var b strings.Builder
	if err := c.Fetch(context.Background(), m.Attachments[0], &b); err != nil || b.String() != "hello" {
		t.Errorf("fetch: %q %v", b.String(), err)
	}
}

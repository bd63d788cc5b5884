package bridge

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herdctl/herdctl/service/api"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		slash, text, want string
	}{
		{"", "help", "help"},
		{"", "HELP", "help"},
		{"", "/new", "new"},
		{"", "reset", "new"},
		{"", "!retry", "retry"},
		{"usage", "", "usage"},
		{"", "sessions", "sessions"},
		{"", "new ideas for the garden", ""},
		{"", "help me water the beans", ""},
		{"", "helpme", ""},
		{"", "status\nplease", ""},
		{"reset", "", "new"},
		{"rm", "", ""},
	}
	for _, c := range cases {
		cmd, ok := parseCommand(c.slash, c.text)
		if got := cmd.name; ok != (c.want != "") || got != c.want {
			t.Errorf("parseCommand(%q, %q) = %q, %v; want %q", c.slash, c.text, got, ok, c.want)
		}
	}
}

// TestHelpListsEveryCommand: help names each command, and starts no job.
func TestHelpListsEveryCommand(t *testing.T) {
	r := newRig(t, "", nil)
	r.say("m1", "300", "200", "help")
	p := r.posts(1)[0]
	for _, c := range Commands() {
		if !strings.Contains(p.text, "`"+c.Name+"`") {
			t.Errorf("help lacks %s: %q", c.Name, p.text)
		}
	}
	if p.replyTo != "m1" || len(r.d.triggered()) != 0 {
		t.Errorf("help: %+v, triggers %v", p, r.d.triggered())
	}
}

// TestNewAndRetry: new makes the next message start a fresh session
// while a plain one continues; retry runs the last prompt again, in the
// conversation's session; no command is ever a prompt.
func TestNewAndRetry(t *testing.T) {
	r := newRig(t, "", nil)
	r.say("m1", "300", "200", "water the beans")
	r.eventually("a trigger", func() bool { return len(r.d.triggered()) == 1 })
	r.d.finish("20260101-000000-000001", api.StatusCompleted, "watered", "", "11111111-d9cb-469f-a165-70867728950e")
	r.posts(1)
	r.eventually("the reply done", func() bool { return len(r.b.Store.Pending()) == 0 })

	r.say("m2", "300", "200", "retry")
	r.eventually("a retry", func() bool { return len(r.d.triggered()) == 2 })
	if tr := r.d.triggered()[1]; tr.prompt != "water the beans" || tr.o.Resume != "11111111-d9cb-469f-a165-70867728950e" {
		t.Errorf("retry: %+v", tr)
	}
	r.d.finish("20260101-000000-000002", api.StatusCompleted, "watered again", "", "11111111-d9cb-469f-a165-70867728950e")
	r.posts(2)
	r.eventually("the reply done", func() bool { return len(r.b.Store.Pending()) == 0 })

	r.say("m3", "300", "200", "/reset")
	if p := r.posts(3)[2]; !strings.Contains(p.text, "fresh session") {
		t.Errorf("new: %q", p.text)
	}
	r.say("m4", "300", "200", "and the peas")
	r.eventually("a third trigger", func() bool { return len(r.d.triggered()) == 3 })
	if tr := r.d.triggered()[2]; tr.o.Resume != "" {
		t.Errorf("after new, the message resumes %q", tr.o.Resume)
	}
	for _, tr := range r.d.triggered() {
		for _, w := range []string{"retry", "reset", "new", "help"} {
			if strings.EqualFold(strings.Trim(tr.prompt, "/"), w) {
				t.Errorf("a command became a prompt: %+v", tr)
			}
		}
	}
	// retry in a conversation that never asked.
	r.say("m5", "300", "201", "retry")
}

// TestRetryNothing: retry with no earlier prompt says so.
func TestRetryNothing(t *testing.T) {
	r := newRig(t, "", nil)
	r.say("m1", "300", "200", "retry")
	if p := r.posts(1)[0]; !strings.Contains(p.text, "Nothing to retry") || len(r.d.triggered()) != 0 {
		t.Errorf("retry: %q", p.text)
	}
}

// TestUsageAndSessions: usage answers in dollars as herdctlctl cost
// does, for the conversation's session and the agent's day; sessions
// lists the latest and marks this conversation's.
func TestUsageAndSessions(t *testing.T) {
	d := newFakeDaemon()
	now := time.Date(2026, 12, 6, 15, 0, 0, 0, time.Local)
	sess := "22222222-d9cb-469f-a165-70867728950e"
	d.sessions = []api.Session{
		{ID: sess, Agent: "gardener", Jobs: 2, InputTokens: 1200, OutputTokens: 340, CostUSD: 0.01234, LastStarted: now.Add(-time.Hour)},
		{ID: "33333333-d9cb-469f-a165-70867728950e", Agent: "gardener", Jobs: 1, CostUSD: 0.5, LastStarted: now.Add(-50 * time.Hour)},
	}
	d.days = []api.CostDay{{Agent: "gardener", Day: "2026-12-05", CostUSD: 9}, {Agent: "gardener", Day: "2026-12-06", Jobs: 3, InputTokens: 5000, OutputTokens: 600, CostUSD: 0.0456}}
	r := newRigWith(t, "", d, func(b *Bridge) { b.Now = func() time.Time { return now } })
	r.b.Store.Done("x", sess, now, Conversation{Platform: Discord, Agent: "gardener", Channel: "200"})
	r.say("m1", "300", "200", "usage")
	p := r.posts(1)[0]
	for _, want := range []string{"session 22222222", "$0.0123", "2 job(s)", "1200 tokens in, 340 out", "gardener today: $0.0456, 3 job(s)"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("usage lacks %q: %q", want, p.text)
		}
	}
	d.mu.Lock()
	f := d.costFilters[0]
	d.mu.Unlock()
	if f.Agent != "gardener" || !f.Since.Equal(time.Date(2026, 12, 6, 0, 0, 0, 0, time.Local)) {
		t.Errorf("cost asked with %+v", f)
	}
	r.say("m2", "300", "200", "sessions")
	p = r.posts(2)[1]
	if !strings.Contains(p.text, "`22222222` 2 job(s), $0.0123, last 1h ago ← this conversation") || !strings.Contains(p.text, "`33333333` 1 job(s), $0.5000, last 2d ago\n") && !strings.HasSuffix(p.text, "`33333333` 1 job(s), $0.5000, last 2d ago") {
		t.Errorf("sessions: %q", p.text)
	}
	if len(d.triggered()) != 0 {
		t.Errorf("a command started a job: %+v", d.triggered())
	}
}

// TestCommandFromStranger (attack): a stranger's command, in the
// agent's channel or by DM, does nothing: no answer, no session reset,
// no retry, no cost told.
func TestCommandFromStranger(t *testing.T) {
	d := newFakeDaemon()
	r := newRig(t, "", d)
	conv := Conversation{Platform: Discord, Agent: "gardener", Channel: "200"}
	r.b.Store.Done("x", "44444444-d9cb-469f-a165-70867728950e", time.Now(), conv)
	r.b.Store.Started("20260101-000000-000009", time.Now(), conv)
	for _, w := range []string{"new", "retry", "usage", "sessions", "status", "cancel", "help"} {
		r.say("s"+w, "666", "200", w)
		r.c.in <- Inbound{Conversation: Conversation{Platform: Discord, Agent: "gardener", Channel: "900"}, ID: "d" + w, User: "666", DM: true, Text: w}
		r.c.in <- Inbound{Conversation: conv, ID: "x" + w, Guild: "100", User: "666", Mentioned: true, Command: w}
	}
	r.eventually("the refusals logged", func() bool { return r.logs.FilterField(zapString("chat_event", "refused")).Len() == 21 })
	time.Sleep(50 * time.Millisecond)
	if len(r.c.posted()) != 0 || len(d.triggered()) != 0 {
		t.Errorf("a stranger got posts %+v, triggers %+v", r.c.posted(), d.triggered())
	}
	if r.b.Store.Session(conv) != "44444444-d9cb-469f-a165-70867728950e" {
		t.Error("a stranger reset the session")
	}
}

// TestAutoChannelPrompt: in an auto channel a user's message without a
// mention is a prompt; a stranger's starts nothing and is not even
// logged as addressed to the bot.
func TestAutoChannelPrompt(t *testing.T) {
	r := newRigWith(t, "", nil, func(b *Bridge) {
		rules := gardenerRules
		rules.Channels = set([]string{"200", "250"})
		rules.Auto = set([]string{"250"})
		b.Connectors[0].(*fakeConn).rules = rules
	})
	r.c.in <- Inbound{Conversation: Conversation{Platform: Discord, Agent: "gardener", Channel: "250"}, ID: "m1", Guild: "100", User: "666", Text: "chatter"}
	r.c.in <- Inbound{Conversation: Conversation{Platform: Discord, Agent: "gardener", Channel: "250"}, ID: "m2", Guild: "100", User: "300", Text: "water the beans"}
	r.eventually("a trigger", func() bool { return len(r.d.triggered()) == 1 })
	if tr := r.d.triggered()[0]; tr.prompt != "water the beans" {
		t.Errorf("trigger: %+v", tr)
	}
	time.Sleep(50 * time.Millisecond)
	if len(r.d.triggered()) != 1 || r.logs.FilterField(zapString("chat_event", "refused")).Len() != 0 {
		t.Errorf("the stranger's chatter: triggers %+v", r.d.triggered())
	}
}

// TestSessionExpiry: a conversation idle longer than session_expiry
// starts a fresh session, and its answer says so; one idle less
// continues.
func TestSessionExpiry(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r := newRigWith(t, "", nil, func(b *Bridge) {
		b.Now = clock
		rules := gardenerRules
		rules.Expiry = 2 * time.Hour
		b.Connectors[0].(*fakeConn).rules = rules
	})
	conv := Conversation{Platform: Discord, Agent: "gardener", Channel: "200"}
	r.b.Store.Done("x", "55555555-d9cb-469f-a165-70867728950e", now.Add(-90*time.Minute), conv)
	r.say("m1", "300", "200", "still there?")
	r.eventually("a trigger", func() bool { return len(r.d.triggered()) == 1 })
	if tr := r.d.triggered()[0]; tr.o.Resume != "55555555-d9cb-469f-a165-70867728950e" {
		t.Errorf("within the expiry: resumes %q", tr.o.Resume)
	}
	r.d.finish("20260101-000000-000001", api.StatusCompleted, "yes", "", "55555555-d9cb-469f-a165-70867728950e")
	if p := r.posts(1)[0]; p.text != "yes" {
		t.Errorf("answer: %q", p.text)
	}
	r.eventually("the reply done", func() bool { return len(r.b.Store.Pending()) == 0 })
	mu.Lock()
	now = now.Add(3 * time.Hour)
	mu.Unlock()
	r.say("m2", "300", "200", "and now?")
	r.eventually("a second trigger", func() bool { return len(r.d.triggered()) == 2 })
	if tr := r.d.triggered()[1]; tr.o.Resume != "" {
		t.Errorf("after the expiry: resumes %q", tr.o.Resume)
	}
	if s := r.b.Store.Session(conv); s != "" {
		t.Errorf("the expired session is still the conversation's: %q", s)
	}
	r.d.finish("20260101-000000-000002", api.StatusCompleted, "fresh", "", "66666666-d9cb-469f-a165-70867728950e")
	if p := r.posts(2)[1]; p.text != "(A new session: this conversation was idle for more than 2h.)\nfresh" {
		t.Errorf("answer after the expiry: %q", p.text)
	}
}

// TestNewWhileAJobRuns (the red team's chat C3): new, sent while a job
// of the conversation still runs, starts a fresh session for the next
// message even when that job ends first: its end used to record its
// session for the conversation again, so the next message continued the
// old session (with everything said in it) after all.
func TestNewWhileAJobRuns(t *testing.T) {
	r := newRig(t, "", nil)
	const old = "11111111-d9cb-469f-a165-70867728950e"
	r.say("m1", "300", "200", "remember the code 4711")
	r.eventually("a trigger", func() bool { return len(r.d.triggered()) == 1 })
	r.d.finish("20260101-000000-000001", api.StatusCompleted, "noted", "", old)
	r.eventually("the reply done", func() bool { return len(r.b.Store.Pending()) == 0 })

	r.say("m2", "300", "200", "and what else")
	r.eventually("a second trigger", func() bool { return len(r.d.triggered()) == 2 })
	r.say("m3", "300", "200", "new")
	r.eventually("the fresh session said", func() bool {
		for _, p := range r.c.posted() {
			if strings.Contains(p.text, "fresh session") {
				return true
			}
		}
		return false
	})
	r.d.finish("20260101-000000-000002", api.StatusCompleted, "more", "", old)
	r.eventually("the reply done", func() bool { return len(r.b.Store.Pending()) == 0 })

	r.say("m4", "300", "200", "what was the code?")
	r.eventually("a third trigger", func() bool { return len(r.d.triggered()) == 3 })
	if tr := r.d.triggered()[2]; tr.o.Resume != "" {
		t.Errorf("after new, the next message resumes %q", tr.o.Resume)
	}
}

// TestUnknownSlashCommand (attack): a slash command the bridge does not
// know (one left registered by something else) starts no job: before,
// it started one with an empty prompt.
func TestUnknownSlashCommand(t *testing.T) {
	d := newFakeDaemon()
	r := newRig(t, "", d)
	conv := Conversation{Platform: Discord, Agent: "gardener", Channel: "200"}
	r.c.in <- Inbound{Conversation: conv, ReplyIn: conv, ID: "x1", Guild: "100", User: "300", Mentioned: true, Command: "deploy"}
	if ps := r.posts(1); !strings.Contains(ps[0].text, "Unknown command") {
		t.Errorf("the answer: %q", ps[0].text)
	}
	if len(d.triggered()) != 0 {
		t.Errorf("an unknown slash command started a job: %+v", d.triggered())
	}
}

// TestRefusalsLogBounded (attack): strangers' messages, as many as they
// like, put at most maxRefusalLogs lines a minute into the journal; the
// next line logged counts the ones that were not.
func TestRefusalsLogBounded(t *testing.T) {
	d := newFakeDaemon()
	r := newRig(t, "", d)
	for i := 0; i < 3*maxRefusalLogs; i++ {
		r.say(fmt.Sprintf("s%d", i), "666", "200", "hello")
	}
	r.say("last", "300", "200", "status")
	r.posts(1) // the listed user's command: every stranger's message was handled before it
	if n := r.logs.FilterField(zapString("chat_event", "refused")).Len(); n != maxRefusalLogs {
		t.Errorf("%d refusals logged, want %d", n, maxRefusalLogs)
	}
	var lr refusalLog
	now := time.Now()
	for i := 0; i < maxRefusalLogs+5; i++ {
		lr.take(now)
	}
	if unsaid, ok := lr.take(now.Add(time.Minute)); !ok || unsaid != 5 {
		t.Errorf("a minute later: %d unsaid, %v", unsaid, ok)
	}
}

package bridge

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/service/api"
)

func TestRoute(t *testing.T) {
	r := gardenerRules
	r.Channels = set([]string{"200", "250"})
	r.Auto = set([]string{"250", "260"})
	base := Inbound{Conversation: Conversation{Platform: Discord, Agent: "gardener", Channel: "200"}, Guild: "100", User: "300", Mentioned: true}
	with := func(f func(m *Inbound)) Inbound { m := base; f(&m); return m }
	cases := []struct {
		name string
		m    Inbound
		want Verdict
	}{
		{"a mention by a user in a channel", base, Accept},
		{"no mention", with(func(m *Inbound) { m.Mentioned = false }), Ignore},
		{"a bot", with(func(m *Inbound) { m.FromBot = true }), Ignore},
		{"a stranger", with(func(m *Inbound) { m.User = "666" }), Refuse},
		{"another channel", with(func(m *Inbound) { m.Channel = "201" }), Refuse},
		{"another server with the same channel id", with(func(m *Inbound) { m.Guild = "101" }), Refuse},
		{"a thread of the channel", with(func(m *Inbound) { m.Channel, m.Parent = "777", "200" }), Accept},
		{"a thread of another channel", with(func(m *Inbound) { m.Channel, m.Parent = "777", "201" }), Refuse},
		{"a DM from the user", with(func(m *Inbound) { m.DM, m.Guild, m.Channel, m.Mentioned = true, "", "900", false }), Accept},
		{"a DM from a stranger", with(func(m *Inbound) { m.DM, m.Guild, m.User = true, "", "666" }), Refuse},
		{"no mention in an auto channel", with(func(m *Inbound) { m.Channel, m.Mentioned = "250", false }), Accept},
		{"no mention in a thread of an auto channel", with(func(m *Inbound) { m.Channel, m.Parent, m.Mentioned = "778", "250", false }), Accept},
		{"a stranger in an auto channel", with(func(m *Inbound) { m.Channel, m.Mentioned, m.User = "250", false, "666" }), Ignore},
		{"a stranger mentioning in an auto channel", with(func(m *Inbound) { m.Channel, m.User = "250", "666" }), Refuse},
		{"an auto channel of another server", with(func(m *Inbound) { m.Channel, m.Mentioned, m.Guild = "250", false, "101" }), Ignore},
		{"auto but not a channel of the bot", with(func(m *Inbound) { m.Channel, m.Mentioned = "260", false }), Ignore},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, reason := r.Route(c.m); got != c.want {
				t.Errorf("got %v (%s), want %v", got, reason, c.want)
			}
		})
	}
	// Slack has no server: channels and users decide.
	s := Rules{Channels: set([]string{"C1"}), Users: set([]string{"U1"})}
	if v, _ := s.Route(Inbound{Conversation: Conversation{Channel: "C1"}, User: "U1", Mentioned: true}); v != Accept {
		t.Error("Slack mention refused")
	}
}

// TestMessageToAnswer: a mention becomes a job with the cleaned text as
// its prompt; its answer comes back split, the first part as a reply to
// the message; the next message continues the job's session.
func TestMessageToAnswer(t *testing.T) {
	r := newRig(t, "", nil)
	r.say("m1", "300", "200", "  water the \x1b[31mtomatoes\x00 ")
	r.eventually("a trigger", func() bool { return len(r.d.triggered()) == 1 })
	tr := r.d.triggered()[0]
	if tr.agent != "gardener" || tr.prompt != "water the [31mtomatoes" || tr.o.Resume != "" || tr.o.Queue {
		t.Fatalf("trigger: %+v", tr)
	}
	r.eventually("typing", func() bool { r.c.mu.Lock(); defer r.c.mu.Unlock(); return r.c.typing > 0 })
	answer := "Done.\n```sh\n" + strings.Repeat("echo watering\n", 300) + "```\nBye."
	r.d.finish("20260101-000000-000001", api.StatusCompleted, answer, "", "0f8fad5b-d9cb-469f-a165-70867728950e")
	ps := r.posts(3)
	if ps[0].replyTo != "m1" || ps[1].replyTo != "" || ps[0].to.Channel != "200" {
		t.Errorf("reply targets: %+v %+v", ps[0], ps[1])
	}
	var all string
	for _, p := range ps {
		if len(p.text) > 2000 || strings.Count(p.text, "```")%2 != 0 {
			t.Errorf("part of %d bytes, fences %d", len(p.text), strings.Count(p.text, "```"))
		}
		all += p.text
	}
	if strings.Count(all, "echo watering") != 300 || !strings.HasSuffix(all, "Bye.") {
		t.Errorf("answer lost in splitting")
	}
	r.eventually("the reply done", func() bool { return len(r.b.Store.Pending()) == 0 })
	r.say("m2", "300", "200", "and the beans")
	r.eventually("a second trigger", func() bool { return len(r.d.triggered()) == 2 })
	if got := r.d.triggered()[1].o.Resume; got != "0f8fad5b-d9cb-469f-a165-70867728950e" {
		t.Errorf("second message resumes %q", got)
	}
}

// TestStrangersAndElsewhere: a stranger, another channel and another
// server start nothing and get no answer; each is logged without its
// text.
func TestStrangersAndElsewhere(t *testing.T) {
	r := newRig(t, "", nil)
	r.say("m1", "666", "200", "secret plan")
	r.say("m2", "300", "201", "secret plan")
	r.c.in <- Inbound{Conversation: Conversation{Platform: Discord, Agent: "gardener", Channel: "200"}, ID: "m3", Guild: "999", User: "300", Mentioned: true, Text: "secret plan"}
	r.eventually("three refusals logged", func() bool { return r.logs.FilterField(zapString("chat_event", "refused")).Len() == 3 })
	time.Sleep(50 * time.Millisecond)
	if len(r.d.triggered()) != 0 || len(r.c.posted()) != 0 {
		t.Errorf("triggers %v, posts %v", r.d.triggered(), r.c.posted())
	}
	for _, e := range r.logs.All() {
		if strings.Contains(e.Message, "secret") || strings.Contains(strings.Join(stringValues(e.ContextMap()), " "), "secret") {
			t.Errorf("the text is logged: %+v", e)
		}
	}
}

// TestBusy: a busy agent answers that it is busy, or queues.
func TestBusy(t *testing.T) {
	d := newFakeDaemon()
	d.busy = true
	r := newRig(t, "", d)
	r.say("m1", "300", "200", "hello")
	if ps := r.posts(1); !strings.Contains(ps[0].text, "busy") || len(d.triggered()) != 0 {
		t.Errorf("busy reply: %+v", ps)
	}
	r.b.Busy = map[string]string{"gardener": "queue"}
	r.say("m2", "300", "200", "hello")
	r.eventually("a queued trigger", func() bool { return len(d.triggered()) == 1 })
	if ps := r.posts(2); !strings.Contains(ps[1].text, "Queued") || !d.triggered()[0].o.Queue {
		t.Errorf("queued: %+v %+v", ps, d.triggered())
	}
}

// TestCommands: cancel stops this conversation's job, status says what
// runs; a job that failed answers with one line.
func TestCommands(t *testing.T) {
	r := newRig(t, "", nil)
	r.say("m1", "300", "200", "long job")
	r.eventually("a trigger", func() bool { return len(r.d.triggered()) == 1 })
	r.say("m2", "300", "200", "Status")
	if ps := r.posts(1); !strings.Contains(ps[0].text, "gardener: 1 of 1 jobs running") || !strings.Contains(ps[0].text, "1 answer(s) owed") {
		t.Errorf("status: %q", ps[0].text)
	}
	r.say("m3", "300", "200", "cancel")
	r.posts(2)
	r.d.mu.Lock()
	cancelled := append([]string(nil), r.d.cancelled...)
	r.d.mu.Unlock()
	if len(cancelled) != 1 || cancelled[0] != "20260101-000000-000001" {
		t.Errorf("cancelled %v", cancelled)
	}
	r.d.finish("20260101-000000-000001", api.StatusCancelled, "", "cancelled by\nrequest", "")
	ps := r.posts(3)
	if got := ps[2].text; got != "✗ Cancelled (job 20260101-000000-000001): cancelled by request" || ps[2].replyTo != "m1" {
		t.Errorf("cancel's answer: %q", got)
	}
	r.say("m4", "300", "200", "cancel")
	if ps := r.posts(4); ps[3].text != "Nothing of this conversation is running." {
		t.Errorf("second cancel: %q", ps[3].text)
	}
}

// TestTooLong: an oversized message starts nothing and is answered so.
func TestTooLong(t *testing.T) {
	r := newRig(t, "", nil)
	r.say("m1", "300", "200", strings.Repeat("A", MaxPrompt+1))
	if ps := r.posts(1); !strings.Contains(ps[0].text, "Nothing was started") || len(r.d.triggered()) != 0 {
		t.Errorf("%+v", ps)
	}
}

// TestRestartOwesNothing: a bridge stopped while a job runs posts the
// answer when it starts again, from its state file alone; one stopped in
// the middle of an answer posts only the rest.
func TestRestartOwesNothing(t *testing.T) {
	dir := t.TempDir()
	d := newFakeDaemon()
	r := newRig(t, dir, d)
	r.say("m1", "300", "200", "hello")
	r.eventually("a pending reply", func() bool { return len(r.b.Store.Pending()) == 1 })
	r.stop()
	// Meanwhile the job ends (no one hears the signal).
	d.mu.Lock()
	j := d.jobs["20260101-000000-000001"]
	j.Status, j.Result = api.StatusCompleted, "part one\n\n"+strings.Repeat("x", 1990)+"\n\npart three"
	d.mu.Unlock()
	// The first post fails: the answer is owed still.
	r2 := &rig{t: t, d: d, dir: dir}
	st, err := OpenStore(dir + "/state.json")
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeConn(Discord, "gardener", gardenerRules)
	c.failPosts = 1
	r2.c = c
	r2.b = &Bridge{Daemon: d, Store: st, Connectors: []Connector{c}, Fingerprint: "fp", Tick: 10 * time.Millisecond, PollEvery: 20 * time.Millisecond, ReportEvery: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r2.b.Run(ctx) }()
	ps := r2.posts(3)
	cancel()
	<-done
	if ps[0].text != "part one" || ps[0].replyTo != "m1" || ps[2].text != "part three" {
		t.Errorf("posts after the restart: %+v", ps)
	}
	if len(st.Pending()) != 0 {
		t.Errorf("still owed: %+v", st.Pending())
	}
	// A state file that says one part was sent: only the rest goes.
	st.Add(Pending{Job: "20260101-000000-000001", Conversation: Conversation{Platform: Discord, Agent: "gardener", Channel: "200"},
		ReplyIn: Conversation{Platform: Discord, Agent: "gardener", Channel: "200"}, ReplyTo: "m1", Sent: 2})
	c3 := newFakeConn(Discord, "gardener", gardenerRules)
	b3 := &Bridge{Daemon: d, Store: st, Connectors: []Connector{c3}, Fingerprint: "fp", Tick: 10 * time.Millisecond, PollEvery: 20 * time.Millisecond, ReportEvery: time.Hour}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- b3.Run(ctx) }()
	r3 := &rig{t: t, c: c3}
	ps = r3.posts(1)
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	if len(c3.posted()) != 1 || ps[0].text != "part three" {
		t.Errorf("resumed answer: %+v", c3.posted())
	}
	if b, _ := os.ReadFile(dir + "/state.json"); strings.Contains(string(b), "part") {
		t.Errorf("the state file holds answers: %s", b)
	}
}

// TestSnapshotChanged: after a reload, a daemon whose chat snapshot
// differs ends the bridge so that it restarts with the new one.
func TestSnapshotChanged(t *testing.T) {
	d := newFakeDaemon()
	r := newRig(t, "", d)
	r.eventually("a report", func() bool { d.mu.Lock(); defer d.mu.Unlock(); return len(d.reports) > 0 })
	d.mu.Lock()
	d.fingerprint = ""
	d.mu.Unlock()
	d.events <- Event{Kind: Reloaded}
	select {
	case err := <-r.result:
		var sc *ErrSnapshotChanged
		if !errors.As(err, &sc) || sc.Fingerprint != "" {
			t.Errorf("Run: %v", err)
		}
		r.once.Do(r.cancel) // stopped already
	case <-time.After(5 * time.Second):
		t.Fatal("the bridge ran on")
	}
}

func stringValues(m map[string]any) []string {
	var out []string
	for _, v := range m {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// TestLongFenceAnswer (the red team's chat C2, through the bridge): an
// answer of 12 KB that opens a code block with a fence line of nearly a
// message's length is posted as a handful of messages, not thousands.
func TestLongFenceAnswer(t *testing.T) {
	r := newRig(t, "", nil)
	r.say("m1", "300", "200", "answer with a block")
	r.eventually("a trigger", func() bool { return len(r.d.triggered()) == 1 })
	answer := "```" + strings.Repeat("a", 1990) + "\n" + strings.Repeat("b\n", 5000) + "```"
	r.d.finish("20260101-000000-000001", api.StatusCompleted, answer, "", "11111111-d9cb-469f-a165-70867728950e")
	r.eventually("the reply done", func() bool { return len(r.b.Store.Pending()) == 0 })
	if n := len(r.c.posted()); n > 10 {
		t.Errorf("a 12 KB answer was posted as %d messages", n)
	}
}

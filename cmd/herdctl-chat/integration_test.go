package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/herdctl/herdctl/chat"
	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/internal/testbed/fakediscord"
	"github.com/herdctl/herdctl/internal/testbed/fakeslack"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
)

// fakeManager is herdctl's daemon as the bridge sees it on D-Bus: jobs
// "run" for a moment and answer with their prompt.
type fakeManager struct {
	conn        *dbus.Conn
	mu          sync.Mutex
	jobs        map[string]*api.Job
	triggers    []fakeTrigger
	fingerprint string
	reports     [][]api.ChatConnector
	hold        chan struct{} // jobs whose prompt says "slow" end when it closes
	n           int
}

type fakeTrigger struct{ agent, prompt, resume string }

func (f *fakeManager) Trigger(agent, schedule, prompt string, options map[string]dbus.Variant) (string, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	id := fmt.Sprintf("20260101-000000-%06x", f.n)
	var o api.TriggerOptions
	api.Decode(options, &o)
	resume := o.Resume
	f.triggers = append(f.triggers, fakeTrigger{agent, prompt, resume})
	j := &api.Job{ID: id, Agent: agent, Prompt: prompt, Trigger: "manual", Status: api.StatusRunning, Started: time.Now()}
	f.jobs[id] = j
	session := resume
	if session == "" {
		session = newUUID()
	}
	go func() {
		if strings.Contains(prompt, "slow") {
			<-f.hold
		} else {
			time.Sleep(300 * time.Millisecond)
		}
		f.mu.Lock()
		j.Status, j.Result, j.SessionID, j.CostUSD = api.StatusCompleted, "answer to: "+prompt, session, 0.0125
		f.mu.Unlock()
		f.conn.Emit(api.ObjectPath, api.Interface+".JobFinished", id, agent, j.Status, "")
	}()
	return id, nil
}

func (f *fakeManager) GetJob(id string) (api.Dict, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[id]
	if !ok {
		return nil, dbus.NewError(api.ErrNotFound, []any{"no job " + id})
	}
	return api.Encode(j), nil
}

func (f *fakeManager) Cancel(id string) *dbus.Error { return nil }

func (f *fakeManager) GetAgent(name string) (api.Dict, *dbus.Error) {
	return api.Encode(&api.Agent{Name: name, MaxConcurrent: 1}), nil
}

func (f *fakeManager) ListSessions(agent string) ([]api.Dict, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	bySession := map[string]*api.Session{}
	var out []api.Dict
	for _, j := range f.jobs {
		if j.Agent != agent || j.SessionID == "" {
			continue
		}
		s := bySession[j.SessionID]
		if s == nil {
			s = &api.Session{ID: j.SessionID, Agent: agent}
			bySession[j.SessionID] = s
		}
		s.Jobs++
		s.CostUSD += j.CostUSD
	}
	for _, s := range bySession {
		out = append(out, api.Encode(s))
	}
	return out, nil
}

func (f *fakeManager) GetCost(filter api.Dict) ([]api.Dict, *dbus.Error) {
	var cf api.CostFilter
	api.Decode(filter, &cf)
	f.mu.Lock()
	defer f.mu.Unlock()
	d := api.CostDay{Agent: cf.Agent, Day: time.Now().Format(api.DayLayout)}
	for _, j := range f.jobs {
		if j.Agent == cf.Agent {
			d.Jobs++
			d.CostUSD += j.CostUSD
		}
	}
	return []api.Dict{api.Encode(d)}, nil
}

func (f *fakeManager) ReadJournal(q api.Dict) (api.Dict, *dbus.Error) {
	return api.Encode(&api.JournalPage{Entries: []string{}}), nil
}

func (f *fakeManager) ReportChat(cs []api.Dict) (string, *dbus.Error) {
	var out []api.ChatConnector
	for _, d := range cs {
		var c api.ChatConnector
		api.Decode(d, &c)
		out = append(out, c)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reports = append(f.reports, out)
	return f.fingerprint, nil
}

func (f *fakeManager) triggered() []fakeTrigger {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeTrigger(nil), f.triggers...)
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// chatRig is the bridge binary with a fake daemon, Discord and Slack.
type chatRig struct {
	t        *testing.T
	bin, dir string
	bus      *testbed.Bus
	m        *fakeManager
	discord  *fakediscord.Server
	slack    *fakeslack.Server
	snapshot string
	cmd      *exec.Cmd
	out      bytes.Buffer
	exited   chan error
}

const (
	gardenerToken = "MTExMTExMTExMTExMTExMTEx.AAAAAA.gardener-token"
	helperToken   = "MjIyMjIyMjIyMjIyMjIyMjIy.BBBBBB.helper-token"
)

var helperApp = fakeslack.App{AppToken: "xapp-1-A222-333-helperapptoken", BotToken: "xoxb-222-333-helperbottoken", BotUser: "UBOT222"}

func newChatRig(t *testing.T) *chatRig {
	if os.Getenv("HERDCTL_INTEGRATION") == "" {
		t.Skip("integration test: set HERDCTL_INTEGRATION=1 (a private dbus-daemon, fake Discord and Slack on loopback)")
	}
	r := &chatRig{t: t, dir: t.TempDir(), bus: testbed.StartBus(t, false), discord: fakediscord.New(), slack: fakeslack.New()}
	r.bin = testbed.Build(t, testbed.SharedTempDir(t), "herdctl-chat")
	r.discord.HeartbeatInterval = time.Second
	r.discord.AddBot(gardenerToken, "111", "gardener-bot")
	r.discord.AddBot(helperToken, "222", "helper-bot")
	r.discord.Start(t)
	r.slack.PingEvery = 500 * time.Millisecond
	r.slack.AddApp(helperApp)
	r.slack.Start(t)

	agents := map[string]*policy.Agent{
		"gardener": {Name: "gardener", Chat: &policy.Chat{Agent: "gardener", Busy: policy.BusyReply,
			Discord: &policy.DiscordChat{API: r.discord.URL, BotToken: gardenerToken, Guild: "100", Channels: []string{"200"}, Users: []string{"300"}}}},
		"helper": {Name: "helper", Chat: &policy.Chat{Agent: "helper", Busy: policy.BusyReply,
			Discord: &policy.DiscordChat{API: r.discord.URL, BotToken: helperToken, Guild: "100", Channels: []string{"201"}, Users: []string{"300"}},
			Slack:   &policy.SlackChat{API: r.slack.URL, AppToken: helperApp.AppToken, BotToken: helperApp.BotToken, Channels: []string{"C0201"}, Users: []string{"U0300"}}}},
	}
	b, _ := chat.Encode(agents)
	r.snapshot = filepath.Join(r.dir, "chat.json")
	os.WriteFile(r.snapshot, b, 0o600)

	conn, err := dbus.Connect(r.bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	r.m = &fakeManager{conn: conn, jobs: map[string]*api.Job{}, fingerprint: chat.Fingerprint(b), hold: make(chan struct{})}
	if err := conn.Export(r.m, api.ObjectPath, api.Interface); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.RequestName(api.BusName, dbus.NameFlagDoNotQueue); err != nil {
		t.Fatal(err)
	}
	return r
}

// start runs the bridge until the test ends or stop.
func (r *chatRig) start() {
	r.t.Helper()
	r.out.Reset()
	r.cmd = exec.Command(r.bin, "--snapshot", r.snapshot, "--state-dir", r.dir, "--bus", r.bus.Address)
	r.cmd.Env = []string{"PATH=/usr/bin:/bin"}
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.exited = make(chan error, 1)
	go func() { r.exited <- r.cmd.Wait() }()
	r.t.Cleanup(func() { r.cmd.Process.Kill() })
	r.eventually("both bots connected", func() bool {
		return r.discord.Connected("111") && r.discord.Connected("222") && r.slack.Connected(helperApp)
	})
}

func (r *chatRig) stop() {
	r.t.Helper()
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.exit(); code != 0 {
		r.t.Fatalf("exit %d on SIGTERM\n%s", code, r.out.String())
	}
}

// exit waits for the bridge to end and returns its exit status.
func (r *chatRig) exit() int {
	r.t.Helper()
	select {
	case err := <-r.exited:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		return 0
	case <-time.After(30 * time.Second):
		r.t.Fatalf("the bridge did not end\n%s", r.out.String())
	}
	return -1
}

func (r *chatRig) eventually(what string, cond func() bool) {
	r.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	r.t.Fatalf("timed out waiting for %s\nbridge output:\n%s", what, r.out.String())
}

// discordPost waits for the n-th post (from 1) and returns it.
func (r *chatRig) discordPost(n int) fakediscord.Post {
	r.t.Helper()
	r.eventually(fmt.Sprintf("%d Discord posts", n), func() bool { return len(r.discord.Posts()) >= n })
	return r.discord.Posts()[n-1]
}

func mention(bot, channel, user, text string) fakediscord.Message {
	return fakediscord.Message{Guild: "100", Channel: channel, Author: user, Content: "<@" + bot + "> " + text, Mentions: []string{bot}}
}

func TestBridge(t *testing.T) {
	r := newChatRig(t)
	r.start()

	// A mention becomes a job; its answer is the reply.
	id := r.discord.Say(mention("111", "200", "300", "water the beans"))
	p := r.discordPost(1)
	if p.Bot != "111" || p.Channel != "200" || p.ReplyTo != id || p.Content != "answer to: water the beans" || !p.NoMentions {
		t.Errorf("reply: %+v", p)
	}
	tr := r.m.triggered()
	if len(tr) != 1 || tr[0].agent != "gardener" || tr[0].prompt != "water the beans" || tr[0].resume != "" {
		t.Fatalf("triggers: %+v", tr)
	}
	// The same conversation continues the session.
	r.discord.Say(mention("111", "200", "300", "and the peas"))
	r.discordPost(2)
	r.m.mu.Lock()
	first := r.m.jobs["20260101-000000-000001"].SessionID
	r.m.mu.Unlock()
	if tr := r.m.triggered(); len(tr) != 2 || tr[1].resume != first || first == "" {
		t.Errorf("second trigger resumes %q, want %q", tr[1].resume, first)
	}

	// Strangers, other channels, the other bot's channel: nothing.
	r.discord.Say(mention("111", "200", "666", "I am a stranger"))
	r.discord.Say(mention("111", "201", "300", "gardener, read helper's channel"))
	r.discord.Say(fakediscord.Message{DMTo: "111", Channel: "901", Author: "666", Content: "psst"})

	// Slack: a mention in the helper's channel, answered in its thread.
	ts, env := r.slack.Mention(helperApp, "C0201", "U0300", "hello helper", "")
	r.eventually("the Slack reply", func() bool { return len(r.slack.Posts()) == 1 })
	if sp := r.slack.Posts()[0]; sp.Channel != "C0201" || sp.ThreadTS != ts || sp.Text != "answer to: hello helper" || !r.slack.Acked(env) {
		t.Errorf("Slack reply: %+v", sp)
	}
	// The helper's Discord bot answers in its own channel only.
	r.discord.Say(mention("222", "201", "300", "hello from discord"))
	if p := r.discordPost(3); p.Bot != "222" || p.Channel != "201" {
		t.Errorf("helper's Discord reply: %+v", p)
	}
	time.Sleep(500 * time.Millisecond)
	if tr := r.m.triggered(); len(tr) != 4 || tr[2].agent != "helper" || tr[3].agent != "helper" {
		t.Errorf("triggers after strangers: %+v", tr)
	}
	if n := len(r.discord.Posts()); n != 3 {
		t.Errorf("%d Discord posts; strangers got answers", n)
	}

	// A dropped gateway resumes; the next message works, its reply
	// after a 429.
	_, resumes, _ := r.discord.Stats()
	r.discord.Drop()
	r.discord.RateLimit(1, 0.5)
	r.discord.Say(mention("111", "200", "300", "after the drop"))
	if p := r.discordPost(4); p.Content != "answer to: after the drop" {
		t.Errorf("after the drop: %+v", p)
	}
	if _, rs, rl := r.discord.Stats(); rs <= resumes || rl != 1 {
		t.Errorf("resumes %d (before %d), 429s %d", rs, resumes, rl)
	}

	// The daemon hears of every bot.
	r.eventually("a report with three connected bots", func() bool {
		r.m.mu.Lock()
		defer r.m.mu.Unlock()
		if len(r.m.reports) == 0 {
			return false
		}
		last := r.m.reports[len(r.m.reports)-1]
		up := 0
		for _, c := range last {
			if c.Connected {
				up++
			}
		}
		return len(last) == 3 && up == 3
	})

	// A restart while a job runs: the answer comes after it.
	r.discord.Say(mention("111", "200", "300", "a slow one"))
	r.eventually("the slow job", func() bool { return len(r.m.triggered()) == 6 })
	r.eventually("typing", func() bool { return len(r.discord.Typing()) > 0 })
	r.stop()
	close(r.m.hold)
	time.Sleep(500 * time.Millisecond) // the job ends; nobody listens
	r.start()
	if p := r.discordPost(5); p.Content != "answer to: a slow one" {
		t.Errorf("after the restart: %+v", p)
	}
	state, _ := os.ReadFile(filepath.Join(r.dir, "state.json"))
	for _, secret := range []string{gardenerToken, helperToken, helperApp.AppToken, helperApp.BotToken, "water the beans"} {
		if strings.Contains(string(state), secret) || strings.Contains(r.out.String(), secret) {
			t.Errorf("%q is in the state file or the bridge's output", secret)
		}
	}

	// A reload that changes the chat settings: exit 75 (restart); one
	// that removes them: exit 0.
	r.m.mu.Lock()
	r.m.fingerprint = "0123456789abcdef"
	r.m.mu.Unlock()
	r.m.conn.Emit(api.ObjectPath, api.Interface+".Reloaded", true, "")
	if code := r.exit(); code != ExitReload {
		t.Errorf("exit %d after a changed snapshot, want %d\n%s", code, ExitReload, r.out.String())
	}
	r.m.mu.Lock()
	r.m.fingerprint = chat.Fingerprint(mustRead(t, r.snapshot))
	r.m.mu.Unlock()
	r.start()
	r.m.mu.Lock()
	r.m.fingerprint = ""
	r.m.mu.Unlock()
	r.m.conn.Emit(api.ObjectPath, api.Interface+".Reloaded", true, "")
	if code := r.exit(); code != 0 {
		t.Errorf("exit %d when chat is gone, want 0", code)
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDaemonLinksNoChatLibrary: herdctl (the daemon, with
// PrivateNetwork=) and its runner link neither chat library.
func TestDaemonLinksNoChatLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/herdctl/herdctl/cmd/herdctl", "github.com/herdctl/herdctl/cmd/herdctl-runner", "github.com/herdctl/herdctl/cmd/herdctlctl").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, lib := range []string{"github.com/bwmarrin/discordgo", "github.com/slack-go/slack", "github.com/gorilla/websocket"} {
		if bytes.Contains(out, []byte(lib)) {
			t.Errorf("the daemon's programs link %s", lib)
		}
	}
}

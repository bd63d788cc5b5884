package bridge

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/herdctl/herdctl/service/api"
)

// fakeDaemon is the daemon's D-Bus API, in memory.
type fakeDaemon struct {
	mu           sync.Mutex
	jobs         map[string]*api.Job
	triggers     []trigger
	cancelled    []string
	busy         bool // Trigger says busy unless queued
	fingerprint  string
	reports      [][]api.ChatConnector
	events       chan Event
	n            int
	sessions     []api.Session
	days         []api.CostDay
	costFilters  []api.CostFilter
	journal      map[string][]string // job → entries, as journalctl -o json
	journalReads int
}

type trigger struct {
	agent, prompt string
	o             TriggerOptions
}

func newFakeDaemon() *fakeDaemon {
	return &fakeDaemon{jobs: map[string]*api.Job{}, events: make(chan Event, 16), fingerprint: "fp"}
}

func (d *fakeDaemon) Trigger(_ context.Context, agent, prompt string, o TriggerOptions) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy && !o.Queue {
		return "", ErrBusy
	}
	d.n++
	id := fmt.Sprintf("20260101-000000-%06d", d.n)
	status := api.StatusRunning
	if d.busy {
		status = api.StatusQueued
	}
	d.jobs[id] = &api.Job{ID: id, Agent: agent, Prompt: prompt, Status: status}
	d.triggers = append(d.triggers, trigger{agent, prompt, o})
	return id, nil
}

func (d *fakeDaemon) Job(_ context.Context, id string) (*api.Job, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	j, ok := d.jobs[id]
	if !ok {
		return nil, ErrNotFound
	}
	c := *j
	return &c, nil
}

func (d *fakeDaemon) Cancel(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cancelled = append(d.cancelled, id)
	return nil
}

func (d *fakeDaemon) Agent(_ context.Context, name string) (*api.Agent, error) {
	return &api.Agent{Name: name, MaxConcurrent: 1, Running: 1, LastJob: "20260101-000000-000001", LastStatus: "running"}, nil
}

func (d *fakeDaemon) Sessions(_ context.Context, agent string) ([]api.Session, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]api.Session(nil), d.sessions...), nil
}

func (d *fakeDaemon) Cost(_ context.Context, f api.CostFilter) ([]api.CostDay, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.costFilters = append(d.costFilters, f)
	return append([]api.CostDay(nil), d.days...), nil
}

func (d *fakeDaemon) Journal(_ context.Context, q api.JournalQuery) (*api.JournalPage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.journalReads++
	es := d.journal[q.Job]
	i := 0
	if q.AfterCursor != "" {
		fmt.Sscan(q.AfterCursor, &i)
	}
	if i > len(es) {
		i = len(es)
	}
	return &api.JournalPage{Entries: append([]string(nil), es[i:]...), Cursor: fmt.Sprint(len(es))}, nil
}

func (d *fakeDaemon) Report(_ context.Context, cs []api.ChatConnector) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reports = append(d.reports, cs)
	return d.fingerprint, nil
}

func (d *fakeDaemon) Events() <-chan Event { return d.events }

// finish ends job id as status with result, and announces it.
func (d *fakeDaemon) finish(id, status, result, reason, session string) {
	d.mu.Lock()
	j := d.jobs[id]
	j.Status, j.Result, j.ExitReason, j.SessionID = status, result, reason, session
	d.mu.Unlock()
	d.events <- Event{Kind: JobFinished, Job: id}
}

func (d *fakeDaemon) triggered() []trigger {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]trigger(nil), d.triggers...)
}

// fakeConn is a connector that receives what the test sends and records
// what the bridge posts.
type fakeConn struct {
	platform, agent string
	rules           Rules
	health          *Health
	limit           int
	in              chan Inbound // what the test sends
	mu              sync.Mutex
	posts           []post
	typing          int
	failPosts       int // the next n posts fail
	edits           []edit
	files           map[string]string // attachment URL → content
	uploads         []string          // name, newline, content
}

type edit struct{ id, text string }

type post struct {
	to            Conversation
	replyTo, text string
}

func newFakeConn(platform, agent string, rules Rules) *fakeConn {
	return &fakeConn{platform: platform, agent: agent, rules: rules, health: NewHealth(nil), limit: 2000, in: make(chan Inbound)}
}

func (c *fakeConn) Platform() string { return c.platform }
func (c *fakeConn) Agent() string    { return c.agent }
func (c *fakeConn) Rules() Rules     { return c.rules }
func (c *fakeConn) Health() *Health  { return c.health }
func (c *fakeConn) Limit() int       { return c.limit }
func (c *fakeConn) Escape(s string) string {
	if c.platform == Slack {
		return strings.ReplaceAll(s, "<", "&lt;")
	}
	return s
}

func (c *fakeConn) Run(ctx context.Context, in chan<- Inbound) error {
	c.health.Connected()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-c.in:
			in <- m
		}
	}
}

func (c *fakeConn) Post(_ context.Context, to Conversation, replyTo, text string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failPosts > 0 {
		c.failPosts--
		return "", fmt.Errorf("HTTP 500")
	}
	c.posts = append(c.posts, post{to, replyTo, text})
	return fmt.Sprintf("p%d", len(c.posts)), nil
}

func (c *fakeConn) Fetch(_ context.Context, a Attachment, w io.Writer) error {
	c.mu.Lock()
	content, ok := c.files[a.URL]
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("HTTP 404")
	}
	_, err := io.Copy(w, strings.NewReader(content))
	return err
}

func (c *fakeConn) Upload(_ context.Context, to Conversation, replyTo, caption, name, text string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.posts = append(c.posts, post{to, replyTo, caption})
	c.uploads = append(c.uploads, name+"\n"+text)
	return fmt.Sprintf("p%d", len(c.posts)), nil
}

func (c *fakeConn) Edit(_ context.Context, to Conversation, id, text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.edits = append(c.edits, edit{id, text})
	return nil
}

func (c *fakeConn) edited() []edit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]edit(nil), c.edits...)
}

func (c *fakeConn) Typing(context.Context, Conversation, string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.typing++
	return nil
}

func (c *fakeConn) DoneTyping(context.Context, Conversation, string) {}

func (c *fakeConn) posted() []post {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]post(nil), c.posts...)
}

// rig is a bridge with one Discord bot of agent "gardener" and a fake
// daemon, running until the test ends.
type rig struct {
	t      *testing.T
	d      *fakeDaemon
	c      *fakeConn
	b      *Bridge
	logs   *observer.ObservedLogs
	dir    string
	result chan error
	cancel context.CancelFunc
	once   sync.Once
}

var gardenerRules = Rules{Guild: "100", Channels: set([]string{"200"}), Users: set([]string{"300"})}

func newRig(t *testing.T, dir string, d *fakeDaemon) *rig {
	t.Helper()
	return newRigWith(t, dir, d, nil)
}

// newRigWith is newRig with setup changing the bridge before it runs.
func newRigWith(t *testing.T, dir string, d *fakeDaemon, setup func(b *Bridge)) *rig {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if d == nil {
		d = newFakeDaemon()
	}
	st, err := OpenStore(dir + "/state.json")
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.InfoLevel)
	r := &rig{t: t, d: d, c: newFakeConn(Discord, "gardener", gardenerRules), logs: logs, dir: dir, result: make(chan error, 1)}
	r.b = &Bridge{Daemon: d, Store: st, Connectors: []Connector{r.c}, Fingerprint: "fp", Log: zap.New(core),
		Tick: 20 * time.Millisecond, PollEvery: 50 * time.Millisecond, ReportEvery: time.Hour}
	if setup != nil {
		setup(r.b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.result <- r.b.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

func (r *rig) stop() {
	r.once.Do(func() {
		r.cancel()
		select {
		case <-r.result:
		case <-time.After(5 * time.Second):
			r.t.Error("the bridge did not stop")
		}
	})
}

// say sends a message from user in channel (mentioning the bot).
func (r *rig) say(id, user, channel, text string) {
	r.c.in <- Inbound{Conversation: Conversation{Platform: Discord, Agent: "gardener", Channel: channel}, ID: id,
		Guild: "100", User: user, Mentioned: true, Text: text}
}

func (r *rig) eventually(what string, cond func() bool) {
	r.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	r.t.Fatalf("timed out waiting for %s", what)
}

func (r *rig) posts(n int) []post {
	r.t.Helper()
	r.eventually(fmt.Sprintf("%d posts", n), func() bool { return len(r.c.posted()) >= n })
	return r.c.posted()
}

func zapString(k, v string) zap.Field { return zap.String(k, v) }

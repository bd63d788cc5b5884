package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
)

// MaxPrompt bounds a message that becomes a prompt, in bytes after
// cleaning: a longer one is refused with a reply, never cut.
const MaxPrompt = 8 << 10

// Defaults of Bridge's timing.
const (
	DefaultTick        = 8 * time.Second  // typing indicator (Discord's lasts 10 s)
	DefaultPollEvery   = 30 * time.Second // replies owed, in case a signal was missed
	DefaultReportEvery = 15 * time.Second // connectors' state to the daemon
	// ReplyDeadline is how long a finished job's answer is retried when
	// the platform refuses it; then it is dropped, and logged.
	ReplyDeadline = 24 * time.Hour
	// maxBackoff bounds the wait before a failed connector tries again.
	maxBackoff = 5 * time.Minute
)

// ErrSnapshotChanged is returned by Run when the daemon's chat snapshot
// is no longer the one the bridge runs with (a reload changed the bots):
// the bridge must restart to receive the new one. Fingerprint is "" when
// no agent has chat any more.
type ErrSnapshotChanged struct{ Fingerprint string }

func (e *ErrSnapshotChanged) Error() string {
	if e.Fingerprint == "" {
		return "no agent has chat any more"
	}
	return "the fleet's chat settings changed: restarting to load them"
}

// Bridge connects the connectors' messages to the daemon's jobs. Set its
// exported fields, then Run it.
type Bridge struct {
	Daemon     Daemon
	Store      *Store
	Connectors []Connector
	// Busy is each agent's chat.busy (policy.BusyReply by default),
	// LongAnswers its chat.long_answers (policy.LongAnswersSplit).
	Busy, LongAnswers map[string]string
	// Fingerprint is that of the chat snapshot the bridge runs with.
	Fingerprint string
	Log         *zap.Logger
	// Notify receives sd_notify states (READY=1, WATCHDOG=1, STATUS=).
	Notify func(string)
	Now    func() time.Time
	// StageDir is where attachments are staged (chat.StageDir if "").
	StageDir string
	// Tick, PollEvery, ReportEvery and ProgressEvery override the
	// defaults (tests).
	Tick, PollEvery, ReportEvery, ProgressEvery time.Duration

	byKey    map[string]Connector
	seen     map[string]time.Time // recent messages, to drop a platform's redelivery
	refusals refusalLog
	mu       sync.Mutex
	inflight map[string]bool // jobs whose answer is being posted
	watchers map[string]*watcher
	wg       sync.WaitGroup // goroutines that post
}

func connKey(platform, agent string) string { return platform + "/" + agent }

func (b *Bridge) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *Bridge) notify(s string) {
	if b.Notify != nil {
		b.Notify(s)
	}
}

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (b *Bridge) init() {
	if b.Log == nil {
		b.Log = zap.NewNop()
	}
	b.byKey = map[string]Connector{}
	for _, c := range b.Connectors {
		b.byKey[connKey(c.Platform(), c.Agent())] = c
	}
	b.seen = map[string]time.Time{}
	b.inflight = map[string]bool{}
	b.watchers = map[string]*watcher{}
}

// Run runs the bridge until ctx ends (nil), the daemon's snapshot changes
// (*ErrSnapshotChanged) or the bus is lost.
func (b *Bridge) Run(ctx context.Context) error {
	b.init()
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		b.wg.Wait()
	}()
	in := make(chan Inbound, 64)
	for _, c := range b.Connectors {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.keepConnected(ctx, c, in)
		}()
	}
	events := b.Daemon.Events()
	if err := b.report(ctx); err != nil {
		return err
	}
	// Answers owed from before a restart, and the progress of jobs that
	// still run.
	b.pruneStages()
	b.poll(ctx)
	for _, p := range b.Store.Pending() {
		if c := b.byKey[connKey(p.Conversation.Platform, p.Conversation.Agent)]; c != nil && p.Ended.IsZero() {
			b.watch(ctx, c, p)
		}
	}
	b.notify("READY=1\nSTATUS=" + b.status())
	b.Log.Info("chat bridge ready", zap.Int("chat_connectors", len(b.Connectors)), zap.Int("chat_pending", len(b.Store.Pending())))

	tick := time.NewTicker(orDuration(b.Tick, DefaultTick))
	defer tick.Stop()
	var lastPoll, lastReport time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-in:
			b.handle(ctx, m)
		case ev, ok := <-events:
			if !ok {
				return errors.New("the daemon's events ended: the bus connection is gone")
			}
			switch ev.Kind {
			case JobFinished:
				b.finished(ctx, ev.Job)
			case Reloaded, Restarted:
				if err := b.report(ctx); err != nil {
					return err
				}
				lastReport = b.now()
				b.poll(ctx)
			case Lost:
				return errors.New("the connection to the system bus is gone")
			}
		case <-tick.C:
			b.notify("WATCHDOG=1\nSTATUS=" + b.status())
			b.typing(ctx)
			b.forget()
			now := b.now()
			if now.Sub(lastPoll) >= orDuration(b.PollEvery, DefaultPollEvery) {
				lastPoll = now
				b.poll(ctx)
			}
			if now.Sub(lastReport) >= orDuration(b.ReportEvery, DefaultReportEvery) {
				lastReport = now
				if err := b.report(ctx); err != nil {
					return err
				}
			}
		}
	}
}

// keepConnected runs c until ctx ends, starting it again after a failure
// with a backoff (1 s doubling to 5 min; back to 1 s after a run of more
// than a minute).
func (b *Bridge) keepConnected(ctx context.Context, c Connector, in chan<- Inbound) {
	wait := time.Second
	log := b.Log.With(zap.String("chat_platform", c.Platform()), zap.String("chat_agent", c.Agent()), zap.String("agent", c.Agent()))
	for {
		start := time.Now()
		err := c.Run(ctx, in)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("the connection ended")
		}
		c.Health().Disconnected(err)
		if time.Since(start) > time.Minute {
			wait = time.Second
		}
		log.Warn("chat connector failed: retrying", zap.String("chat_event", "connector_failed"), zap.Error(err), zap.Duration("chat_retry_in", wait))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, maxBackoff)
	}
}

// report sends the connectors' state; a changed snapshot ends Run.
func (b *Bridge) report(ctx context.Context) error {
	owed := map[string]int{}
	for _, p := range b.Store.Pending() {
		owed[connKey(p.Conversation.Platform, p.Conversation.Agent)]++
	}
	cs := make([]api.ChatConnector, 0, len(b.Connectors))
	for _, c := range b.Connectors {
		cs = append(cs, c.Health().report(c.Agent(), c.Platform(), owed[connKey(c.Platform(), c.Agent())]))
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	fp, err := b.Daemon.Report(rctx, cs)
	if err != nil {
		b.Log.Warn("cannot report to herdctl", zap.String("chat_event", "report_failed"), zap.Error(err))
		return nil
	}
	if fp != b.Fingerprint {
		return &ErrSnapshotChanged{Fingerprint: fp}
	}
	return nil
}

// status is the STATUS= line.
func (b *Bridge) status() string {
	up := 0
	for _, c := range b.Connectors {
		if c.Health().IsConnected() {
			up++
		}
	}
	return fmt.Sprintf("%d of %d bots connected, %d answers owed", up, len(b.Connectors), len(b.Store.Pending()))
}

// forget drops remembered message ids after ten minutes.
func (b *Bridge) forget() {
	cut := b.now().Add(-10 * time.Minute)
	for k, t := range b.seen {
		if t.Before(cut) {
			delete(b.seen, k)
		}
	}
}

// busy is agent's chat.busy.
func (b *Bridge) busy(agent string) string {
	if v := b.Busy[agent]; v != "" {
		return v
	}
	return policy.BusyReply
}

// async runs f on a goroutine the bridge waits for when it stops.
func (b *Bridge) async(ctx context.Context, f func(ctx context.Context)) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f(ctx)
	}()
}

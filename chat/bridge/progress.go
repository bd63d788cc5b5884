package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/chat/text"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// DefaultProgressEvery is how long a job runs before its progress
// message appears, and how often it is edited at most: a job that
// answers sooner shows only the typing indicator.
const DefaultProgressEvery = 2 * time.Second

// progressLines is how many of a job's latest journal entries the first
// look at its progress reads.
const progressLines = 50

// watcher is the progress of one running job.
type watcher struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// watch keeps p's progress message up to date while its job runs, on a
// goroutine of its own, until the job ends or unwatch.
func (b *Bridge) watch(ctx context.Context, c Connector, p Pending) {
	b.mu.Lock()
	if _, ok := b.watchers[p.Job]; ok {
		b.mu.Unlock()
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	w := &watcher{cancel: cancel, done: make(chan struct{})}
	b.watchers[p.Job] = w
	b.mu.Unlock()
	b.async(wctx, func(ctx context.Context) {
		defer close(w.done)
		b.progress(ctx, c, p)
	})
}

// unwatch stops the progress of job and waits until its last edit is
// done: no edit comes after.
func (b *Bridge) unwatch(job string) {
	b.mu.Lock()
	w := b.watchers[job]
	delete(b.watchers, job)
	b.mu.Unlock()
	if w != nil {
		w.cancel()
		<-w.done
	}
}

// progress posts p's progress message once the job has run a while, and
// edits it every ProgressEvery with what the agent does now and for how
// long it has run, until ctx ends or the job does.
func (b *Bridge) progress(ctx context.Context, c Connector, p Pending) {
	every := orDuration(b.ProgressEvery, DefaultProgressEvery)
	t := time.NewTicker(every)
	defer t.Stop()
	log := b.Log.With(pendingFields(p, "progress")...)
	var cursor, doing, last string
	id := p.Progress
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		j, err := b.Daemon.Job(ctx, p.Job)
		if err != nil || api.Finished(j.Status) {
			return
		}
		if j.Status != api.StatusRunning {
			continue // queued: the typing indicator says enough
		}
		q := api.JournalQuery{Job: p.Job, AfterCursor: cursor}
		if cursor == "" {
			q.Lines = progressLines
		}
		if page, err := b.Daemon.Journal(ctx, q); err == nil {
			cursor = page.Cursor
			if d := latestTool(page.Entries); d != "" {
				doing = d
			}
		} else if ctx.Err() == nil {
			log.Debug("cannot read the job's journal", zap.Error(err))
		}
		started := j.Started
		if started.IsZero() {
			started = p.Started
		}
		line := c.Escape(progressLine(doing, b.now().Sub(started)))
		if line == last || ctx.Err() != nil {
			continue
		}
		if id == "" {
			id, err = c.Post(ctx, p.ReplyIn, p.ReplyTo, line)
			if err == nil {
				pid := id
				b.Store.Update(p.Job, func(q *Pending) { q.Progress = pid })
			}
		} else {
			err = c.Edit(ctx, p.ReplyIn, id, line)
		}
		if err != nil {
			if ctx.Err() == nil {
				c.Health().Error(err)
				log.Warn("cannot post or edit the progress message", zap.Error(err))
			}
			continue
		}
		last = line
	}
}

// progressLine says what the agent does and for how long it has run.
func progressLine(doing string, d time.Duration) string {
	if doing == "" {
		return fmt.Sprintf("⏳ Working for %s…", short(d))
	}
	return fmt.Sprintf("⏳ Working for %s · %s", short(d), doing)
}

// summaryLine is what the progress message says once the job ended.
func summaryLine(j *api.Job, d time.Duration) string {
	if j.DurationMS > 0 {
		d = time.Duration(j.DurationMS) * time.Millisecond
	}
	mark, what := "✓", "Done in"
	switch j.Status {
	case api.StatusCancelled:
		mark, what = "✗", "Cancelled after"
	case api.StatusTimedOut:
		mark, what = "✗", "Timed out after"
	case api.StatusCompleted:
	default:
		mark, what = "✗", "Failed after"
	}
	return fmt.Sprintf("%s %s %s · %s · job %s", mark, what, short(d), state.USD(j.Spent()), j.ID)
}

// toolNameRe is what a tool's name may be to be shown (MCP tools are
// mcp__server__tool).
var toolNameRe = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// latestTool is the last tool call among journal entries (as journalctl
// -o json writes them), as "Tool: `argument`", sanitised: the agent
// chose the argument, and it may hold anything.
func latestTool(entries []string) string {
	doing := ""
	for _, e := range entries {
		var f map[string]json.RawMessage
		if json.Unmarshal([]byte(e), &f) != nil {
			continue
		}
		var tool, msg string
		if json.Unmarshal(f[state.FieldTool], &tool) != nil || json.Unmarshal(f["MESSAGE"], &msg) != nil || !toolNameRe.MatchString(tool) {
			continue
		}
		// The runner's line for a tool call: "tool NAME: ARGUMENT",
		// maybe among other parts joined by " | ".
		arg := ""
		if _, rest, ok := strings.Cut(msg, "tool "+tool+": "); ok {
			arg, _, _ = strings.Cut(rest, " | ")
		}
		doing = tool
		if a := text.Snippet(arg, 80); a != "" {
			doing += ": `" + a + "`"
		}
	}
	return doing
}

// short is a running time: 4s, 1m 05s, 2h 03m.
func short(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
}

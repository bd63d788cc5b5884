package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/chat/text"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
)

// pendingFields are a reply's journal fields.
func pendingFields(p Pending, event string) []zap.Field {
	return []zap.Field{zap.String("chat_event", event), zap.String("chat_platform", p.Conversation.Platform),
		zap.String("chat_agent", p.Conversation.Agent), zap.String("agent", p.Conversation.Agent),
		zap.String("chat_channel", p.ReplyIn.Channel), zap.String("chat_message", p.ReplyTo),
		zap.String("job", p.Job), zap.String("chat_job", p.Job)}
}

// finished posts the answer of job, if the bridge owes one.
func (b *Bridge) finished(ctx context.Context, job string) {
	for _, p := range b.Store.Pending() {
		if p.Job == job {
			b.deliverAsync(ctx, p)
		}
	}
}

// poll looks at every reply owed: the answers of jobs that ended (while
// the bridge was down, or a signal was missed) are posted.
func (b *Bridge) poll(ctx context.Context) {
	for _, p := range b.Store.Pending() {
		b.deliverAsync(ctx, p)
	}
}

// deliverAsync posts p's answer on a goroutine, one at a time per job.
func (b *Bridge) deliverAsync(ctx context.Context, p Pending) {
	b.mu.Lock()
	if b.inflight[p.Job] {
		b.mu.Unlock()
		return
	}
	b.inflight[p.Job] = true
	b.mu.Unlock()
	b.async(ctx, func(ctx context.Context) {
		defer func() {
			b.mu.Lock()
			delete(b.inflight, p.Job)
			b.mu.Unlock()
		}()
		b.deliver(ctx, p)
	})
}

// deliver posts the answer of p's job when the job has ended: every part
// not yet posted, then the reply is done and the conversation continues
// the job's session.
func (b *Bridge) deliver(ctx context.Context, p Pending) {
	c := b.byKey[connKey(p.Conversation.Platform, p.Conversation.Agent)]
	if c == nil {
		b.Log.Warn("answer dropped: the agent has no such bot any more", pendingFields(p, "dropped")...)
		b.unstage(p.Stage)
		b.Store.Done(p.Job, "", b.now())
		return
	}
	j, err := b.Daemon.Job(ctx, p.Job)
	switch {
	case errors.Is(err, ErrNotFound):
		b.Log.Warn("answer dropped: herdctl has no record of the job", pendingFields(p, "dropped")...)
		b.unstage(p.Stage)
		b.Store.Done(p.Job, "", b.now())
		return
	case err != nil:
		return // asked again at the next poll
	case !api.Finished(j.Status):
		return
	}
	b.unwatch(p.Job)
	if p.Ended.IsZero() {
		p.Ended = b.now()
		b.Store.Update(p.Job, func(q *Pending) { q.Ended = p.Ended })
	}
	if q, ok := b.Store.Get(p.Job); ok {
		p.Progress, p.Summarized = q.Progress, q.Summarized
	}
	if p.Progress != "" && !p.Summarized {
		if err := c.Edit(ctx, p.ReplyIn, p.Progress, c.Escape(summaryLine(j, p.Ended.Sub(p.Started)))); err != nil {
			c.Health().Error(err)
			b.Log.Warn("cannot give the progress message its summary", append(pendingFields(p, "post_failed"), zap.Error(err))...)
		}
		b.Store.Update(p.Job, func(q *Pending) { q.Summarized = true })
	}
	parts := b.answer(c, j, p.Note)
	file := ""
	if len(parts) > 1 && j.Status == api.StatusCompleted && b.LongAnswers[p.Conversation.Agent] == policy.LongAnswersFile {
		file, parts = answerFile(p.Note, j.Result), []string{c.Escape(caption(p.Note, j.Result))}
	}
	for i := p.Sent; i < len(parts); i++ {
		replyTo := p.ReplyTo
		if i > 0 {
			replyTo = "" // the first part answers the message; the rest follow it
		}
		var err error
		if file != "" {
			_, err = c.Upload(ctx, p.ReplyIn, replyTo, parts[i], AnswerFileName, file)
		} else {
			_, err = c.Post(ctx, p.ReplyIn, replyTo, parts[i])
		}
		if err != nil {
			c.Health().Error(err)
			if b.now().Sub(p.Ended) > ReplyDeadline {
				b.Log.Error("answer dropped: the platform refused it for a day", append(pendingFields(p, "dropped"), zap.Error(err))...)
				b.unstage(p.Stage)
				b.Store.Done(p.Job, j.SessionID, b.now(), p.Conversation, p.ReplyIn)
				return
			}
			b.Store.Update(p.Job, func(q *Pending) { q.Attempts++; q.LastError = text.OneLine(err.Error(), 200) })
			b.Log.Warn("cannot post an answer: trying again later", append(pendingFields(p, "post_failed"), zap.Error(err))...)
			return
		}
		sent := i + 1
		b.Store.Update(p.Job, func(q *Pending) { q.Sent = sent })
	}
	c.DoneTyping(ctx, p.ReplyIn, p.ReplyTo)
	b.unstage(p.Stage)
	if err := b.Store.Done(p.Job, j.SessionID, b.now(), p.Conversation, p.ReplyIn); err != nil {
		b.Log.Error("cannot record the answer as posted", append(pendingFields(p, "store_failed"), zap.Error(err))...)
	}
	b.Log.Info("chat answer posted", append(pendingFields(p, "answered"), zap.String("chat_status", j.Status),
		zap.Int("chat_parts", len(parts)), zap.String("chat_session", j.SessionID))...)
}

// answer is what the reply to job j says, in parts that fit c: the
// agent's answer, or one line saying why there is none, after the
// bridge's note, if any.
func (b *Bridge) answer(c Connector, j *api.Job, note string) []string {
	if note != "" {
		note += "\n"
	}
	reason := j.ExitReason
	if reason == "" {
		reason = j.Error
	}
	var line string
	switch j.Status {
	case api.StatusCompleted:
		r := strings.TrimSpace(j.Result)
		if r == "" {
			r = "(The agent finished without an answer.)"
		}
		return text.Split(c.Escape(note+r), c.Limit(), text.UTF16Len)
	case api.StatusCancelled:
		line = "✗ Cancelled"
	case api.StatusTimedOut:
		line = "✗ Timed out"
	default:
		line = "✗ Failed"
	}
	line = fmt.Sprintf("%s (job %s)", line, j.ID)
	if reason != "" {
		line += ": " + reason
	}
	return text.Split(c.Escape(note+text.OneLine(line, 300)), c.Limit(), text.UTF16Len)
}

// AnswerFileName is the name of an answer posted as a file.
const AnswerFileName = "answer.md"

// captionChars is how much of a long answer its file's message shows.
const captionChars = 300

// answerFile is the whole answer, as the file holds it.
func answerFile(note, result string) string {
	r := strings.TrimSpace(result)
	if note != "" {
		r = note + "\n\n" + r
	}
	return r + "\n"
}

// caption is the message a long answer's file comes with: its start on
// one line, and where the rest is.
func caption(note, result string) string {
	s := text.OneLine(result, captionChars)
	if note != "" {
		s = note + "\n" + s
	}
	return s + "\n(The whole answer is in " + AnswerFileName + ".)"
}

// typing keeps the typing indicator up wherever a job runs for a
// message: once per place per tick.
func (b *Bridge) typing(ctx context.Context) {
	done := map[string]bool{}
	for _, p := range b.Store.Pending() {
		if !p.Ended.IsZero() {
			continue
		}
		c := b.byKey[connKey(p.Conversation.Platform, p.Conversation.Agent)]
		if c == nil || !c.Health().IsConnected() {
			continue
		}
		place := connKey(p.Conversation.Platform, p.Conversation.Agent) + "/" + p.ReplyIn.Key() + "/" + p.ReplyTo
		if done[place] {
			continue
		}
		done[place] = true
		b.async(ctx, func(ctx context.Context) {
			tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			c.Typing(tctx, p.ReplyIn, p.ReplyTo)
		})
	}
}

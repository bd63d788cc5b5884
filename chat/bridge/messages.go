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

// fields are a message's journal fields: ids only, never its text.
func fields(m Inbound, event string) []zap.Field {
	fs := []zap.Field{zap.String("chat_event", event), zap.String("chat_platform", m.Platform),
		zap.String("chat_agent", m.Agent), zap.String("agent", m.Agent), zap.String("chat_channel", m.Channel),
		zap.String("chat_user", m.User), zap.String("chat_message", m.ID)}
	if m.Thread != "" {
		fs = append(fs, zap.String("chat_thread", m.Thread))
	}
	if m.Guild != "" {
		fs = append(fs, zap.String("chat_guild", m.Guild))
	}
	if m.DM {
		fs = append(fs, zap.Bool("chat_dm", true))
	}
	return fs
}

// maxRefusalLogs bounds the refused messages logged a minute: strangers
// decide how many there are, and each would be a line in the host's
// journal. The others are counted, and the next line logged says how
// many went unlogged.
const maxRefusalLogs = 30

// refusalLog is the bridge's count of refused messages logged in the
// current minute (used by the bridge's loop alone).
type refusalLog struct {
	window         time.Time
	logged, unsaid int
}

// take says whether a refusal at now may be logged, and how many were
// not logged before it.
func (r *refusalLog) take(now time.Time) (unsaid int, ok bool) {
	if now.Sub(r.window) >= time.Minute {
		r.window, r.logged = now, 0
	}
	if r.logged >= maxRefusalLogs {
		r.unsaid++
		return 0, false
	}
	r.logged++
	unsaid, r.unsaid = r.unsaid, 0
	return unsaid, true
}

// handle acts on one message a connector received.
func (b *Bridge) handle(ctx context.Context, m Inbound) {
	c := b.byKey[connKey(m.Platform, m.Agent)]
	if c == nil {
		return
	}
	seen := m.Platform + "/" + m.Agent + "/" + m.Channel + "/" + m.ID
	if _, dup := b.seen[seen]; dup && m.ID != "" {
		return
	}
	b.seen[seen] = b.now()
	verdict, reason := c.Rules().Route(m)
	switch verdict {
	case Ignore:
		return
	case Refuse:
		if unsaid, ok := b.refusals.take(b.now()); ok {
			fs := append(fields(m, "refused"), zap.String("chat_reason", reason), zap.Int("chat_bytes", len(m.Text)))
			if unsaid > 0 {
				fs = append(fs, zap.Int("chat_refusals_unlogged", unsaid))
			}
			b.Log.Info("chat message ignored: "+reason, fs...)
		}
		return
	}
	c.Health().Message()
	prompt := text.Clean(m.Text)
	b.Log.Info("chat message received", append(fields(m, "received"), zap.Int("chat_bytes", len(prompt)))...)
	if prompt == "" && m.Command == "" {
		b.say(ctx, c, m, "Write a prompt after the mention, or `help` for the commands.")
		return
	}
	if cmd, ok := parseCommand(m.Command, prompt); ok {
		b.Log.Info("chat command", append(fields(m, "command"), zap.String("chat_command", cmd.name))...)
		cmd.run(b, ctx, c, m)
		return
	}
	if m.Command != "" {
		// A slash command the bridge does not know (one registered once
		// by something else, or an older herdctl) is never a prompt.
		b.Log.Info("chat command unknown", append(fields(m, "command_unknown"), zap.String("chat_command", text.OneLine(m.Command, 64)))...)
		b.say(ctx, c, m, "Unknown command. `help` lists the commands.")
		return
	}
	if len(m.Attachments) == 0 {
		b.start(ctx, c, m, prompt, "")
		return
	}
	if line := refuseAttachments(m); line != "" {
		b.Log.Info("chat message refused: its attachments are over the limits", append(fields(m, "attachments_refused"), zap.Int("chat_files", len(m.Attachments)))...)
		b.say(ctx, c, m, line)
		return
	}
	// Fetching takes a while: off the bridge's loop.
	b.async(ctx, func(ctx context.Context) {
		stage, names, err := b.stage(ctx, c, m)
		if err != nil {
			b.Log.Info("chat message refused: its attachments could not be staged", append(fields(m, "attachments_refused"), zap.Error(err))...)
			b.say(ctx, c, m, "✗ "+text.OneLine(err.Error(), 200)+". Nothing was started.")
			return
		}
		if !b.start(ctx, c, m, prompt+attachedLine(names), stage) {
			b.unstage(stage)
		}
	})
}

// start starts a job of m's agent with prompt (and the attachments of
// stage, if not ""), continuing m's conversation's session unless it
// has been idle longer than the bot's session_expiry, and reports
// whether it did.
func (b *Bridge) start(ctx context.Context, c Connector, m Inbound, prompt, stage string) bool {
	if len(prompt) > MaxPrompt {
		b.Log.Info("chat message refused: too long", append(fields(m, "too_long"), zap.Int("chat_bytes", len(prompt)))...)
		b.say(ctx, c, m, fmt.Sprintf("✗ This message is %d bytes; a prompt may have at most %d. Nothing was started.", len(prompt), MaxPrompt))
		return false
	}
	if b.Store.Full() {
		b.say(ctx, c, m, fmt.Sprintf("✗ herdctl-chat owes %d answers already. Nothing was started; try again later.", MaxPending))
		return false
	}
	resume, expired := b.session(c, m.Conversation)
	o := TriggerOptions{Queue: b.busy(m.Agent) == policy.BusyQueue, Resume: resume, Inbox: stage}
	id, err := b.Daemon.Trigger(ctx, m.Agent, prompt, o)
	switch {
	case errors.Is(err, ErrBusy):
		b.Log.Info("chat message refused: the agent is busy", fields(m, "busy")...)
		b.say(ctx, c, m, fmt.Sprintf("⏳ %s is busy: it runs as many jobs as it may. Try again when one ends, or send `cancel` to stop this conversation's.", m.Agent))
		return false
	case errors.Is(err, ErrNotFound):
		b.say(ctx, c, m, fmt.Sprintf("✗ %s is not in the fleet right now (it may be disabled, or its file broken).", m.Agent))
		return false
	case err != nil:
		// The chat hears why only when herdctl's own reason is meant for
		// the caller; the rest (bus policy, unreachable daemon) is for
		// the operator.
		b.Log.Error("cannot start a job for a chat message", append(fields(m, "trigger_failed"), zap.Error(err))...)
		b.say(ctx, c, m, "✗ Could not start a job: "+tell(err))
		return false
	}
	p := Pending{Job: id, Conversation: m.Conversation, ReplyIn: m.ReplyIn, ReplyTo: m.ID, Started: b.now(), Stage: stage}
	if p.ReplyIn.Channel == "" {
		p.ReplyIn = m.Conversation
	}
	if expired {
		p.Note = fmt.Sprintf("(A new session: this conversation was idle for more than %s.)", human(c.Rules().expiry()))
		// As of this job's start: its own session is the conversation's.
		b.Store.Reset(p.Started, p.Conversation, p.ReplyIn)
	}
	if err := b.Store.Add(p); err != nil {
		b.Log.Error("cannot record the answer owed: it is lost if herdctl-chat restarts before the job ends", append(fields(m, "store_failed"), zap.String("job", id), zap.Error(err))...)
	}
	b.Store.Started(id, b.now(), p.Conversation, p.ReplyIn)
	b.Log.Info("chat job started", append(fields(m, "job_started"), zap.String("job", id), zap.String("chat_job", id), zap.Bool("chat_resume", o.Resume != ""), zap.Bool("chat_expired", expired))...)
	b.async(ctx, func(ctx context.Context) { c.Typing(ctx, p.ReplyIn, p.ReplyTo) })
	b.watch(ctx, c, p)
	if o.Queue {
		if j, err := b.Daemon.Job(ctx, id); err == nil && j.Status == api.StatusQueued {
			b.say(ctx, c, m, fmt.Sprintf("⏳ Queued: %s is busy; this runs when one of its jobs ends.", m.Agent))
		}
	}
	return true
}

// session is the session conversation conv continues ("" for a new
// one), and whether it had one that expired.
func (b *Bridge) session(c Connector, conv Conversation) (string, bool) {
	s := b.Store.Conversation(conv)
	if s.ID == "" {
		return "", false
	}
	if b.now().Sub(s.Updated) > c.Rules().expiry() {
		return "", true
	}
	return s.ID, false
}

// say posts one line of the bridge's own as a reply to m.
func (b *Bridge) say(ctx context.Context, c Connector, m Inbound, line string) {
	to := m.ReplyIn
	if to.Channel == "" {
		to = m.Conversation
	}
	b.async(ctx, func(ctx context.Context) {
		if _, err := c.Post(ctx, to, m.ID, c.Escape(line)); err != nil {
			c.Health().Error(err)
			b.Log.Warn("cannot post a reply", append(fields(m, "post_failed"), zap.Error(err))...)
		}
	})
}

// tell is what the chat hears of err: herdctl's own reason when it is
// meant for the caller (a refusal), else only where to look: bus policy
// and daemon failures are the operator's, with uids and paths in them.
func tell(err error) string {
	if errors.Is(err, ErrRefused) || errors.Is(err, ErrNotFound) {
		msg := err.Error()
		for _, kind := range []error{ErrRefused, ErrNotFound} {
			msg = strings.TrimPrefix(msg, kind.Error()+": ")
		}
		return text.OneLine(msg, 200)
	}
	return "herdctl-chat could not get it done; the host's journal says why (journalctl -t herdctl-chat)."
}

// human is a duration as an operator writes it: 24h, 90m, 2d.
func human(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// ago is d, short.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

package bridge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// A command is a word the bridge answers itself: the whole message after
// the mention (or of a direct message), or a Discord slash command. It
// never reaches Claude. Only the agent's users get this far (Route).
type command struct {
	name, help string
	run        func(b *Bridge, ctx context.Context, c Connector, m Inbound)
}

// Commands lists the commands' names, as help shows them and Discord
// registers them as slash commands, with their one-line help.
func Commands() []CommandInfo {
	cs := commandTable()
	out := make([]CommandInfo, len(cs))
	for i, c := range cs {
		out[i] = CommandInfo{Name: c.name, Help: c.help}
	}
	return out
}

// CommandInfo is a command's name and one-line help.
type CommandInfo struct{ Name, Help string }

// aliases map other words to commands.
var aliases = map[string]string{"reset": "new"}

// commandTable is the commands in the order help lists them.
func commandTable() []command {
	return []command{
		{"help", "list these commands", (*Bridge).helpCommand},
		{"status", "the agent's jobs and this conversation's", (*Bridge).statusCommand},
		{"new", "start a fresh session here (alias: reset)", (*Bridge).newCommand},
		{"retry", "run this conversation's last prompt again", (*Bridge).retryCommand},
		{"usage", "this conversation's and today's cost and tokens", (*Bridge).usageCommand},
		{"cancel", "stop this conversation's running job", (*Bridge).cancelCommand},
		{"sessions", "the agent's latest sessions", (*Bridge).sessionsCommand},
	}
}

// parseCommand is the command a message is: named by the platform
// (slash), or the message's one word, with or without a leading / or !,
// in any case. A message of more words is a prompt.
func parseCommand(slash, prompt string) (command, bool) {
	w := slash
	if w == "" {
		w = strings.ToLower(strings.TrimLeft(prompt, "/!"))
		if strings.ContainsFunc(w, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' }) {
			return command{}, false
		}
	}
	if a, ok := aliases[w]; ok {
		w = a
	}
	for _, c := range commandTable() {
		if c.name == w {
			return c, true
		}
	}
	return command{}, false
}

func (b *Bridge) helpCommand(ctx context.Context, c Connector, m Inbound) {
	var s strings.Builder
	fmt.Fprintf(&s, "Write to %s after a mention (or in a direct message) and it runs a job with your message as its prompt. Commands:", m.Agent)
	for _, cmd := range commandTable() {
		fmt.Fprintf(&s, "\n`%s` — %s", cmd.name, cmd.help)
	}
	b.say(ctx, c, m, s.String())
}

// newCommand forgets the conversation's session: its next message
// starts a fresh one.
func (b *Bridge) newCommand(ctx context.Context, c Connector, m Inbound) {
	convs := []Conversation{m.Conversation}
	if m.ReplyIn.Channel != "" && m.ReplyIn != m.Conversation {
		convs = append(convs, m.ReplyIn)
	}
	if err := b.Store.Reset(b.now(), convs...); err != nil {
		b.Log.Error("cannot forget the session", append(fields(m, "store_failed"), zap.Error(err))...)
		b.say(ctx, c, m, "✗ Could not start a fresh session: "+tell(err))
		return
	}
	b.say(ctx, c, m, "Started a fresh session: your next message here begins a new conversation with "+m.Agent+".")
}

// retryCommand runs the conversation's last prompt again, in its
// session.
func (b *Bridge) retryCommand(ctx context.Context, c Connector, m Inbound) {
	last := b.Store.Conversation(m.Conversation).LastJob
	if last == "" && m.ReplyIn.Channel != "" {
		last = b.Store.Conversation(m.ReplyIn).LastJob
	}
	if last == "" {
		b.say(ctx, c, m, "Nothing to retry: this conversation has not asked anything yet.")
		return
	}
	j, err := b.Daemon.Job(ctx, last)
	if err != nil || j.Prompt == "" || j.Redacted {
		if err == nil {
			err = fmt.Errorf("%w: job %s has no prompt herdctl-chat may read", ErrRefused, last)
		}
		b.say(ctx, c, m, "✗ Cannot retry job "+last+": "+tell(err))
		return
	}
	b.start(ctx, c, m, j.Prompt, "")
}

// usageCommand says what this conversation's session and the agent's
// day cost.
func (b *Bridge) usageCommand(ctx context.Context, c Connector, m Inbound) {
	var s strings.Builder
	id := b.Store.Session(m.Conversation)
	if id == "" {
		s.WriteString("This conversation: a new session, nothing spent yet.")
	} else {
		ss, err := b.Daemon.Sessions(ctx, m.Agent)
		if err != nil {
			b.Log.Error("cannot ask herdctl for the sessions", append(fields(m, "usage_failed"), zap.Error(err))...)
			b.say(ctx, c, m, "✗ Cannot ask herdctl: "+tell(err))
			return
		}
		var mine api.Session
		for _, x := range ss {
			if x.ID == id {
				mine = x
			}
		}
		fmt.Fprintf(&s, "This conversation (session %.8s): %s, %d job(s), %d tokens in, %d out.", id, state.USD(mine.CostUSD), mine.Jobs, mine.InputTokens, mine.OutputTokens)
	}
	now := b.now()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	days, err := b.Daemon.Cost(ctx, api.CostFilter{Agent: m.Agent, Since: midnight})
	if err != nil {
		b.Log.Error("cannot ask herdctl for the cost", append(fields(m, "usage_failed"), zap.Error(err))...)
		b.say(ctx, c, m, "✗ Cannot ask herdctl: "+tell(err))
		return
	}
	var today api.CostDay
	for _, d := range days {
		if d.Day == now.Format(api.DayLayout) && d.Agent == m.Agent {
			today = d
		}
	}
	fmt.Fprintf(&s, "\n%s today: %s, %d job(s), %d tokens in, %d out.", m.Agent, state.USD(today.CostUSD), today.Jobs, today.InputTokens, today.OutputTokens)
	b.say(ctx, c, m, s.String())
}

// maxSessionsListed bounds the sessions command's answer.
const maxSessionsListed = 5

// sessionsCommand lists the agent's latest sessions.
func (b *Bridge) sessionsCommand(ctx context.Context, c Connector, m Inbound) {
	ss, err := b.Daemon.Sessions(ctx, m.Agent)
	if err != nil {
		b.Log.Error("cannot ask herdctl for the sessions", append(fields(m, "sessions_failed"), zap.Error(err))...)
		b.say(ctx, c, m, "✗ Cannot ask herdctl: "+tell(err))
		return
	}
	if len(ss) == 0 {
		b.say(ctx, c, m, m.Agent+" has no sessions yet.")
		return
	}
	mine := b.Store.Session(m.Conversation)
	var s strings.Builder
	fmt.Fprintf(&s, "%s's latest sessions (of %d):", m.Agent, len(ss))
	for i, x := range ss {
		if i == maxSessionsListed {
			break
		}
		fmt.Fprintf(&s, "\n`%.8s` %d job(s), %s, last %s ago", x.ID, x.Jobs, state.USD(x.CostUSD), ago(b.now().Sub(x.LastStarted)))
		if x.ID == mine {
			s.WriteString(" ← this conversation")
		}
	}
	b.say(ctx, c, m, s.String())
}

// statusCommand answers "status": the agent's jobs and this
// conversation's.
func (b *Bridge) statusCommand(ctx context.Context, c Connector, m Inbound) {
	a, err := b.Daemon.Agent(ctx, m.Agent)
	if err != nil {
		b.Log.Error("cannot ask herdctl about the agent", append(fields(m, "status_failed"), zap.Error(err))...)
		b.say(ctx, c, m, "✗ Cannot ask herdctl: "+tell(err))
		return
	}
	var s strings.Builder
	fmt.Fprintf(&s, "%s: %d of %d jobs running", a.Name, a.Running, a.MaxConcurrent)
	if a.LastJob != "" {
		fmt.Fprintf(&s, "; last job %s %s", a.LastJob, a.LastStatus)
		if !a.LastFinished.IsZero() {
			fmt.Fprintf(&s, " %s ago", ago(b.now().Sub(a.LastFinished)))
		}
	}
	owed := 0
	for _, p := range b.Store.Pending() {
		if p.Conversation == m.Conversation || p.ReplyIn == m.Conversation {
			owed++
		}
	}
	fmt.Fprintf(&s, ". This conversation: %d answer(s) owed", owed)
	if id := b.Store.Session(m.Conversation); id != "" {
		fmt.Fprintf(&s, ", continuing session %.8s", id)
	} else {
		s.WriteString(", a new session")
	}
	s.WriteString(".")
	b.say(ctx, c, m, s.String())
}

// cancelCommand answers "cancel": it stops the jobs this conversation
// started.
func (b *Bridge) cancelCommand(ctx context.Context, c Connector, m Inbound) {
	var ids, failed []string
	for _, p := range b.Store.Pending() {
		if (p.Conversation == m.Conversation || p.ReplyIn == m.Conversation) && p.Ended.IsZero() {
			if err := b.Daemon.Cancel(ctx, p.Job); err != nil {
				b.Log.Error("cannot cancel a job", append(fields(m, "cancel_failed"), zap.String("job", p.Job), zap.Error(err))...)
				failed = append(failed, p.Job+": "+tell(err))
				continue
			}
			ids = append(ids, p.Job)
		}
	}
	b.Log.Info("chat cancel", append(fields(m, "cancel"), zap.Strings("chat_jobs", ids))...)
	switch {
	case len(failed) > 0:
		b.say(ctx, c, m, "✗ Could not cancel "+strings.Join(failed, "; "))
	case len(ids) == 0:
		b.say(ctx, c, m, "Nothing of this conversation is running.")
	default:
		b.say(ctx, c, m, "Cancelling "+strings.Join(ids, ", ")+".")
	}
}

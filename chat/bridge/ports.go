package bridge

import (
	"context"
	"errors"
	"io"

	"github.com/herdctl/herdctl/service/api"
)

// Daemon is what the bridge asks of herdctl's daemon (package
// chat/manager speaks it over D-Bus).
type Daemon interface {
	// Trigger starts a manual job of agent with prompt and returns its
	// id; ErrBusy when the agent runs max_concurrent jobs and o.Queue is
	// false, ErrNotFound when there is no such agent.
	Trigger(ctx context.Context, agent, prompt string, o TriggerOptions) (string, error)
	// Job is a job's record; ErrNotFound when there is none.
	Job(ctx context.Context, id string) (*api.Job, error)
	Cancel(ctx context.Context, id string) error
	Agent(ctx context.Context, name string) (*api.Agent, error)
	// Sessions are agent's sessions, newest first; Cost its cost per
	// day (usage and sessions).
	Sessions(ctx context.Context, agent string) ([]api.Session, error)
	Cost(ctx context.Context, f api.CostFilter) ([]api.CostDay, error)
	// Journal reads a job's journal entries (live progress).
	Journal(ctx context.Context, q api.JournalQuery) (*api.JournalPage, error)
	// Report sends the connectors' state and returns the fingerprint of
	// the daemon's current chat snapshot ("" for none).
	Report(ctx context.Context, cs []api.ChatConnector) (string, error)
	// Events are the daemon's announcements the bridge acts on.
	Events() <-chan Event
}

// TriggerOptions are how a message's job starts.
type TriggerOptions struct {
	// Queue waits for a free slot instead of being refused as busy.
	Queue bool
	// Resume is the session the job continues, "" for a new one.
	Resume string
	// Inbox is the stage of the message's attachments (chat.StagePath),
	// which the job's runner copies into the workspace's inbox/.
	Inbox string
}

// Errors of Daemon the bridge tells apart.
var (
	ErrBusy     = errors.New("the agent runs as many jobs as it may")
	ErrNotFound = errors.New("not found")
	// ErrDenied: herdctl does not let the bridge do it (its user is not
	// in group herdctl, or the bus policy is missing).
	ErrDenied = errors.New("herdctl-chat may not do this: is its user in group herdctl? (systemd-sysusers; the D-Bus policy)")
	// ErrRefused: herdctl refused the request for a reason of its own,
	// which the error says and which may be told to the chat.
	ErrRefused = errors.New("refused by herdctl")
)

// EventKind is what happened.
type EventKind int

// Events of the daemon.
const (
	// JobFinished: job Event.Job ended.
	JobFinished EventKind = iota + 1
	// Reloaded: the fleet was reloaded (the chat snapshot may differ).
	Reloaded
	// Restarted: another daemon took the bus name (a restart).
	Restarted
	// Lost: the connection to the bus is gone.
	Lost
)

// Event is one announcement of the daemon.
type Event struct {
	Kind EventKind
	Job  string
}

// Connector is one bot of one agent on one platform (packages
// chat/discord and chat/slack).
type Connector interface {
	Platform() string
	Agent() string
	Rules() Rules
	Health() *Health
	// Run connects and delivers every message the bot receives to in,
	// reconnecting (and resuming) by itself after drops, until ctx ends
	// or a failure it cannot get over (then the bridge retries later).
	Run(ctx context.Context, in chan<- Inbound) error
	// Post posts one message of text (escaped, within Limit) into to,
	// as a reply to the message replyTo when it is not "", and returns
	// the new message's id.
	Post(ctx context.Context, to Conversation, replyTo, text string) (string, error)
	// Upload posts text as a file called name, with caption as its
	// message, as a reply to replyTo when it is not "".
	Upload(ctx context.Context, to Conversation, replyTo, caption, name, text string) (string, error)
	// Edit replaces the text of the bot's own message id in to (Discord
	// PATCH, Slack chat.update).
	Edit(ctx context.Context, to Conversation, id, text string) error
	// Typing shows that an answer to replyTo is being written in to;
	// called every few seconds while the job runs. DoneTyping takes
	// any lasting sign of it away.
	Typing(ctx context.Context, to Conversation, replyTo string) error
	DoneTyping(ctx context.Context, to Conversation, replyTo string)
	// Fetch writes attachment a to w (which stops it at its limit with
	// an error).
	Fetch(ctx context.Context, a Attachment, w io.Writer) error
	// Limit is the longest message, in UTF-16 code units.
	Limit() int
	// Escape makes text (an answer, a line of the bridge's) safe to
	// post as it is.
	Escape(text string) string
}

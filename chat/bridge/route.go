package bridge

import (
	"time"

	"github.com/herdctl/herdctl/policy"
)

// Platforms.
const (
	Discord = "discord"
	Slack   = "slack"
)

// Conversation is where messages come from and replies go: a channel, a
// direct message channel, or a thread (Slack's threads are inside their
// channel; a Discord thread is a channel of its own).
type Conversation struct {
	Platform string `json:"platform"`
	Agent    string `json:"agent"`
	Channel  string `json:"channel"`
	Thread   string `json:"thread,omitempty"`
}

// Key names the conversation in the session table.
func (c Conversation) Key() string {
	k := c.Platform + "/" + c.Agent + "/" + c.Channel
	if c.Thread != "" {
		k += "/" + c.Thread
	}
	return k
}

// Inbound is one message a connector received. Everything in it came
// from the platform and is untrusted; Text goes nowhere but a prompt.
type Inbound struct {
	Conversation
	// ReplyIn is where the reply to it appears (Slack answers a
	// channel's message in its thread): the conversation that
	// continues there continues the same session.
	ReplyIn Conversation
	// ID is the message's id (Discord) or timestamp (Slack).
	ID string
	// Guild is its Discord server, "" in a direct message or on Slack.
	Guild string
	// Parent is the channel a Discord thread belongs to, when known.
	Parent string
	User   string
	// DM says it is a direct message to the bot; Mentioned that it
	// mentions the bot; FromBot that a bot (this one or another) wrote it.
	DM, Mentioned, FromBot bool
	// Text is the message without the bot's mention.
	Text string
	// Command is the command the platform named (a Discord slash
	// command), "" for a message.
	Command string
	// Attachments are the files attached to the message.
	Attachments []Attachment
}

// Attachment is a file attached to a message, as the platform
// describes it: its name and size are the sender's word, untrusted.
type Attachment struct {
	Name string
	Size int64
	// URL is where the connector fetches it from.
	URL string
}

// Verdict is what the bridge does with a message.
type Verdict int

const (
	// Ignore: not addressed to the bot (or a bot's own): nothing, not
	// even a log entry.
	Ignore Verdict = iota
	// Refuse: addressed to the bot by someone or somewhere the fleet did
	// not allow: nothing but a log entry.
	Refuse
	// Accept: a command or a prompt for the agent.
	Accept
)

// Rules are who may talk to one bot, and where.
type Rules struct {
	// Guild is the Discord server whose channels count ("" on Slack).
	Guild    string
	Channels map[string]bool
	Users    map[string]bool
	// Auto are the channels (a subset of Channels) where every message
	// of a user is for the agent, without a mention.
	Auto map[string]bool
	// Expiry is how long a conversation may be idle before its next
	// message starts a fresh session (policy.DefaultSessionExpiry if 0).
	Expiry time.Duration
}

func (r Rules) expiry() time.Duration {
	if r.Expiry <= 0 {
		return policy.DefaultSessionExpiry
	}
	return r.Expiry
}

func set(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// auto says m was written in an auto channel (or a thread of one) of
// the bot's server.
func (r Rules) auto(m Inbound) bool {
	if r.Guild != "" && m.Guild != r.Guild {
		return false
	}
	return r.Auto[m.Channel] && r.Channels[m.Channel] || m.Parent != "" && r.Auto[m.Parent] && r.Channels[m.Parent]
}

// DiscordRules are the rules of a Discord bot.
func DiscordRules(d *policy.DiscordChat) Rules {
	return Rules{Guild: d.Guild, Channels: set(d.Channels), Users: set(d.Users), Auto: set(d.AutoChannels), Expiry: d.SessionExpiry}
}

// SlackRules are the rules of a Slack app.
func SlackRules(s *policy.SlackChat) Rules {
	return Rules{Channels: set(s.Channels), Users: set(s.Users), Auto: set(s.AutoChannels), Expiry: s.SessionExpiry}
}

// Route decides what m is: a direct message from an allowed user, or a
// mention by an allowed user in an allowed channel (or a thread of one)
// of the allowed server, is accepted; the same from anyone or anywhere
// else is refused with the reason. In an auto channel (or a thread of
// one) an allowed user's every message is accepted; anyone else's is
// chatter, ignored like everything else.
func (r Rules) Route(m Inbound) (Verdict, string) {
	switch {
	case m.FromBot:
		return Ignore, ""
	case m.DM:
		if !r.Users[m.User] {
			return Refuse, "a direct message from a user not in the agent's users"
		}
		return Accept, ""
	case !m.Mentioned && r.auto(m):
		if !r.Users[m.User] {
			return Ignore, ""
		}
		return Accept, ""
	case !m.Mentioned:
		return Ignore, ""
	case r.Guild != "" && m.Guild != r.Guild:
		return Refuse, "a mention in a server other than the agent's guild"
	case !r.Channels[m.Channel] && (m.Parent == "" || !r.Channels[m.Parent]):
		return Refuse, "a mention in a channel not in the agent's channels"
	case !r.Users[m.User]:
		return Refuse, "a mention by a user not in the agent's users"
	}
	return Accept, ""
}

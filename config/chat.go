package config

import (
	"net/url"
)

// Chat is an agent's [chat] table: the bots that connect it to Discord
// and Slack. Only the fleet file may set it (package policy enforces
// that): its tokens are secrets, and who may talk to an agent is the
// fleet owner's decision.
type Chat struct {
	// Busy says what a message does while the agent already runs
	// max_concurrent jobs: "reply" (say it is busy, the default) or
	// "queue" (start the job when a slot frees).
	Busy string `toml:"busy"`
	// LongAnswers says how an answer longer than one message is posted:
	// "split" (several messages, the default) or "file" (one file, with
	// its start as the message).
	LongAnswers string       `toml:"long_answers"`
	Discord     *DiscordChat `toml:"discord"`
	Slack       *SlackChat   `toml:"slack"`
}

// DiscordChat is one Discord bot, the agent's own.
type DiscordChat struct {
	BotToken string   `toml:"bot_token"`
	Guild    string   `toml:"guild"`
	Channels []string `toml:"channels"`
	Users    []string `toml:"users"`
	// AutoChannels are channels (of Channels) where every message of a
	// user is a prompt, with no mention needed; SessionExpiry is how
	// long a conversation may be idle before it starts a fresh session.
	AutoChannels  []string `toml:"auto_channels"`
	SessionExpiry string   `toml:"session_expiry"`
}

// SlackChat is one Slack app in Socket Mode, the agent's own.
type SlackChat struct {
	AppToken      string   `toml:"app_token"`
	BotToken      string   `toml:"bot_token"`
	Channels      []string `toml:"channels"`
	Users         []string `toml:"users"`
	AutoChannels  []string `toml:"auto_channels"`
	SessionExpiry string   `toml:"session_expiry"`
}

// FleetChat is the fleet file's [chat] table.
type FleetChat struct {
	// DiscordAPI and SlackAPI replace the platforms' API base URLs
	// (https://discord.com/, https://slack.com/api/).
	DiscordAPI string `toml:"discord_api"`
	SlackAPI   string `toml:"slack_api"`
}

// checkFleetChat checks the fleet's [chat] endpoints.
func checkFleetChat(f *Fleet, doc *document) Errors {
	var errs Errors
	for _, c := range []struct{ field, value string }{{"chat.discord_api", f.Chat.DiscordAPI}, {"chat.slack_api", f.Chat.SlackAPI}} {
		if c.value == "" {
			continue
		}
		u, err := url.Parse(c.value)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, Errorf(doc.idx.at(f.File, c.field), "must be an http or https URL without credentials or query, e.g. https://relay.example.com/discord/"))
		}
	}
	return errs
}

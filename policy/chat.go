package policy

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/herdctl/herdctl/config"
)

// Chat is an agent's resolved [chat] table: what herdctl-chat.service
// needs to connect the agent's own bots. It holds the bots' tokens: it
// travels only in the chat snapshot (package chat), never in the agent's
// snapshot for its runner, a unit, a log line or the D-Bus API.
type Chat struct {
	Agent string `json:"agent"`
	// Busy is BusyReply or BusyQueue.
	Busy string `json:"busy"`
	// LongAnswers is LongAnswersSplit or LongAnswersFile.
	LongAnswers string       `json:"long_answers"`
	Discord     *DiscordChat `json:"discord,omitempty"`
	Slack       *SlackChat   `json:"slack,omitempty"`
}

// What a chat message does while its agent runs max_concurrent jobs.
const (
	BusyReply = "reply" // answer that the agent is busy
	BusyQueue = "queue" // queue the job until a slot frees
)

// How an answer longer than one message is posted.
const (
	LongAnswersSplit = "split" // several messages
	LongAnswersFile  = "file"  // one file, its start as the message
)

// DiscordChat is an agent's Discord bot.
type DiscordChat struct {
	// API is the base URL of Discord (the fleet's [chat] discord_api).
	API string `json:"api"`
	// BotToken is the bot's token, without the "Bot " prefix.
	BotToken string   `json:"bot_token"`
	Guild    string   `json:"guild,omitempty"`
	Channels []string `json:"channels,omitempty"`
	Users    []string `json:"users"`
	// AutoChannels are the channels (of Channels) where the bot takes
	// every message of a user, without a mention.
	AutoChannels []string `json:"auto_channels,omitempty"`
	// SessionExpiry is how long a conversation may be idle before its
	// next message starts a fresh session.
	SessionExpiry time.Duration `json:"session_expiry"`
}

// SlackChat is an agent's Slack app (Socket Mode).
type SlackChat struct {
	// API is the base URL of Slack's Web API (the fleet's [chat]
	// slack_api).
	API           string        `json:"api"`
	AppToken      string        `json:"app_token"`
	BotToken      string        `json:"bot_token"`
	Channels      []string      `json:"channels,omitempty"`
	Users         []string      `json:"users"`
	AutoChannels  []string      `json:"auto_channels,omitempty"`
	SessionExpiry time.Duration `json:"session_expiry"`
}

// DefaultSessionExpiry is session_expiry's default.
const DefaultSessionExpiry = 24 * time.Hour

// The platforms' own endpoints.
const (
	DefaultDiscordAPI = "https://discord.com/"
	DefaultSlackAPI   = "https://slack.com/api/"
)

// MaxChatIDs bounds the channels and users of one bot.
const MaxChatIDs = 256

var (
	discordIDRe      = regexp.MustCompile(`^[0-9]{1,20}$`)
	slackChannelRe   = regexp.MustCompile(`^[CGD][A-Z0-9]{2,20}$`)
	slackUserRe      = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)
	tokenCharsRe     = regexp.MustCompile(`^[A-Za-z0-9._\-]{20,256}$`)
	slackTokenCharRe = regexp.MustCompile(`^[A-Za-z0-9\-]{10,256}$`)
)

// resolveChat resolves the agent's [chat] table, or nil when it has none.
// No error quotes a value of the table: a token pasted into the wrong
// field must not reach herdctlctl status, which anyone may read.
func resolveChat(f *config.Fleet, a *config.AgentConfig) (*Chat, config.Errors) {
	for _, f := range a.AgentFileFields() {
		if f.Path == "chat" || strings.HasPrefix(f.Path, "chat.") {
			return nil, nil // checkTiers refuses it
		}
	}
	c := a.Chat
	if c.Discord == nil && c.Slack == nil {
		if c.Busy != "" {
			return nil, config.Errors{config.Errorf(a.Where("chat.busy"), "set [chat.discord] or [chat.slack] for this agent, or remove chat.busy")}
		}
		if c.LongAnswers != "" {
			return nil, config.Errors{config.Errorf(a.Where("chat.long_answers"), "set [chat.discord] or [chat.slack] for this agent, or remove chat.long_answers")}
		}
		return nil, nil
	}
	var errs config.Errors
	bad := func(path, format string, args ...any) {
		errs = append(errs, config.Errorf(a.Where("chat."+path), format, args...))
	}
	r := &Chat{Agent: a.Name, Busy: orString(c.Busy, BusyReply), LongAnswers: orString(c.LongAnswers, LongAnswersSplit)}
	if r.LongAnswers != LongAnswersSplit && r.LongAnswers != LongAnswersFile {
		bad("long_answers", "invalid value: use %q (several messages) or %q (one file)", LongAnswersSplit, LongAnswersFile)
	}
	if r.Busy != BusyReply && r.Busy != BusyQueue {
		bad("busy", "invalid value: use %q (answer that the agent is busy) or %q (run it when a job of the agent ends)", BusyReply, BusyQueue)
	}
	checkIDs := func(path string, ids []string, re *regexp.Regexp, what string) {
		if len(ids) > MaxChatIDs {
			bad(path, "%d entries; at most %d are allowed", len(ids), MaxChatIDs)
		}
		seen := map[string]bool{}
		for i, id := range ids {
			switch {
			case !re.MatchString(id):
				bad(fmt.Sprintf("%s[%d]", path, i), "not a %s", what)
			case seen[id]:
				bad(fmt.Sprintf("%s[%d]", path, i), "listed twice")
			}
			seen[id] = true
		}
	}
	// auto checks auto_channels against channels, and reads
	// session_expiry.
	auto := func(table string, autos, channels []string, expiry string) time.Duration {
		in := set(channels)
		for i, id := range autos {
			if !in[id] {
				bad(fmt.Sprintf("%s.auto_channels[%d]", table, i), "not in %s.channels: an auto channel must be one of the bot's channels", table)
			}
		}
		if len(autos) > MaxChatIDs {
			bad(table+".auto_channels", "%d entries; at most %d are allowed", len(autos), MaxChatIDs)
		}
		if expiry == "" {
			return DefaultSessionExpiry
		}
		d, err := config.ParseDuration(expiry)
		if err == nil && d < time.Minute {
			err = fmt.Errorf("%s is shorter than a minute", expiry)
		}
		if err != nil {
			bad(table+".session_expiry", "%v (how long a conversation may be idle before it starts a fresh session; the default is 24h)", err)
		}
		return d
	}
	if d := c.Discord; d != nil {
		rd := &DiscordChat{API: apiURL(f.Chat.DiscordAPI, DefaultDiscordAPI), BotToken: strings.TrimPrefix(d.BotToken, "Bot "),
			Guild: d.Guild, Channels: d.Channels, Users: d.Users, AutoChannels: d.AutoChannels,
			SessionExpiry: auto("discord", d.AutoChannels, d.Channels, d.SessionExpiry)}
		if !tokenCharsRe.MatchString(rd.BotToken) {
			bad("discord.bot_token", "missing or not a Discord bot token (20 to 256 letters, digits, '.', '_' or '-'): copy it from the Developer Portal's Bot page into the env file and write bot_token = \"${NAME}\"")
		}
		if d.Guild != "" && !discordIDRe.MatchString(d.Guild) {
			bad("discord.guild", "not a Discord server id (digits; enable Developer Mode and copy the server's id)")
		}
		if len(d.Channels) > 0 && d.Guild == "" {
			bad("discord.guild", "missing: channels are listened to only in the server named by guild")
		}
		checkIDs("discord.channels", d.Channels, discordIDRe, "Discord channel id (digits)")
		checkIDs("discord.users", d.Users, discordIDRe, "Discord user id (digits)")
		if len(d.Users) == 0 {
			bad("discord.users", "missing: list the ids of the users who may talk to this agent; nobody else can")
		}
		r.Discord = rd
	}
	if s := c.Slack; s != nil {
		rs := &SlackChat{API: apiURL(f.Chat.SlackAPI, DefaultSlackAPI), AppToken: s.AppToken, BotToken: s.BotToken,
			Channels: s.Channels, Users: s.Users, AutoChannels: s.AutoChannels,
			SessionExpiry: auto("slack", s.AutoChannels, s.Channels, s.SessionExpiry)}
		if !strings.HasPrefix(s.AppToken, "xapp-") || !slackTokenCharRe.MatchString(s.AppToken) {
			bad("slack.app_token", "missing or not an app-level token (xapp-...) with the connections:write scope, which Socket Mode needs")
		}
		if !strings.HasPrefix(s.BotToken, "xoxb-") || !slackTokenCharRe.MatchString(s.BotToken) {
			bad("slack.bot_token", "missing or not a bot token (xoxb-...)")
		}
		checkIDs("slack.channels", s.Channels, slackChannelRe, "Slack channel id (C..., G... or D...)")
		checkIDs("slack.users", s.Users, slackUserRe, "Slack user id (U... or W...)")
		if len(s.Users) == 0 {
			bad("slack.users", "missing: list the ids of the users who may talk to this agent; nobody else can")
		}
		r.Slack = rs
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

func set(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// apiURL is the fleet's endpoint, or def, ending in a slash.
func apiURL(v, def string) string {
	if v == "" {
		return def
	}
	if !strings.HasSuffix(v, "/") {
		v += "/"
	}
	return v
}

// chatTokens remembers which agent holds each bot token of the fleet:
// one bot per agent, so that no agent reads another's channels.
type chatTokens map[string]string

// claim records r's tokens, or says which agent already holds one.
func (t chatTokens) claim(a *config.AgentConfig, r *Agent) error {
	if r.Chat == nil {
		return nil
	}
	type use struct{ path, token string }
	var uses []use
	if d := r.Chat.Discord; d != nil {
		uses = append(uses, use{"chat.discord.bot_token", "discord " + d.BotToken})
	}
	if s := r.Chat.Slack; s != nil {
		uses = append(uses, use{"chat.slack.app_token", "slack " + s.AppToken}, use{"chat.slack.bot_token", "slack " + s.BotToken})
	}
	var errs config.Errors
	for _, u := range uses {
		if other, ok := t[u.token]; ok && other != a.Name {
			errs = append(errs, config.Errorf(a.Where(u.path), "agent %s already uses this token: every agent needs its own bot, so that no agent reads another's channels", other))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	for _, u := range uses {
		t[u.token] = a.Name
	}
	return nil
}

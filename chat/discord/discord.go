// Package discord is the chat bridge's Discord connector: one bot of one
// agent, on github.com/bwmarrin/discordgo. It speaks the gateway (hello,
// heartbeat, identify, resume after a drop, with the library's own
// reconnect backoff) with only the intents for server and direct
// messages (and Message Content when the bot has auto channels), turns MESSAGE_CREATE into the bridge's Inbound, registers
// the bridge's commands as the guild's slash commands and turns their
// INTERACTION_CREATE into Inbound too, and posts and edits replies that
// can mention nobody; discordgo waits out a 429's retry_after and tries
// again.
package discord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.uber.org/zap"

	"github.com/herdctl/herdctl/chat/bridge"
	"github.com/herdctl/herdctl/chat/text"
	"github.com/herdctl/herdctl/policy"
)

// SetEndpoint points discordgo at base (the fleet's [chat] discord_api,
// e.g. https://discord.com/). discordgo computes its endpoints from
// package variables once, at start-up, so every derived one is set here.
// They are the process's: call it before any connector runs (the
// endpoint is the fleet's, the same for every bot; a changed one
// restarts the bridge).
func SetEndpoint(base string) {
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	api := base + "api/v" + discordgo.APIVersion + "/"
	discordgo.EndpointDiscord = base
	discordgo.EndpointAPI = api
	discordgo.EndpointGuilds = api + "guilds/"
	discordgo.EndpointChannels = api + "channels/"
	discordgo.EndpointUsers = api + "users/"
	discordgo.EndpointGateway = api + "gateway"
	discordgo.EndpointGatewayBot = discordgo.EndpointGateway + "/bot"
	discordgo.EndpointWebhooks = api + "webhooks/"
	discordgo.EndpointApplications = api + "applications"
	discordgo.EndpointVoice = api + "/voice/"
	discordgo.EndpointVoiceRegions = discordgo.EndpointVoice + "regions"
}

// SetLogger sends discordgo's own messages (errors only) to log. Its
// messages never hold the token at that level.
func SetLogger(log *zap.Logger) {
	discordgo.Logger = func(level, _ int, format string, a ...any) {
		if level > discordgo.LogWarning {
			return
		}
		log.Warn("discordgo: "+text.OneLine(fmt.Sprintf(format, a...), 300), zap.String("chat_platform", bridge.Discord))
	}
}

// typingEvery is how often the typing indicator is renewed per channel
// (it lasts 10 seconds).
const typingEvery = 7 * time.Second

// Connector is one agent's Discord bot.
type Connector struct {
	agent  string
	rules  bridge.Rules
	health *bridge.Health
	log    *zap.Logger
	s      *discordgo.Session

	// ready is closed once the first READY has named the bot: discordgo
	// runs each handler in a goroutine of its own, so a message that
	// follows READY on the gateway may be handled before it.
	ready     chan struct{}
	readyOnce sync.Once

	mu      sync.Mutex
	botID   string
	appID   string
	in      chan<- bridge.Inbound
	ctx     context.Context
	parents map[string]string    // thread → its channel ("" when not a thread)
	typed   map[string]time.Time // channel → last typing indicator
	// interactions are the slash commands received, by their message id
	// for the bridge ("i:" and the interaction's id), until their
	// deferred answer is given; originals are the answers given, by
	// message id, which are edited through the interaction's token.
	interactions map[string]*interaction
	originals    map[string]*interaction
	// files fetches attachments: no redirect to elsewhere, no proxy
	// from the environment.
	files *http.Client
}

// New makes the connector of agent's bot; it connects in Run.
func New(agent string, cfg *policy.DiscordChat, h *bridge.Health, log *zap.Logger) *Connector {
	s, _ := discordgo.New("Bot " + cfg.BotToken) // cannot fail
	s.Identify.Intents = discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages
	if len(cfg.AutoChannels) > 0 {
		// The text of messages that do not mention the bot: a
		// privileged intent, switched on in the Developer Portal.
		s.Identify.Intents |= discordgo.IntentMessageContent
	}
	s.StateEnabled = false
	s.LogLevel = discordgo.LogWarning
	s.Client = &http.Client{Timeout: 30 * time.Second}
	s.MaxRestRetries = 3
	c := &Connector{agent: agent, rules: bridge.DiscordRules(cfg), health: h, s: s, ready: make(chan struct{}), parents: map[string]string{}, typed: map[string]time.Time{},
		interactions: map[string]*interaction{}, originals: map[string]*interaction{},
		files: &http.Client{Timeout: 2 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		log:   log.With(zap.String("chat_platform", bridge.Discord), zap.String("chat_agent", agent), zap.String("agent", agent))}
	s.AddHandler(c.onReady)
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) {
		c.health.Connected()
		c.log.Info("Discord gateway resumed", zap.String("chat_event", "resumed"))
	})
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) {
		c.health.Disconnected(nil)
		c.log.Warn("Discord gateway disconnected: reconnecting", zap.String("chat_event", "disconnected"))
	})
	s.AddHandler(func(_ *discordgo.Session, rl *discordgo.RateLimit) {
		err := fmt.Errorf("rate limited by Discord: retrying after %s", rl.RetryAfter)
		c.health.Error(err)
		c.log.Warn(err.Error(), zap.String("chat_event", "rate_limited"), zap.Duration("chat_retry_after", rl.RetryAfter))
	})
	s.AddHandler(c.onMessage)
	s.AddHandler(c.onInteraction)
	return c
}

// Platform implements bridge.Connector.
func (c *Connector) Platform() string { return bridge.Discord }

// Agent implements bridge.Connector.
func (c *Connector) Agent() string { return c.agent }

// Rules implements bridge.Connector.
func (c *Connector) Rules() bridge.Rules { return c.rules }

// Health implements bridge.Connector.
func (c *Connector) Health() *bridge.Health { return c.health }

// Limit implements bridge.Connector.
func (c *Connector) Limit() int { return text.DiscordLimit }

// Escape implements bridge.Connector: nothing, as replies are sent with
// no mention allowed.
func (c *Connector) Escape(s string) string { return s }

// Run implements bridge.Connector: it opens the gateway and keeps it
// until ctx ends; discordgo reconnects and resumes by itself.
func (c *Connector) Run(ctx context.Context, in chan<- bridge.Inbound) error {
	c.mu.Lock()
	c.in, c.ctx = in, ctx
	c.mu.Unlock()
	if err := c.s.Open(); err != nil {
		return fmt.Errorf("connecting to Discord: %w", clean(err))
	}
	<-ctx.Done()
	c.s.Close()
	return nil
}

func (c *Connector) onReady(_ *discordgo.Session, r *discordgo.Ready) {
	if r.User == nil {
		return
	}
	app := r.User.ID
	if r.Application != nil && r.Application.ID != "" {
		app = r.Application.ID
	}
	c.mu.Lock()
	c.botID, c.appID = r.User.ID, app
	ctx := c.ctx
	c.mu.Unlock()
	c.readyOnce.Do(func() { close(c.ready) })
	c.health.Connected()
	c.log.Info("Discord gateway connected", zap.String("chat_event", "connected"), zap.String("chat_bot", r.User.ID))
	if c.rules.Guild != "" && ctx != nil {
		go c.registerCommands(ctx, app)
	}
}

func (c *Connector) onMessage(_ *discordgo.Session, mc *discordgo.MessageCreate) {
	m := mc.Message
	if m == nil || m.Author == nil {
		return
	}
	c.mu.Lock()
	in, ctx := c.in, c.ctx
	c.mu.Unlock()
	if in == nil {
		return
	}
	select {
	case <-c.ready:
	case <-ctx.Done():
		return
	}
	c.mu.Lock()
	bot := c.botID
	c.mu.Unlock()
	conv := bridge.Conversation{Platform: bridge.Discord, Agent: c.agent, Channel: m.ChannelID}
	msg := bridge.Inbound{Conversation: conv, ReplyIn: conv, ID: m.ID, Guild: m.GuildID, User: m.Author.ID,
		DM: m.GuildID == "", FromBot: m.Author.Bot || m.Author.ID == bot, Text: m.Content}
	for _, a := range m.Attachments {
		if a != nil {
			msg.Attachments = append(msg.Attachments, bridge.Attachment{Name: a.Filename, Size: int64(a.Size), URL: a.URL})
		}
	}
	for _, u := range m.Mentions {
		if u != nil && u.ID == bot && bot != "" {
			msg.Mentioned = true
		}
	}
	if msg.Mentioned {
		msg.Text = strings.NewReplacer("<@"+bot+">", "", "<@!"+bot+">", "").Replace(msg.Text)
	}
	if (msg.Mentioned || len(c.rules.Auto) > 0) && !msg.DM && !msg.FromBot && !c.rules.Channels[m.ChannelID] {
		msg.Parent = c.parent(ctx, m.ChannelID)
	}
	select {
	case in <- msg:
	case <-ctx.Done():
	}
}

// parent is the channel thread belongs to, "" when it is no thread (or
// Discord would not say). Asked once per channel.
func (c *Connector) parent(ctx context.Context, channel string) string {
	c.mu.Lock()
	p, ok := c.parents[channel]
	c.mu.Unlock()
	if ok {
		return p
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ch, err := c.s.Channel(channel, discordgo.WithContext(ctx))
	if err != nil {
		return ""
	}
	if ch.IsThread() {
		p = ch.ParentID
	}
	c.mu.Lock()
	if len(c.parents) > 10000 {
		c.parents = map[string]string{}
	}
	c.parents[channel] = p
	c.mu.Unlock()
	return p
}

// noEmbeds asks Discord to unfurl no link of a message: an answer's and
// a progress line's links are the agent's, and Discord's servers would
// fetch them (a request to a host the agent chose, past its egress
// rules, with whatever it put in the URL), as Slack's MsgOption-
// DisableLinkUnfurl says for Slack.
const noEmbeds = discordgo.MessageFlagsSuppressEmbeds

// noMentions lets a message mention nobody.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// Post implements bridge.Connector. The first post that answers a slash
// command is that command's (deferred) answer.
func (c *Connector) Post(ctx context.Context, to bridge.Conversation, replyTo, text string) (string, error) {
	if it := c.takeInteraction(replyTo); it != nil {
		m, err := c.s.InteractionResponseEdit(it.i, &discordgo.WebhookEdit{Content: &text, AllowedMentions: noMentions()}, discordgo.WithContext(ctx))
		if err == nil {
			c.mu.Lock()
			c.originals[m.ID] = it
			c.mu.Unlock()
			return m.ID, nil
		}
		c.log.Warn("cannot answer a slash command: posting instead", zap.String("chat_event", "interaction_failed"), zap.Error(clean(err)))
		replyTo = ""
	} else if isInteraction(replyTo) {
		replyTo = "" // answered already: the rest follows in the channel
	}
	send := &discordgo.MessageSend{Content: text, AllowedMentions: noMentions(), Flags: noEmbeds}
	if replyTo != "" {
		no := false
		send.Reference = &discordgo.MessageReference{MessageID: replyTo, ChannelID: to.Channel, FailIfNotExists: &no}
	}
	m, err := c.s.ChannelMessageSendComplex(to.Channel, send, discordgo.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("posting to Discord channel %s: %w", to.Channel, clean(err))
	}
	return m.ID, nil
}

// Upload implements bridge.Connector: a message with the file attached
// (multipart), mentioning nobody.
func (c *Connector) Upload(ctx context.Context, to bridge.Conversation, replyTo, caption, name, text string) (string, error) {
	send := &discordgo.MessageSend{Content: caption, AllowedMentions: noMentions(), Flags: noEmbeds,
		Files: []*discordgo.File{{Name: name, ContentType: "text/markdown; charset=utf-8", Reader: strings.NewReader(text)}}}
	if replyTo != "" && !isInteraction(replyTo) {
		no := false
		send.Reference = &discordgo.MessageReference{MessageID: replyTo, ChannelID: to.Channel, FailIfNotExists: &no}
	}
	m, err := c.s.ChannelMessageSendComplex(to.Channel, send, discordgo.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("uploading to Discord channel %s: %w", to.Channel, clean(err))
	}
	return m.ID, nil
}

// Edit implements bridge.Connector: PATCH of the bot's message (through
// the interaction's token for a slash command's answer), mentioning
// nobody.
func (c *Connector) Edit(ctx context.Context, to bridge.Conversation, id, text string) error {
	c.mu.Lock()
	it := c.originals[id]
	c.mu.Unlock()
	var err error
	if it != nil && time.Since(it.at) < interactionLife {
		_, err = c.s.InteractionResponseEdit(it.i, &discordgo.WebhookEdit{Content: &text, AllowedMentions: noMentions()}, discordgo.WithContext(ctx))
	} else {
		_, err = c.s.ChannelMessageEditComplex(&discordgo.MessageEdit{ID: id, Channel: to.Channel, Content: &text, AllowedMentions: noMentions(), Flags: noEmbeds}, discordgo.WithContext(ctx))
	}
	if err != nil {
		return fmt.Errorf("editing a message in Discord channel %s: %w", to.Channel, clean(err))
	}
	return nil
}

// Typing implements bridge.Connector: at most every 7 s per channel.
func (c *Connector) Typing(ctx context.Context, to bridge.Conversation, _ string) error {
	c.mu.Lock()
	if time.Since(c.typed[to.Channel]) < typingEvery {
		c.mu.Unlock()
		return nil
	}
	c.typed[to.Channel] = time.Now()
	c.mu.Unlock()
	return clean(c.s.ChannelTyping(to.Channel, discordgo.WithContext(ctx)))
}

// DoneTyping implements bridge.Connector: Discord's indicator ends with
// the reply.
func (c *Connector) DoneTyping(_ context.Context, to bridge.Conversation, _ string) {
	c.mu.Lock()
	delete(c.typed, to.Channel)
	c.mu.Unlock()
}

// Fetch implements bridge.Connector: a GET of the attachment's URL on
// Discord's CDN, which needs no token (none is sent).
func (c *Connector) Fetch(ctx context.Context, a bridge.Attachment, w io.Writer) error {
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("the attachment's URL is not an http or https one")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL, nil)
	if err != nil {
		return err
	}
	resp, err := c.files.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which carries a signature
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// clean shortens discordgo's REST errors, which quote the whole response
// (and so whatever Discord echoed of the request), to their status.
func clean(err error) error {
	if err == nil {
		return nil
	}
	if re, ok := err.(*discordgo.RESTError); ok && re.Response != nil {
		msg := ""
		if re.Message != nil {
			msg = ": " + text.OneLine(re.Message.Message, 120)
		}
		return fmt.Errorf("HTTP %d%s", re.Response.StatusCode, msg)
	}
	return err
}

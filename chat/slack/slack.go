// Package slack is the chat bridge's Slack connector: one app of one
// agent in Socket Mode (no public endpoint), on github.com/slack-go/slack.
// It opens the connection with the app-level token (apps.connections.open),
// acknowledges every envelope, turns app_mention events, direct messages
// and the messages of auto channels into the bridge's Inbound, and posts replies in the message's
// thread with chat.postMessage, retried after a 429's Retry-After.
// Slack has no typing indicator for apps: a reaction on the message
// stands for one while the job runs.
package slack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
	"go.uber.org/zap"

	"github.com/herdctl/herdctl/chat/bridge"
	"github.com/herdctl/herdctl/chat/text"
	"github.com/herdctl/herdctl/policy"
)

// WorkingReaction marks a message whose job runs.
const WorkingReaction = "hourglass_flowing_sand"

// Connector is one agent's Slack app.
type Connector struct {
	agent  string
	rules  bridge.Rules
	health *bridge.Health
	log    *zap.Logger
	api    *slack.Client

	mu      sync.Mutex
	botID   string
	reacted map[string]bool // channel/ts with our reaction
}

// New makes the connector of agent's app; it connects in Run.
func New(agent string, cfg *policy.SlackChat, h *bridge.Health, log *zap.Logger) *Connector {
	api := slack.New(cfg.BotToken, slack.OptionAppLevelToken(cfg.AppToken), slack.OptionAPIURL(cfg.API),
		slack.OptionHTTPClient(&http.Client{Timeout: 30 * time.Second}), slack.OptionRetry(3))
	return &Connector{agent: agent, rules: bridge.SlackRules(cfg), health: h, api: api, reacted: map[string]bool{},
		log: log.With(zap.String("chat_platform", bridge.Slack), zap.String("chat_agent", agent), zap.String("agent", agent))}
}

// Platform implements bridge.Connector.
func (c *Connector) Platform() string { return bridge.Slack }

// Agent implements bridge.Connector.
func (c *Connector) Agent() string { return c.agent }

// Rules implements bridge.Connector.
func (c *Connector) Rules() bridge.Rules { return c.rules }

// Health implements bridge.Connector.
func (c *Connector) Health() *bridge.Health { return c.health }

// Limit implements bridge.Connector.
func (c *Connector) Limit() int { return text.SlackLimit }

// Escape implements bridge.Connector.
func (c *Connector) Escape(s string) string { return text.EscapeSlack(s) }

// Run implements bridge.Connector: it learns the bot's own user id
// (auth.test), then runs Socket Mode until ctx ends; socketmode
// reconnects with its own backoff, and returns only for a failure it
// cannot get over (a revoked token).
func (c *Connector) Run(ctx context.Context, in chan<- bridge.Inbound) error {
	auth, err := c.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("auth.test with the Slack bot token: %w", err)
	}
	c.mu.Lock()
	c.botID = auth.UserID
	c.mu.Unlock()
	sm := socketmode.New(c.api)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.consume(ctx, sm, in)
	}()
	err = sm.RunContext(ctx)
	cancel()
	<-done
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("socket mode: %w", scrub(err))
}

// ticketRe matches a Socket Mode URL's ticket (a short-lived credential).
var ticketRe = regexp.MustCompile(`([?&](ticket|token)=)[^&\s"]+`)

// scrub takes tickets out of an error's text, which may quote the Socket
// Mode URL.
func scrub(err error) error {
	if err == nil {
		return nil
	}
	if s := ticketRe.ReplaceAllString(err.Error(), "${1}…"); s != err.Error() {
		return errors.New(s)
	}
	return err
}

// consume handles socketmode's events until ctx ends.
func (c *Connector) consume(ctx context.Context, sm *socketmode.Client, in chan<- bridge.Inbound) {
	for {
		var ev socketmode.Event
		select {
		case <-ctx.Done():
			return
		case ev = <-sm.Events:
		}
		switch ev.Type {
		case socketmode.EventTypeConnected, socketmode.EventTypeHello:
			if !c.health.IsConnected() {
				c.log.Info("Slack Socket Mode connected", zap.String("chat_event", "connected"))
			}
			c.health.Connected()
		case socketmode.EventTypeConnectionError:
			var err error = errors.New("connection failed")
			if ce, ok := ev.Data.(*slack.ConnectionErrorEvent); ok && ce.ErrorObj != nil {
				err = ce.ErrorObj
			}
			err = scrub(err)
			c.health.Disconnected(fmt.Errorf("connecting to Slack: %w", err))
			c.log.Warn("Slack connection failed: retrying", zap.String("chat_event", "connection_error"), zap.Error(err))
		case socketmode.EventTypeDisconnect:
			c.health.Disconnected(nil)
			c.log.Info("Slack asked to reconnect", zap.String("chat_event", "disconnected"))
		case socketmode.EventTypeInvalidAuth:
			c.health.Disconnected(errors.New("the app-level token was refused"))
		case socketmode.EventTypeEventsAPI:
			if ev.Request != nil {
				sm.Ack(*ev.Request)
			}
			api, ok := ev.Data.(slackevents.EventsAPIEvent)
			if !ok || api.Type != slackevents.CallbackEvent {
				continue
			}
			if m, ok := c.inbound(api.InnerEvent.Data); ok {
				select {
				case in <- m:
				case <-ctx.Done():
					return
				}
			}
		}
	}
}

// inbound turns an inner event into a message: a mention in a channel,
// or a direct message.
func (c *Connector) inbound(data any) (bridge.Inbound, bool) {
	c.mu.Lock()
	bot := c.botID
	c.mu.Unlock()
	var m bridge.Inbound
	switch e := data.(type) {
	case *slackevents.AppMentionEvent:
		m = bridge.Inbound{Conversation: bridge.Conversation{Channel: e.Channel, Thread: e.ThreadTimeStamp}, ID: e.TimeStamp,
			User: e.User, Mentioned: true, FromBot: e.BotID != "" || e.User == bot, Text: e.Text, Attachments: files(e.Files)}
	case *slackevents.MessageEvent:
		switch {
		case e.SubType != "" && e.SubType != "file_share":
			return m, false // edits and joins are not messages
		case e.IsIM():
			m = bridge.Inbound{Conversation: bridge.Conversation{Channel: e.Channel, Thread: e.ThreadTimeStamp}, ID: e.TimeStamp,
				User: e.User, DM: true, FromBot: e.BotID != "" || e.User == bot, Text: e.Text}
			m.Mentioned = strings.Contains(e.Text, "<@"+bot+">")
			if e.Message != nil {
				m.Attachments = files(e.Message.Files)
			}
		case c.rules.Auto[e.Channel] && !strings.Contains(e.Text, "<@"+bot+">"):
			// An auto channel's message without a mention (one with
			// comes as app_mention too).
			m = bridge.Inbound{Conversation: bridge.Conversation{Channel: e.Channel, Thread: e.ThreadTimeStamp}, ID: e.TimeStamp,
				User: e.User, FromBot: e.BotID != "" || e.User == bot, Text: e.Text}
			if e.Message != nil {
				m.Attachments = files(e.Message.Files)
			}
		default:
			return m, false // channels' mentions come as app_mention
		}
	default:
		return m, false
	}
	m.Platform, m.Agent = bridge.Slack, c.agent
	m.Text = strings.ReplaceAll(m.Text, "<@"+bot+">", "")
	m.ReplyIn = m.Conversation
	if !m.DM && m.Thread == "" {
		// A channel's message is answered in its thread.
		m.ReplyIn.Thread = m.ID
	}
	return m, true
}

// files are a message's files as the bridge's attachments.
func files(fs []slack.File) []bridge.Attachment {
	var out []bridge.Attachment
	for _, f := range fs {
		out = append(out, bridge.Attachment{Name: f.Name, Size: int64(f.Size), URL: f.URLPrivateDownload})
	}
	return out
}

// Fetch implements bridge.Connector: a GET of the file's private URL with
// the bot token (files:read), which the library sends only to Slack's
// own hosts (or the fleet's slack_api).
func (c *Connector) Fetch(ctx context.Context, a bridge.Attachment, w io.Writer) error {
	if err := c.api.GetFileContext(ctx, a.URL, w); err != nil {
		return fmt.Errorf("downloading from Slack: %w", scrub(err))
	}
	return nil
}

// Post implements bridge.Connector: into to's thread, if any; no link
// or media unfurls (an answer's links are the agent's).
func (c *Connector) Post(ctx context.Context, to bridge.Conversation, _ string, text string) (string, error) {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl()}
	if to.Thread != "" {
		opts = append(opts, slack.MsgOptionTS(to.Thread))
	}
	_, ts, err := c.api.PostMessageContext(ctx, to.Channel, opts...)
	if err != nil {
		c.rateLimited(err)
		return "", fmt.Errorf("posting to Slack channel %s: %w", to.Channel, err)
	}
	return ts, nil
}

// Upload implements bridge.Connector: files.uploadV2 (get an upload URL,
// upload, complete into the channel and thread with caption as its
// comment).
func (c *Connector) Upload(ctx context.Context, to bridge.Conversation, _ string, caption, name, text string) (string, error) {
	f, err := c.api.UploadFileContext(ctx, slack.UploadFileParameters{Filename: name, FileSize: len(text), Content: text, Title: name,
		InitialComment: caption, Channel: to.Channel, ThreadTimestamp: to.Thread})
	if err != nil {
		c.rateLimited(err)
		return "", fmt.Errorf("uploading to Slack channel %s: %w", to.Channel, err)
	}
	return f.ID, nil
}

// Edit implements bridge.Connector: chat.update of the app's own
// message.
func (c *Connector) Edit(ctx context.Context, to bridge.Conversation, id, text string) error {
	_, _, _, err := c.api.UpdateMessageContext(ctx, to.Channel, id, slack.MsgOptionText(text, false))
	if err != nil {
		c.rateLimited(err)
		return fmt.Errorf("updating a message in Slack channel %s: %w", to.Channel, err)
	}
	return nil
}

// rateLimited logs a 429 that outlasted the client's retries.
func (c *Connector) rateLimited(err error) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		c.log.Warn("rate limited by Slack", zap.String("chat_event", "rate_limited"), zap.Duration("chat_retry_after", rl.RetryAfter))
	}
}

// Typing implements bridge.Connector: a reaction on the message, once.
func (c *Connector) Typing(ctx context.Context, to bridge.Conversation, replyTo string) error {
	if replyTo == "" {
		return nil
	}
	key := to.Channel + "/" + replyTo
	c.mu.Lock()
	done := c.reacted[key]
	c.reacted[key] = true
	c.mu.Unlock()
	if done {
		return nil
	}
	err := c.api.AddReactionContext(ctx, WorkingReaction, slack.NewRefToMessage(to.Channel, replyTo))
	if err != nil && !strings.Contains(err.Error(), "already_reacted") {
		return err
	}
	return nil
}

// DoneTyping implements bridge.Connector: the reaction goes.
func (c *Connector) DoneTyping(ctx context.Context, to bridge.Conversation, replyTo string) {
	if replyTo == "" {
		return
	}
	key := to.Channel + "/" + replyTo
	c.mu.Lock()
	delete(c.reacted, key)
	c.mu.Unlock()
	c.api.RemoveReactionContext(ctx, WorkingReaction, slack.NewRefToMessage(to.Channel, replyTo))
}

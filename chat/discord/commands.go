package discord

import (
	"context"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.uber.org/zap"

	"github.com/herdctl/herdctl/chat/bridge"
)

// interactionLife is how long Discord keeps an interaction's token.
const interactionLife = 15 * time.Minute

// interactionPrefix marks the bridge's message id of a slash command.
const interactionPrefix = "i:"

// maxInteractions bounds the slash commands remembered.
const maxInteractions = 1000

type interaction struct {
	i  *discordgo.Interaction
	at time.Time
}

func isInteraction(id string) bool { return strings.HasPrefix(id, interactionPrefix) }

// registerCommands makes the bridge's commands the bot's slash commands
// in the agent's guild (a bulk overwrite: one call, and commands no
// longer offered go).
func (c *Connector) registerCommands(ctx context.Context, app string) {
	var cmds []*discordgo.ApplicationCommand
	for _, cmd := range bridge.Commands() {
		cmds = append(cmds, &discordgo.ApplicationCommand{Name: cmd.Name, Description: cmd.Help, Type: discordgo.ChatApplicationCommand})
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.s.ApplicationCommandBulkOverwrite(app, c.rules.Guild, cmds, discordgo.WithContext(ctx)); err != nil {
		err = clean(err)
		c.health.Error(err)
		c.log.Warn("cannot register the slash commands: the commands still work as a word after a mention", zap.String("chat_event", "commands_failed"), zap.Error(err))
		return
	}
	c.log.Info("Discord slash commands registered", zap.String("chat_event", "commands_registered"), zap.String("chat_guild", c.rules.Guild), zap.Int("chat_commands", len(cmds)))
}

// onInteraction turns a slash command of a user the bot may listen to
// into the bridge's Inbound, after telling Discord the answer will
// follow. Anyone else's gets no answer at all.
func (c *Connector) onInteraction(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
	if ic.Interaction == nil || ic.Type != discordgo.InteractionApplicationCommand {
		return
	}
	c.mu.Lock()
	in, ctx := c.in, c.ctx
	c.mu.Unlock()
	if in == nil {
		return
	}
	user := ic.User
	if ic.Member != nil && ic.Member.User != nil {
		user = ic.Member.User
	}
	if user == nil {
		return
	}
	id := interactionPrefix + ic.ID
	conv := bridge.Conversation{Platform: bridge.Discord, Agent: c.agent, Channel: ic.ChannelID}
	msg := bridge.Inbound{Conversation: conv, ReplyIn: conv, ID: id, Guild: ic.GuildID, User: user.ID,
		DM: ic.GuildID == "", Mentioned: true, FromBot: user.Bot, Command: ic.ApplicationCommandData().Name}
	if !msg.DM && !c.rules.Channels[ic.ChannelID] {
		msg.Parent = c.parent(ctx, ic.ChannelID)
	}
	if v, _ := c.rules.Route(msg); v == bridge.Accept {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := c.s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Flags: noEmbeds}}, discordgo.WithContext(rctx))
		cancel()
		if err != nil {
			c.log.Warn("cannot acknowledge a slash command", zap.String("chat_event", "interaction_failed"), zap.Error(clean(err)))
		} else {
			c.mu.Lock()
			c.pruneInteractions()
			c.interactions[id] = &interaction{i: ic.Interaction, at: time.Now()}
			c.mu.Unlock()
		}
	}
	select {
	case in <- msg:
	case <-ctx.Done():
	}
}

// takeInteraction is the slash command whose deferred answer a post to
// replyTo gives, once.
func (c *Connector) takeInteraction(replyTo string) *interaction {
	if !isInteraction(replyTo) {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	it := c.interactions[replyTo]
	delete(c.interactions, replyTo)
	if it == nil || time.Since(it.at) >= interactionLife {
		return nil
	}
	return it
}

// pruneInteractions forgets interactions whose token has expired; the
// caller holds mu.
func (c *Connector) pruneInteractions() {
	for k, it := range c.interactions {
		if time.Since(it.at) >= interactionLife || len(c.interactions) > maxInteractions {
			delete(c.interactions, k)
		}
	}
	for k, it := range c.originals {
		if time.Since(it.at) >= interactionLife || len(c.originals) > maxInteractions {
			delete(c.originals, k)
		}
	}
}

package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/config"
)

// chatFleet writes a fleet of agents a and b (agent files with extra
// text each) and loads it as the daemon does.
func chatFleet(t *testing.T, fleet, agentA, agentB string, env map[string]string) (*Fleet, string, error) {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"a", "b"} {
		os.MkdirAll(filepath.Join(dir, n), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "a/agent.toml"), []byte("name = \"a\"\ndefault_prompt = \"p\"\n"+agentA), 0o644)
	os.WriteFile(filepath.Join(dir, "b/agent.toml"), []byte("name = \"b\"\ndefault_prompt = \"p\"\n"+agentB), 0o644)
	os.WriteFile(filepath.Join(dir, "herdctl.toml"), []byte("version = 1\n"+fleet), 0o644)
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	f, err := LoadFleet(filepath.Join(dir, "herdctl.toml"), config.LoadOptions{Getenv: getenv}, Options{Host: realHost{}})
	return f, dir, err
}

const (
	discordToken  = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.secret-discord-token-aaaa"
	discordToken2 = "OTg3NjU0MzIxMDk4NzY1NDMy.ZyXwVu.secret-discord-token-bbbb"
	slackApp      = "xapp-1-A0123-4567-secretslackapptoken"
	slackBot      = "xoxb-1234-5678-secretslackbottoken"
)

var chatEnv = map[string]string{"A_DISCORD": discordToken, "B_DISCORD": discordToken2, "A_SLACK_APP": slackApp, "A_SLACK_BOT": slackBot}

func TestChatResolved(t *testing.T) {
	f, _, err := chatFleet(t, `[chat]
discord_api = "http://127.0.0.1:9999/discord"
[[agents]]
path = "a/agent.toml"
  [agents.overrides.chat]
  busy = "queue"
  long_answers = "file"
  [agents.overrides.chat.discord]
  bot_token = "Bot ${A_DISCORD}"
  guild = "1234567890"
  channels = ["2345678901", "2345678902"]
  auto_channels = ["2345678902"]
  users = ["3456789012"]
  session_expiry = "2h"
  [agents.overrides.chat.slack]
  app_token = "${A_SLACK_APP}"
  bot_token = "${A_SLACK_BOT}"
  channels = ["C0123456"]
  users = ["U0123456"]
[[agents]]
path = "b/agent.toml"
`, "", "", chatEnv)
	if err != nil || len(f.Broken) > 0 {
		t.Fatalf("%v %v", err, f.Errs())
	}
	a, b := f.Agents[0], f.Agents[1]
	if b.Chat != nil {
		t.Errorf("agent b has chat: %+v", b.Chat)
	}
	c := a.Chat
	if c == nil || c.Agent != "a" || c.Busy != BusyQueue || c.LongAnswers != LongAnswersFile || c.Discord == nil || c.Slack == nil {
		t.Fatalf("chat: %+v", c)
	}
	if c.Discord.BotToken != discordToken || c.Discord.API != "http://127.0.0.1:9999/discord/" || c.Slack.API != DefaultSlackAPI ||
		c.Slack.AppToken != slackApp || c.Slack.BotToken != slackBot || c.Discord.Guild != "1234567890" {
		t.Errorf("resolved: %+v %+v", c.Discord, c.Slack)
	}
	if len(c.Discord.AutoChannels) != 1 || c.Discord.AutoChannels[0] != "2345678902" || c.Discord.SessionExpiry != 2*time.Hour ||
		len(c.Slack.AutoChannels) != 0 || c.Slack.SessionExpiry != DefaultSessionExpiry {
		t.Errorf("auto channels and expiry: %+v %+v", c.Discord, c.Slack)
	}
}

// TestChatRefused: who may talk and the tokens are the fleet's alone, each
// agent has its own bot, and no error quotes what the table holds.
func TestChatRefused(t *testing.T) {
	discordA := "  [agents.overrides.chat.discord]\n  bot_token = \"${A_DISCORD}\"\n  users = [\"3456789012\"]\n"
	cases := []struct{ name, fleet, agentA, want string }{
		{"set by the agent file", "[[agents]]\npath = \"a/agent.toml\"\n",
			"[chat.discord]\nbot_token = \"" + discordToken + "\"\nusers = [\"1\"]\n",
			"a/agent.toml:3:2: chat.discord: may only be set by the fleet file ([defaults] or this agent's [agents.overrides])"},
		{"users added by the agent file", "[[agents]]\npath = \"a/agent.toml\"\n" + discordA,
			"[chat.discord]\nusers = [\"666\"]\n",
			"a/agent.toml:3:2: chat.discord: may only be set by the fleet file"},
		{"the same bot for two agents", "[[agents]]\npath = \"a/agent.toml\"\n" + discordA + "[[agents]]\npath = \"b/agent.toml\"\n" + discordA, "",
			"herdctl.toml:10:3: agents[1].overrides.chat.discord.bot_token: agent a already uses this token"},
		{"no users", "[[agents]]\npath = \"a/agent.toml\"\n  [agents.overrides.chat.discord]\n  bot_token = \"${A_DISCORD}\"\n", "",
			"chat.discord.users: missing"},
		{"channels without a guild", "[[agents]]\npath = \"a/agent.toml\"\n" + discordA + "  channels = [\"2345678901\"]\n", "",
			"chat.discord.guild: missing"},
		{"a token as a user id", "[[agents]]\npath = \"a/agent.toml\"\n  [agents.overrides.chat.discord]\n  bot_token = \"${A_DISCORD}\"\n  users = [\"${B_DISCORD}\"]\n", "",
			"chat.discord.users[0]: not a Discord user id"},
		{"a bot token as the app token", "[[agents]]\npath = \"a/agent.toml\"\n  [agents.overrides.chat.slack]\n  app_token = \"${A_SLACK_BOT}\"\n  bot_token = \"${A_SLACK_BOT}\"\n  users = [\"U0123456\"]\n", "",
			"chat.slack.app_token: missing or not an app-level token"},
		{"busy", "[[agents]]\npath = \"a/agent.toml\"\n" + discordA + "  [agents.overrides.chat]\n  busy = \"drop\"\n", "",
			"chat.busy: invalid value"},
		{"long answers", "[[agents]]\npath = \"a/agent.toml\"\n" + discordA + "  [agents.overrides.chat]\n  long_answers = \"zip\"\n", "",
			"chat.long_answers: invalid value"},
		{"an auto channel not among the channels", "[[agents]]\npath = \"a/agent.toml\"\n" + discordA + "  guild = \"1\"\n  channels = [\"2345678901\"]\n  auto_channels = [\"2345678909\"]\n", "",
			"herdctl.toml:9:3: agents[0].overrides.chat.discord.auto_channels[0]: not in discord.channels"},
		{"a session expiry that is no duration", "[[agents]]\npath = \"a/agent.toml\"\n  [agents.overrides.chat.slack]\n  app_token = \"${A_SLACK_APP}\"\n  bot_token = \"${A_SLACK_BOT}\"\n  users = [\"U0123456\"]\n  session_expiry = \"forever\"\n", "",
			"chat.slack.session_expiry: invalid duration \"forever\""},
		{"a session expiry under a minute", "[[agents]]\npath = \"a/agent.toml\"\n" + discordA + "  session_expiry = \"30s\"\n", "",
			"chat.discord.session_expiry: 30s is shorter than a minute"},
		{"an endpoint with credentials", "[chat]\nslack_api = \"https://u:p@relay.example/\"\n[[agents]]\npath = \"a/agent.toml\"\n", "",
			"herdctl.toml:3:1: chat.slack_api: must be an http or https URL without credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, dir, err := chatFleet(t, c.fleet, c.agentA, "", chatEnv)
			if err == nil {
				err = f.Errs()
				if len(f.Errs()) == 0 {
					t.Fatal("accepted")
				}
			}
			msg := strings.ReplaceAll(err.Error(), dir+"/", "")
			if !strings.Contains(msg, c.want) {
				t.Errorf("got  %s\nwant %s", msg, c.want)
			}
			for _, secret := range []string{discordToken, discordToken2, slackApp, slackBot} {
				if strings.Contains(msg, secret) {
					t.Errorf("the error quotes a token: %s", msg)
				}
			}
		})
	}
}

// TestChatNotInSnapshot: the resolved agent as the runner receives it
// (JSON) carries no chat token.
func TestChatNotInSnapshot(t *testing.T) {
	f, _, err := chatFleet(t, "[[agents]]\npath = \"a/agent.toml\"\n  [agents.overrides.chat.discord]\n  bot_token = \"${A_DISCORD}\"\n  users = [\"3456789012\"]\n", "", "", chatEnv)
	if err != nil || len(f.Agents) == 0 || f.Agents[0].Chat == nil {
		t.Fatalf("%v %+v", err, f)
	}
	b, _ := jsonMarshal(f.Agents[0])
	if strings.Contains(string(b), discordToken) || strings.Contains(string(b), "chat") {
		t.Errorf("the agent's JSON holds its chat: %s", b)
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

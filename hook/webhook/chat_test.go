package webhook

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/hook"
	"github.com/herdctl/herdctl/internal/testbed/fakediscord"
	"github.com/herdctl/herdctl/internal/testbed/fakeslack"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

const noticeBotToken = "Tm90aWNlTm90aWNlTm90aWNl.NTNTNT.notice-bot-secret"

// failedJob is the JSON a hook gets for a job whose key was refused; the
// agent's text in it mentions everyone and holds a terminal escape.
func failedJob() []byte {
	j := &state.Job{ID: "20261206-101010-abcdef", Agent: "gardener", Trigger: state.TriggerManual, Status: state.StatusFailed,
		ExitReason: "the API refused the key (401 authentication_error)", CostUSD: 0.0012, Turns: 1, DurationMS: 4200,
		Result: "@everyone <@300> look\x1b[2J\nline 2\n\nline 3\nline 4\nline 5\nline 6"}
	return hook.NewPayload("garden", j, hook.Selected{Event: hook.OnError, Hook: policy.Hook{Type: policy.HookDiscord}}).Encode()
}

// TestDiscordNotice: a discord hook posts the job's summary to its
// channel with the bot's token, mentioning nobody, after a 429; a token
// Discord refuses fails at once, and the result names no token.
func TestDiscordNotice(t *testing.T) {
	d := fakediscord.New()
	d.AddBot(noticeBotToken, "4444", "notice-bot")
	d.Start(t)
	spec := hook.NewSpec(policy.Hook{Type: policy.HookDiscord, Channel: "500", URL: d.URL + "api/v" + policy.DiscordAPIVersion + "/channels/500/messages",
		Secret: noticeBotToken, Timeout: 5 * time.Second, Retries: 2, EgressPrivate: []string{"127.0.0.0/8"}})
	d.RateLimit(1, 0.1)
	res := (&Sender{Sleep: instant}).Send(context.Background(), spec, failedJob())
	if !res.OK || res.Attempts != 2 {
		t.Fatalf("result: %+v", res)
	}
	ps := d.Posts()
	if len(ps) != 1 || ps[0].Channel != "500" || ps[0].Bot != "4444" || !ps[0].NoMentions || !ps[0].NoEmbeds {
		t.Fatalf("posts: %+v", ps)
	}
	for _, want := range []string{"✗ garden: job 20261206-101010-abcdef of gardener failed: the API refused the key (401 authentication_error)", "$0.0012 · 1 turns · 4s · manual", "> @everyone <@300> look[2J\n> line 2\n> line 3\n> line 4\n> line 5"} {
		if !strings.Contains(ps[0].Content, want) {
			t.Errorf("the notice lacks %q:\n%s", want, ps[0].Content)
		}
	}
	if strings.Contains(ps[0].Content, "line 6") || strings.Contains(ps[0].Content, "\x1b") {
		t.Errorf("the notice:\n%s", ps[0].Content)
	}
	spec.Secret = "Tm90aWNlTm90aWNlTm90aWNl.NTNTNT.wrong-secret"
	res = (&Sender{Sleep: instant}).Send(context.Background(), spec, failedJob())
	if res.OK || res.Attempts != 1 || res.HTTPStatus != 401 || strings.Contains(res.Reason, "secret") {
		t.Errorf("refused token: %+v", res)
	}
}

// TestSlackNotice: a slack hook posts with chat.postMessage, escaped; an
// answer of ok=false is a failure, final unless Slack may take it later.
func TestSlackNotice(t *testing.T) {
	s := fakeslack.New()
	app := fakeslack.App{AppToken: "xapp-1-notice", BotToken: "xoxb-1-2-noticebotsecret", BotUser: "UNOTICE"}
	s.AddApp(app)
	s.Start(t)
	spec := hook.NewSpec(policy.Hook{Type: policy.HookSlack, Channel: "C0500", URL: s.URL + "chat.postMessage",
		Secret: app.BotToken, Timeout: 5 * time.Second, Retries: 2, EgressPrivate: []string{"127.0.0.0/8"}})
	res := (&Sender{Sleep: instant}).Send(context.Background(), spec, failedJob())
	if !res.OK {
		t.Fatalf("result: %+v", res)
	}
	ps := s.Posts()
	if len(ps) != 1 || ps[0].Channel != "C0500" || !strings.Contains(ps[0].Text, "&lt;@300&gt;") || !strings.Contains(ps[0].Text, "failed: the API refused the key") {
		t.Errorf("posts: %+v", ps)
	}
	spec.Secret = "xoxb-1-2-wrongsecret"
	res = (&Sender{Sleep: instant}).Send(context.Background(), spec, failedJob())
	if res.OK || res.Attempts != 1 || res.Reason != "refused by Slack: invalid_auth" {
		t.Errorf("refused token: %+v", res)
	}
}

// TestNoticeEgress: a discord hook to a private address the hook does
// not list is refused before anything is sent, as a webhook is.
func TestNoticeEgress(t *testing.T) {
	d := fakediscord.New()
	d.AddBot(noticeBotToken, "4444", "notice-bot")
	d.Start(t)
	spec := hook.NewSpec(policy.Hook{Type: policy.HookDiscord, Channel: "500", URL: d.URL + "api/v9/channels/500/messages",
		Secret: noticeBotToken, Timeout: 5 * time.Second, Retries: 2})
	res := (&Sender{Sleep: instant}).Send(context.Background(), spec, failedJob())
	if res.OK || len(d.Posts()) != 0 || !strings.Contains(res.Reason, "egress_private") {
		t.Errorf("result: %+v, posts %+v", res, d.Posts())
	}
}

package policy

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy/egress"
)

// HooksField is the agent option that holds hooks: only the fleet file
// may set it, since a hook runs a program on the host or sends the job's
// data out of it.
const HooksField = "hooks"

// Hooks are an agent's resolved hooks, by event, in the order the fleet
// wrote them. They hold webhook secrets (and URLs may hold tokens): they
// travel in the agent's root-only snapshot, and the daemon hands each
// webhook's settings to its hook unit as a credential, never in a unit
// file, a command line or a log line.
type Hooks struct {
	OnError   []Hook `json:"on_error,omitempty"`
	OnSuccess []Hook `json:"on_success,omitempty"`
	AfterRun  []Hook `json:"after_run,omitempty"`
}

// Hook is one resolved hook.
type Hook struct {
	Type string `json:"type"` // HookShell, HookWebhook, HookDiscord or HookSlack
	// Command is a shell hook's argv; Command[0] is an absolute path.
	Command []string `json:"command,omitempty"`
	// Network is a shell hook's network: NetworkNone or NetworkHost.
	Network string `json:"network,omitempty"`
	// URL, Secret, Retries and EgressPrivate are a webhook's; a discord
	// or slack hook's too, its URL the platform's endpoint for posting,
	// its Secret the bot's token, with the Channel it posts to.
	URL           string   `json:"url,omitempty"`
	Secret        string   `json:"secret,omitempty"`
	Retries       int      `json:"retries,omitempty"`
	EgressPrivate []string `json:"egress_private,omitempty"`
	Channel       string   `json:"channel,omitempty"`
	// Timeout bounds a shell hook's run, or one attempt of a webhook.
	Timeout time.Duration `json:"timeout"`
}

// Hook types.
const (
	HookShell   = "shell"
	HookWebhook = "webhook"
	HookDiscord = "discord"
	HookSlack   = "slack"
)

// Sent says the hook is sent over the network by herdctl hook webhook,
// in a webhook unit, through the egress rules: a webhook, or a discord
// or slack notice.
func (h Hook) Sent() bool { return SentHook(h.Type) }

// SentHook says hooks of type typ are sent as Hook.Sent says.
func SentHook(typ string) bool { return typ == HookWebhook || typ == HookDiscord || typ == HookSlack }

// DiscordAPIVersion is the version of Discord's REST API a discord hook
// posts with (the bridge's library speaks the same).
const DiscordAPIVersion = "9"

// Bounds and defaults of hooks.
const (
	MaxHooksPerEvent      = 8
	DefaultShellTimeout   = time.Minute
	MaxShellTimeout       = time.Hour
	DefaultWebhookTimeout = 10 * time.Second
	MaxWebhookTimeout     = 5 * time.Minute
	DefaultWebhookRetries = 3
	MaxWebhookRetries     = 10
	MaxHookArgs           = 64
	MaxHookArgLen         = 4096
	MaxHookURLLen         = 2048
)

// Empty reports whether the agent has no hook at all.
func (h Hooks) Empty() bool { return len(h.OnError)+len(h.OnSuccess)+len(h.AfterRun) == 0 }

// WebhookPolicy is the egress policy a webhook's destination is checked
// against: its own host and port, and the private ranges the fleet listed
// for it; the same rules an agent's egress proxy applies.
func (h Hook) WebhookPolicy() (egress.Policy, egress.Target, error) {
	u, err := url.Parse(h.URL)
	if err != nil {
		return egress.Policy{}, egress.Target{}, fmt.Errorf("not a URL")
	}
	port := 443
	if u.Scheme == "http" {
		port = 80
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return egress.Policy{}, egress.Target{}, fmt.Errorf("port %q is not a number from 1 to 65535", p)
		}
	}
	p, err := egress.NewPolicy(nil, h.EgressPrivate)
	if err != nil {
		return egress.Policy{}, egress.Target{}, err
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		// A raw address: the private-range rule alone applies.
		return p, egress.Target{Host: a.String(), Port: port}, nil
	}
	r, err := egress.ParseRule(net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return egress.Policy{}, egress.Target{}, err
	}
	p.Allow = []egress.Rule{r}
	return p, egress.Target{Host: r.Name, Port: port}, nil
}

// resolveHooks checks the agent's hooks and resolves them. No error
// quotes a URL or a secret: they may hold tokens, and errors reach
// herdctlctl status, which anyone may read.
func resolveHooks(f *config.Fleet, a *config.AgentConfig) (Hooks, config.Errors) {
	for _, f := range a.AgentFileFields() {
		if f.Path == HooksField || strings.HasPrefix(f.Path, HooksField+".") {
			return Hooks{}, nil // checkTiers refuses it
		}
	}
	var errs config.Errors
	var out Hooks
	for _, ev := range []struct {
		name string
		in   []config.Hook
		out  *[]Hook
	}{{"on_error", a.Hooks.OnError, &out.OnError}, {"on_success", a.Hooks.OnSuccess, &out.OnSuccess}, {"after_run", a.Hooks.AfterRun, &out.AfterRun}} {
		p := HooksField + "." + ev.name
		if len(ev.in) > MaxHooksPerEvent {
			errs = append(errs, config.Errorf(a.Where(p), "%d hooks; at most %d are allowed per event", len(ev.in), MaxHooksPerEvent))
			continue
		}
		for i, h := range ev.in {
			r, herrs := resolveHook(f, a, fmt.Sprintf("%s[%d]", p, i), h)
			errs = append(errs, herrs...)
			*ev.out = append(*ev.out, r)
		}
	}
	if len(errs) > 0 {
		return Hooks{}, errs
	}
	return out, nil
}

func resolveHook(f *config.Fleet, a *config.AgentConfig, p string, h config.Hook) (Hook, config.Errors) {
	var errs config.Errors
	bad := func(field, format string, args ...any) {
		at := p
		if field != "" {
			at += "." + field
		}
		errs = append(errs, config.Errorf(a.Where(at), format, args...))
	}
	r := Hook{Type: h.Type}
	timeout := func(def, max time.Duration) time.Duration {
		if h.Timeout == "" {
			return def
		}
		d, err := config.ParseDuration(h.Timeout)
		switch {
		case err != nil:
			bad("timeout", "%v", err)
		case d < time.Second || d > max:
			bad("timeout", "%s is out of range: allowed 1s to %s", h.Timeout, max)
		}
		return d
	}
	notFor := func(field string, set bool, kind string) {
		if set {
			bad(field, "applies to %s hooks only: remove it", kind)
		}
	}
	retries := func() int {
		if h.Retries == nil {
			return DefaultWebhookRetries
		}
		if *h.Retries < 0 || *h.Retries > MaxWebhookRetries {
			bad("retries", "%d is out of range: allowed 0 to %d", *h.Retries, MaxWebhookRetries)
		}
		return *h.Retries
	}
	switch h.Type {
	case HookShell:
		notFor("url", h.URL != "", HookWebhook)
		notFor("secret", h.Secret != "", HookWebhook)
		notFor("retries", h.Retries != nil, HookWebhook)
		notFor("egress_private", len(h.EgressPrivate) > 0, HookWebhook)
		notFor("token", h.Token != "", "discord and slack")
		notFor("channel", h.Channel != "", "discord and slack")
		r.Command, r.Timeout = h.Command, timeout(DefaultShellTimeout, MaxShellTimeout)
		r.Network = orString(h.Network, NetworkNone)
		if r.Network != NetworkNone && r.Network != NetworkHost {
			bad("network", "invalid network %q: use %q (no network, the default) or %q (the host's)", h.Network, NetworkNone, NetworkHost)
		}
		CheckHookCommand(h.Command, func(field, msg string) { bad(field, "%s", msg) })
	case HookWebhook, HookDiscord, HookSlack:
		notFor("command", len(h.Command) > 0, HookShell)
		notFor("network", h.Network != "", HookShell)
		r.Secret, r.EgressPrivate = h.Secret, h.EgressPrivate
		r.Timeout = timeout(DefaultWebhookTimeout, MaxWebhookTimeout)
		r.Retries = retries()
		for i, s := range h.EgressPrivate {
			if _, err := egress.ParsePrivate(s); err != nil {
				bad(fmt.Sprintf("egress_private[%d]", i), "%v", err)
			}
		}
		if h.Type == HookWebhook {
			notFor("token", h.Token != "", "discord and slack")
			notFor("channel", h.Channel != "", "discord and slack")
			r.URL = h.URL
		} else {
			notFor("url", h.URL != "", HookWebhook)
			notFor("secret", h.Secret != "", HookWebhook)
			before := len(errs)
			r.Secret, r.Channel = chatHookTarget(h, bad)
			r.URL = chatHookURL(f, h.Type, h.Channel)
			if len(errs) > before {
				break
			}
		}
		if msg := checkWebhookURL(r); msg != "" {
			if h.Type == HookWebhook {
				bad("url", "%s", msg)
			} else {
				bad("", "the fleet's [chat] %s endpoint: %s", h.Type, msg)
			}
		}
	case "":
		bad("type", "missing: set type = %q (a program run as the hook user), %q (a POST of the job as JSON), %q or %q (a summary posted to a channel)", HookShell, HookWebhook, HookDiscord, HookSlack)
	default:
		bad("type", "invalid hook type %q: use %q, %q, %q or %q", h.Type, HookShell, HookWebhook, HookDiscord, HookSlack)
	}
	return r, errs
}

// chatHookTarget checks a discord or slack hook's token and channel, and
// returns them. No message quotes the token.
func chatHookTarget(h config.Hook, bad func(field, format string, args ...any)) (token, channel string) {
	token, channel = h.Token, h.Channel
	switch h.Type {
	case HookDiscord:
		token = strings.TrimPrefix(token, "Bot ")
		if !tokenCharsRe.MatchString(token) {
			bad("token", "missing or not a Discord bot token: put the bot's token in the env file and write token = \"${NAME}\"")
		}
		if !discordIDRe.MatchString(channel) {
			bad("channel", "missing or not a Discord channel id (digits; enable Developer Mode and copy the channel's id)")
		}
	case HookSlack:
		if !strings.HasPrefix(token, "xoxb-") || !slackTokenCharRe.MatchString(token) {
			bad("token", "missing or not a Slack bot token (xoxb-...) with the chat:write scope: put it in the env file and write token = \"${NAME}\"")
		}
		if !slackChannelRe.MatchString(channel) {
			bad("channel", "missing or not a Slack channel id (C..., G... or D...)")
		}
	}
	return token, channel
}

// chatHookURL is where a discord or slack hook posts: the platform's
// endpoint for a message, under the fleet's [chat] base URL.
func chatHookURL(f *config.Fleet, typ, channel string) string {
	if typ == HookDiscord {
		return apiURL(f.Chat.DiscordAPI, DefaultDiscordAPI) + "api/v" + DiscordAPIVersion + "/channels/" + channel + "/messages"
	}
	return apiURL(f.Chat.SlackAPI, DefaultSlackAPI) + "chat.postMessage"
}

// CheckHookCommand checks a shell hook's argv (herdctlctl import asks it
// too, of the commands it brings over): an absolute program path
// and arguments systemd passes as they are (no control characters, no $
// or % that systemd would expand).
func CheckHookCommand(cmd []string, bad func(field, msg string)) {
	if len(cmd) == 0 {
		bad("command", `missing: a shell hook needs command = ["/absolute/path/to/program", "arg", ...]`)
		return
	}
	if len(cmd) > MaxHookArgs {
		bad("command", fmt.Sprintf("%d arguments; at most %d are allowed", len(cmd), MaxHookArgs))
		return
	}
	if prog := cmd[0]; !filepath.IsAbs(prog) || filepath.Clean(prog) != prog {
		bad("command[0]", fmt.Sprintf("%q is not a clean absolute path: write the program's full path, e.g. /usr/local/bin/notify (no shell, no PATH lookup)", prog))
	}
	for i, arg := range cmd {
		switch {
		case len(arg) > MaxHookArgLen:
			bad(fmt.Sprintf("command[%d]", i), fmt.Sprintf("%d bytes; at most %d are allowed", len(arg), MaxHookArgLen))
		case strings.ContainsFunc(arg, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			bad(fmt.Sprintf("command[%d]", i), "holds a control character")
		case strings.ContainsAny(arg, "$%"):
			bad(fmt.Sprintf("command[%d]", i), "holds $ or %, which systemd would expand: the job reaches the hook on its stdin, as JSON, never in its arguments; put what needs them in a script")
		}
	}
}

// checkWebhookURL says what is wrong with a webhook's URL, "" if nothing.
// The message never quotes the URL.
func checkWebhookURL(h Hook) string {
	if h.URL == "" {
		return `missing: a webhook needs url = "https://hooks.example.org/herdctl"`
	}
	if len(h.URL) > MaxHookURLLen {
		return fmt.Sprintf("%d bytes; at most %d are allowed", len(h.URL), MaxHookURLLen)
	}
	u, err := url.Parse(h.URL)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "":
		return "must be an http or https URL, e.g. https://hooks.example.org/herdctl"
	case u.Fragment != "" || strings.Contains(h.URL, "#"):
		return "has a fragment (#), which is never sent: remove it"
	case strings.ContainsFunc(h.URL, func(r rune) bool { return r <= 0x20 || r == 0x7f }):
		return "holds spaces or control characters: percent-encode them"
	}
	p, t, err := h.WebhookPolicy()
	if err != nil {
		return "its host: " + egress.Reason(err)
	}
	if a, err := netip.ParseAddr(t.Host); err == nil {
		if err := p.CheckAddr(a); err != nil {
			return egress.Reason(err)
		}
	}
	return ""
}

// hookWarnings adds to Preflight what would make an agent's hooks fail or
// leak without being a configuration error: a shell hook's program that is
// missing, not executable or changeable by others than root (whoever can
// change it runs code as the hook user, with every job's data), and a
// webhook that sends the job unencrypted to a public destination. seen
// keeps each program and destination to one warning across agents.
func hookWarnings(f *config.Fleet, a *Agent, seen map[string]bool, warn func(config.Location, string, ...any)) {
	for _, ev := range []struct {
		name  string
		hooks []Hook
	}{{"on_error", a.Hooks.OnError}, {"on_success", a.Hooks.OnSuccess}, {"after_run", a.Hooks.AfterRun}} {
		for i, h := range ev.hooks {
			at := config.Location{File: f.File, Line: 1, Col: 1, Field: fmt.Sprintf("%s.%s[%d]", HooksField, ev.name, i)}
			switch h.Type {
			case HookShell:
				p := h.Command[0]
				if seen["shell "+p] {
					continue
				}
				seen["shell "+p] = true
				if msg := executable(p); msg != "" {
					warn(at, "the shell hook's program %s %s: the hook fails after every job of agent %s until it is fixed", p, msg, a.Name)
				} else if msg := rootOnly(p, 0o022, "chmod go-w"); msg != "" {
					warn(at, "the shell hook's program %s: whoever can change it runs code as the hook user with every job's data", msg)
				}
			case HookWebhook, HookDiscord, HookSlack:
				u, err := url.Parse(h.URL)
				if err != nil || u.Scheme != "http" || len(h.EgressPrivate) > 0 || seen["webhook "+u.Host] {
					continue
				}
				seen["webhook "+u.Host] = true
				warn(at, "the webhook to %s is plain http: the job's prompt and result cross the network unencrypted; use https", u.Hostname())
			}
		}
	}
}

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

// hookFleet loads a fleet of one agent "a" with the fleet text and the
// agent file's extra text, as the daemon does.
func hookFleet(t *testing.T, fleet, agent string, env map[string]string) (*Fleet, string) {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	os.WriteFile(filepath.Join(dir, "a/agent.toml"), []byte("name = \"a\"\ndefault_prompt = \"p\"\n"+agent), 0o644)
	os.WriteFile(filepath.Join(dir, "herdctl.toml"), []byte("version = 1\n"+fleet), 0o644)
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	f, err := LoadFleet(filepath.Join(dir, "herdctl.toml"), config.LoadOptions{Getenv: getenv}, Options{Host: realHost{}})
	if err != nil {
		t.Fatal(err)
	}
	return f, dir
}

func TestHooksResolved(t *testing.T) {
	f, _ := hookFleet(t, `[[defaults.hooks.on_error]]
type = "webhook"
url = "https://hooks.example.org/herdctl/${HOOK_TOKEN}"
secret = "${HOOK_SECRET}"

[[defaults.hooks.after_run]]
type = "shell"
command = ["/usr/local/bin/notify", "--channel", "ops"]

[[agents]]
path = "a/agent.toml"
  [[agents.overrides.hooks.on_success]]
  type = "webhook"
  url = "http://hooks.lan:8080/done"
  egress_private = ["192.168.1.0/24"]
  retries = 0
  timeout = "3s"
  [[agents.overrides.hooks.after_run]]
  type = "shell"
  command = ["/opt/hooks/log"]
  network = "host"
  timeout = "2m"
`, "", map[string]string{"HOOK_SECRET": "s3cret", "HOOK_TOKEN": "tok"})
	if len(f.Broken) > 0 {
		t.Fatal(f.Errs())
	}
	want := Hooks{
		OnError:   []Hook{{Type: HookWebhook, URL: "https://hooks.example.org/herdctl/tok", Secret: "s3cret", Retries: DefaultWebhookRetries, Timeout: DefaultWebhookTimeout}},
		OnSuccess: []Hook{{Type: HookWebhook, URL: "http://hooks.lan:8080/done", EgressPrivate: []string{"192.168.1.0/24"}, Timeout: 3 * time.Second}},
		// The overrides' list replaces the defaults' for the same event.
		AfterRun: []Hook{{Type: HookShell, Command: []string{"/opt/hooks/log"}, Network: NetworkHost, Timeout: 2 * time.Minute}},
	}
	got, _ := json.Marshal(f.Agents[0].Hooks)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Errorf("hooks:\n got %s\nwant %s", got, wantJSON)
	}
}

// TestChatHooksResolved: discord and slack hooks post to the platform's
// endpoint (the fleet's [chat] one when set) with the bot's token as
// their secret, and are sent like webhooks.
func TestChatHooksResolved(t *testing.T) {
	f, _ := hookFleet(t, `[chat]
slack_api = "https://relay.example.org/slack"
[[defaults.hooks.on_error]]
type = "discord"
token = "${OPS_DISCORD}"
channel = "500"
[[defaults.hooks.on_error]]
type = "slack"
token = "${OPS_SLACK}"
channel = "C0500"
retries = 1
[[agents]]
path = "a/agent.toml"
`, "", map[string]string{"OPS_DISCORD": "Tm90aWNlTm90aWNlTm90aWNl.NTNTNT.notice", "OPS_SLACK": "xoxb-1-2-opsbottoken"})
	if len(f.Broken) > 0 {
		t.Fatal(f.Errs())
	}
	hs := f.Agents[0].Hooks.OnError
	if len(hs) != 2 || hs[0].URL != "https://discord.com/api/v9/channels/500/messages" || hs[0].Secret != "Tm90aWNlTm90aWNlTm90aWNl.NTNTNT.notice" || hs[0].Channel != "500" ||
		hs[1].URL != "https://relay.example.org/slack/chat.postMessage" || hs[1].Secret != "xoxb-1-2-opsbottoken" || hs[1].Retries != 1 || !hs[0].Sent() || !hs[1].Sent() {
		t.Errorf("hooks: %+v", hs)
	}
}

func TestHooksRefused(t *testing.T) {
	for _, c := range []struct{ name, hook, want string }{
		{"no type", `command = ["/bin/true"]`, `hooks.after_run[0].type: missing: set type = "shell"`},
		{"unknown type", `type = "exec"`, `invalid hook type "exec"`},
		{"relative program", `type = "shell"
command = ["notify"]`, `hooks.after_run[0].command[0]: "notify" is not a clean absolute path`},
		{"unclean program", `type = "shell"
command = ["/usr/bin/../bin/sh"]`, `is not a clean absolute path`},
		{"no command", `type = "shell"`, `hooks.after_run[0].command: missing`},
		{"dollar in an argument", `type = "shell"
command = ["/bin/echo", "$$HOME"]`, `command[1]: holds $ or %`},
		{"control character", `type = "shell"
command = ["/bin/echo", "a\u001bb"]`, `command[1]: holds a control character`},
		{"shell with a url", `type = "shell"
command = ["/bin/true"]
url = "https://x.example.org/"`, `hooks.after_run[0].url: applies to webhook hooks only`},
		{"webhook with a command", `type = "webhook"
url = "https://x.example.org/"
command = ["/bin/true"]`, `hooks.after_run[0].command: applies to shell hooks only`},
		{"shell network", `type = "shell"
command = ["/bin/true"]
network = "egress"`, `invalid network "egress"`},
		{"timeout too long", `type = "shell"
command = ["/bin/true"]
timeout = "2h"`, `timeout: 2h is out of range`},
		{"no url", `type = "webhook"`, `hooks.after_run[0].url: missing`},
		{"not http", `type = "webhook"
url = "ftp://x.example.org/"`, `must be an http or https URL`},
		{"fragment", `type = "webhook"
url = "https://x.example.org/#frag"`, `has a fragment`},
		{"loopback address", `type = "webhook"
url = "http://127.0.0.1:8080/hook"`, `127.0.0.1 is a loopback address`},
		{"metadata address", `type = "webhook"
url = "http://169.254.169.254/latest"`, `169.254.169.254`},
		{"private address not listed", `type = "webhook"
url = "http://10.1.2.3/hook"
egress_private = ["192.168.0.0/16"]`, `10.1.2.3 is a private address`},
		{"single label", `type = "webhook"
url = "http://hooks/x"`, `single label`},
		{"localhost", `type = "webhook"
url = "http://localhost:8080/x"`, `localhost`},
		{"public range listed", `type = "webhook"
url = "https://x.example.org/"
egress_private = ["8.8.8.0/24"]`, `egress_private[0]: "8.8.8.0/24": 8.8.8.0/24 is public`},
		{"retries", `type = "webhook"
url = "https://x.example.org/"
retries = 11`, `retries: 11 is out of range`},
		{"discord without a token", `type = "discord"
channel = "500"`, `hooks.after_run[0].token: missing or not a Discord bot token`},
		{"discord channel", `type = "discord"
token = "Tm90aWNlTm90aWNlTm90aWNl.NTNTNT.notice"
channel = "#ops"`, `hooks.after_run[0].channel: missing or not a Discord channel id`},
		{"discord with a url", `type = "discord"
token = "Tm90aWNlTm90aWNlTm90aWNl.NTNTNT.notice"
channel = "500"
url = "https://x.example.org/"`, `hooks.after_run[0].url: applies to webhook hooks only`},
		{"slack with a user token", `type = "slack"
token = "xoxp-1-2-usertoken"
channel = "C0500"`, `hooks.after_run[0].token: missing or not a Slack bot token`},
		{"webhook with a channel", `type = "webhook"
url = "https://x.example.org/"
channel = "500"`, `hooks.after_run[0].channel: applies to discord and slack hooks only`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, _ := hookFleet(t, "[[agents]]\npath = \"a/agent.toml\"\n  [[agents.overrides.hooks.after_run]]\n  "+strings.ReplaceAll(c.hook, "\n", "\n  ")+"\n", "", nil)
			errs := f.Errs().Error()
			if !strings.Contains(errs, c.want) {
				t.Errorf("error %q\nlacks %q", errs, c.want)
			}
			if strings.Contains(errs, "x.example.org/") {
				t.Errorf("the error quotes the URL: %s", errs)
			}
		})
	}
}

func TestHookAddressListed(t *testing.T) {
	f, _ := hookFleet(t, `[[agents]]
path = "a/agent.toml"
  [[agents.overrides.hooks.on_error]]
  type = "webhook"
  url = "http://127.0.0.1:8080/hook"
  egress_private = ["127.0.0.0/8"]
`, "", nil)
	if len(f.Broken) > 0 {
		t.Fatal(f.Errs())
	}
}

func TestHookErrorPointsAtItsTable(t *testing.T) {
	f, dir := hookFleet(t, `[[defaults.hooks.on_error]]
type = "shell"
command = ["/bin/true"]

[[defaults.hooks.on_error]]
type = "shell"
command = ["relative"]

[[agents]]
path = "a/agent.toml"
`, "", nil)
	want := filepath.Join(dir, "herdctl.toml") + ":8:1: defaults.hooks.on_error[1].command[0]"
	if errs := f.Errs().Error(); !strings.HasPrefix(errs, want) {
		t.Errorf("error %q\nwant it at %s", errs, want)
	}
}

func TestHookInAgentFileRefused(t *testing.T) {
	f, dir := hookFleet(t, "[[agents]]\npath = \"a/agent.toml\"\n", `[hooks]
[[hooks.on_error]]
type = "webhook"
url = "https://attacker.example.net/"
`, nil)
	errs := f.Errs()
	if len(errs) != 1 || !strings.HasPrefix(errs.Error(), filepath.Join(dir, "a/agent.toml")+":3:2: hooks:") ||
		!strings.Contains(errs.Error(), "may only be set by the fleet file") {
		t.Errorf("want one tier error at the agent file's hooks table, got %v", errs)
	}
}

func TestHookPreflight(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "notify")
	os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o644)
	f, _ := hookFleet(t, `[[defaults.hooks.after_run]]
type = "shell"
command = ["`+prog+`"]
[[defaults.hooks.on_error]]
type = "webhook"
url = "http://hooks.example.org/x"
[[defaults.hooks.on_success]]
type = "webhook"
url = "https://hooks.example.org/x"
[[agents]]
path = "a/agent.toml"
`, "", nil)
	if len(f.Broken) > 0 {
		t.Fatal(f.Errs())
	}
	got := Preflight(f.Config, f.Agents, Options{}).Error()
	for _, want := range []string{
		"hooks.after_run[0]: the shell hook's program " + prog + " is not executable (chmod +x it)",
		"hooks.on_error[0]: the webhook to hooks.example.org is plain http",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("preflight lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "on_success") {
		t.Errorf("an https webhook is warned about:\n%s", got)
	}
}

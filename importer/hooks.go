package importer

import (
	"fmt"
	"strings"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy"
)

// hookShell is the program a shell hook's command line is handed to: the
// original runs its command through a shell.
var hookShell = []string{"/bin/sh", "-c"}

// mapHooks maps after_run and on_error, shell, webhook, discord and
// slack, into the fleet's hooks (policy: only the fleet may set them).
func (m *mapper) mapHooks(v *value) {
	for _, ev := range v.keys {
		list := v.field[ev]
		p := "hooks." + ev
		if ev != "after_run" && ev != "on_error" {
			m.unmapped(list, p, "the original knows after_run and on_error")
			continue
		}
		if list.kind != kindList && list.kind != kindNull {
			m.fail(config.Errorf(list.loc(p), "must be a list of hooks"))
			continue
		}
		var hooks []config.Hook
		for i, h := range list.items {
			hp := fmt.Sprintf("%s[%d]", p, i)
			if hk, ok := m.mapHook(h, hp); ok {
				hooks = append(hooks, hk)
			}
		}
		if ev == "after_run" {
			m.over.Hooks.AfterRun = hooks
		} else {
			m.over.Hooks.OnError = hooks
		}
	}
}

func (m *mapper) mapHook(h *value, hp string) (config.Hook, bool) {
	var hk config.Hook
	typ, _ := h.get("type").asStringOr(hp+".type", "")
	switch typ {
	case "shell", "webhook", "discord", "slack":
	default:
		m.unmapped(h, hp, fmt.Sprintf("unknown hook type %q", typ))
		return hk, false
	}
	hk.Type = typ
	for _, k := range h.keys {
		e := h.field[k]
		f := hp + "." + k
		switch k {
		case "type":
		case "bot_token_env":
			if typ != "discord" && typ != "slack" {
				m.unmapped(e, f, "only discord and slack hooks take a bot token")
				continue
			}
			// The token stays in the env file: the fleet names it.
			hk.Token = m.tokenRef(e, f, strings.ToUpper(typ)+"_BOT_"+varSuffix(hp)+"_TOKEN")
		case "channel_id", "channel":
			if typ != "discord" && typ != "slack" {
				m.unmapped(e, f, "only discord and slack hooks post to a channel")
				continue
			}
			s, _ := m.str(e, f)
			hk.Channel = m.fleetValueOf(e, f, s, strings.ToUpper(typ)+"_"+varSuffix(f))
		case "command":
			if typ != "shell" {
				m.unmapped(e, f, "only a shell hook runs a command")
				continue
			}
			s, ok := m.str(e, f)
			if !ok {
				continue
			}
			argv := append(append([]string(nil), hookShell...), strings.TrimRight(s, "\n"))
			var problem string
			policy.CheckHookCommand(argv, func(_, msg string) {
				if problem == "" {
					problem = msg
				}
			})
			if problem != "" {
				m.unmapped(e, f, "as herdctl's command [\"/bin/sh\", \"-c\", ...] it "+problem+"; save it as a script that reads the job's JSON on its stdin, and set command = [\"/path/to/script\"] in the fleet's hooks")
				return hk, false
			}
			hk.Command = argv
		case "url":
			s, _ := m.str(e, f)
			hk.URL = m.fleetValueOf(e, f, s, varSuffix(f))
		case "timeout":
			n, err := e.asInt(f)
			m.fail(err)
			if n > 0 {
				// Milliseconds in the original; whole seconds here, rounded up.
				hk.Timeout = fmt.Sprintf("%ds", (n+999)/1000)
			}
		case "name":
			// A label for the original's logs; the hook's unit names it here.
		case "method":
			if s, _ := e.asString(f); s != "POST" {
				m.unmapped(e, f, "herdctl's webhooks POST")
			}
		case "headers":
			m.unmapped(e, f, "herdctl's webhooks carry no headers of their own; set secret, and the receiver checks X-Herdctl-Signature")
		case "when", "on_events":
			m.unmapped(e, f, "herdctl's hooks run on after_run (every job), on_error (failed or timed out) and on_success; move the hook to the list of its event, or test the job's JSON in the hook")
		case "continue_on_error":
			// Every hook here runs in its own unit; one failing stops no other.
		default:
			m.unmapped(e, f, "unknown to the original's schema and to herdctl")
		}
	}
	switch typ {
	case "discord", "slack":
		if hk.Token == "" {
			env := map[string]string{"discord": "DISCORD_BOT_TOKEN", "slack": "SLACK_BOT_TOKEN"}[typ]
			hk.Token = m.fleetValue("${" + env + "}") // the original's default
		}
		m.note(h, hp, "mapped; herdctl's %s hook posts its own short summary of the job (agent, job, status, reason, cost, the result's first lines)", typ)
	default:
		m.note(h, hp, "mapped; the job's JSON it gets has herdctl's shape, not the original's (docs/hooks.md: event, agent, job, status, result, ...): check what the %s reads of it", map[string]string{"shell": "command", "webhook": "receiver"}[typ])
	}
	return hk, true
}

package importer

import (
	"fmt"
	"strings"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy"
)

// mapDocker maps the docker table. herdctl always runs an agent in a
// container, so enabled only ever earns a note.
func (m *mapper) mapDocker(v *value) {
	if v.kind != kindMap {
		m.fail(config.Errorf(v.loc("docker"), "must be a mapping"))
		return
	}
	for _, k := range v.keys {
		e := v.field[k]
		p := "docker." + k
		if policy.FleetOnly(p) {
			// The original refuses these in an agent file too
			// (AgentDockerSchema is strict): carrying one over would let
			// an agent that wrote it widen its own container. Of a
			// mapping (env) the fleet's entries stay, each judged alone.
			if e = m.fleetPart(e, p); e == nil {
				continue
			}
		}
		switch k {
		case "enabled":
			if b, err := e.asBool(p); err == nil && !b {
				m.note(e, p, "enabled: false ran the agent on the host in the original; herdctl always runs it in a locked-down container (no capabilities, loopback only, the workspace at /workspace), the default")
			}
		case "ephemeral":
			b, err := e.asBool(p)
			m.fail(err)
			dst, _ := m.pick(e, p)
			dst.Docker.Ephemeral = &b
		case "memory":
			s, ok := m.str(e, p)
			if !ok {
				continue
			}
			dst := m.over
			if len(refs(s)) > 0 && m.fromAgentFile(e) {
				m.unmapped(e, p, "the agent file wrote a ${VAR} here, and herdctl expands none in an agent file (an agent file may not pick a variable of the env file): write the size, or set it in the fleet's [agents.overrides.docker]")
				continue
			} else if len(refs(s)) > 0 {
				s = m.fleetValue(s)
			} else if n, err := config.ParseBytes(s); err != nil {
				m.fail(config.Errorf(e.loc(p), "%v", err))
				continue
			} else {
				dst = m.limit(e, p, n)
			}
			dst.Docker.Memory = s
		case "cpu_shares", "pids_limit", "max_containers", "cpu_period", "cpu_quota":
			n, err := e.asInt(p)
			m.fail(err)
			dst := m.limit(e, p, n)
			switch k {
			case "cpu_shares":
				dst.Docker.CPUShares = n
			case "pids_limit":
				dst.Docker.PidsLimit = n
			case "max_containers":
				dst.Docker.MaxContainers = int(n)
			case "cpu_period":
				dst.Docker.CPUPeriod = n
			case "cpu_quota":
				dst.Docker.CPUQuota = n
			}
		case "workspace_mode", "image", "user":
			s, ok := m.str(e, p)
			if !ok {
				continue
			}
			dst, out := m.pick(e, p, s)
			switch k {
			case "workspace_mode":
				dst.Docker.WorkspaceMode = out[0]
			case "image":
				dst.Docker.Image = out[0]
				m.note(e, p, "herdctl pulls the image through containerd when first needed (or: herdctl image import FILE); it must hold claude, or set claude_path; without it herdctl uses the host's own /usr read-only")
			case "user":
				dst.Docker.User = out[0]
			}
		case "tmpfs", "volumes":
			list, err := e.asStrings(p)
			m.fail(err)
			dst, out := m.pick(e, p, list...)
			if k == "tmpfs" {
				dst.Docker.Tmpfs = out
			} else {
				dst.Docker.Volumes = out
			}
		case "labels", "env":
			mp, err := e.asStringMap(p)
			m.fail(err)
			// The fleet's overrides take the whole mapping when policy
			// says so, or when the fleet file wrote a variable in it.
			toFleet := policy.FleetOnly(p)
			for _, key := range e.keys {
				if x := e.field[key]; !m.fromAgentFile(x) && len(refs(mp[key])) > 0 {
					toFleet = true
				}
			}
			dst := m.file
			if toFleet {
				dst = m.over
			}
			for _, key := range e.keys {
				x, f := e.field[key], p+"."+key
				if toFleet {
					mp[key] = m.fleetValueOf(x, f, mp[key], varSuffix(f))
				} else if len(refs(mp[key])) > 0 {
					m.notExpanded(x, f)
				}
			}
			if k == "labels" {
				dst.Docker.Labels = mp
			} else {
				if dst.Docker.Env == nil {
					dst.Docker.Env = map[string]string{}
				}
				for key, x := range mp {
					dst.Docker.Env[key] = x
				}
			}
		case "network":
			s, ok := m.str(e, p)
			if !ok {
				continue
			}
			switch s {
			case "none":
				m.over.Docker.Network = policy.NetworkNone
			case "host":
				m.over.Docker.Network = policy.NetworkHost
				m.note(e, p, "network host gives the agent the host's whole network, its loopback services included; consider \"egress\" with a list of hosts")
			case "bridge":
				m.over.Docker.Network = policy.NetworkEgress
				m.note(e, p, "network bridge became \"egress\": the agent reaches the Anthropic API only, through a proxy; list any other host it needs in [agents.overrides.docker] egress = [\"example.com\"]")
			default:
				m.unmapped(e, p, fmt.Sprintf("unknown network %q: use none, egress or host", s))
			}
		case "ports":
			m.unmapped(e, p, "herdctl publishes no ports: an agent's container has no inbound network")
		case "host_config":
			m.unmapped(e, p, "Docker's HostConfig has no counterpart in containerd; herdctl reads only readonly_rootfs and tmp_size under host_config")
		case "base_image":
			m.unmapped(e, p, "herdctl builds no images: build one with claude in it and set image")
		default:
			m.unmapped(e, p, "unknown to the original's schema and to herdctl")
		}
	}
}

// mapChat maps chat.discord and chat.slack into the fleet's overrides:
// the tokens and who may talk to the agent are the fleet's to decide.
func (m *mapper) mapChat(v *value) {
	for _, k := range v.keys {
		e := v.field[k]
		switch k {
		case "discord":
			m.mapDiscord(e)
		case "slack":
			m.mapSlack(e)
		default:
			m.unmapped(e, "chat."+k, "herdctl's chat bridge speaks Discord and Slack")
		}
	}
}

// mapChannels maps a chat's channels: each id, and those whose mode is
// auto (every message a prompt, no mention) into auto_channels too.
func (m *mapper) mapChannels(list *value, p string) (channels, auto []string) {
	for j, c := range list.items {
		var id, mode string
		for _, ck := range c.keys {
			f := fmt.Sprintf("%s.channels[%d].%s", p, j, ck)
			switch ck {
			case "id":
				s, _ := m.str(c.field[ck], f)
				id = m.fleetValueOf(c.field[ck], f, s, varSuffix(f))
			case "mode":
				mode, _ = m.str(c.field[ck], f)
				if mode != "auto" && mode != "mention" {
					m.unmapped(c.field[ck], f, "herdctl answers a mention (mode mention) or every message of a listed user (mode auto, auto_channels)")
				}
			case "name":
			default:
				m.unmapped(c.field[ck], f, "herdctl answers a mention in its channels, every message of a listed user in its auto_channels, and every message of a DM or thread it is in")
			}
		}
		if id == "" {
			continue
		}
		channels = append(channels, id)
		if mode == "auto" {
			auto = append(auto, id)
		}
	}
	return channels, auto
}

// expiry maps session_expiry_hours to session_expiry.
func (m *mapper) expiry(e *value, field string) string {
	n, err := e.asInt(field)
	m.fail(err)
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("%dh", n)
}

// tokenRef is a token the original names by its variable: a reference,
// suffix naming the importer's own variable when the agent file named it
// (an agent file may not pick a variable of the env file for the fleet).
func (m *mapper) tokenRef(e *value, field, suffix string) string {
	name, ok := m.str(e, field)
	if !ok {
		return ""
	}
	if !refRe.MatchString("${" + name + "}") {
		m.fail(config.Errorf(e.loc(field), "%q is not a variable name", name))
		return ""
	}
	if m.fromAgentFile(e) {
		own := envName(m.name, suffix)
		m.note(e, field, "review %s: the agent file named the variable %s, and an agent file may not pick a variable of the env file: the fleet's overrides reference %s instead; set it in the env file to the token", field, name, own)
		name = own
	}
	return m.fleetValue("${" + name + "}")
}

// usersRef stands for the users who may talk to the agent when the
// original named none: it let everyone in the channels talk to it, and
// herdctl lets nobody it was not told of.
func (m *mapper) usersRef(e *value, field, platform string) []string {
	name := envName(m.name, strings.ToUpper(platform)+"_USER")
	m.note(e, field, "the original let anyone in its channels talk to the agent; herdctl answers only the users it lists: set %s in the env file to a user id, or list the ids in users", name)
	return []string{m.fleetValue("${" + name + "}")}
}

func (m *mapper) mapDiscord(v *value) {
	d := &config.DiscordChat{}
	p := "chat.discord"
	var users []string
	dmOff := false
	for _, k := range v.keys {
		e := v.field[k]
		switch k {
		case "bot_token_env":
			d.BotToken = m.tokenRef(e, p+"."+k, "DISCORD_BOT_TOKEN")
		case "guilds":
			if e.kind != kindList {
				m.fail(config.Errorf(e.loc(p+"."+k), "must be a list"))
				continue
			}
			for i, g := range e.items {
				gp := fmt.Sprintf("%s.guilds[%d]", p, i)
				if i > 0 {
					m.unmapped(g, gp, "a herdctl bot listens in one server (guild); give the agent another bot for another server")
					continue
				}
				for _, gk := range g.keys {
					ge := g.field[gk]
					switch gk {
					case "id":
						id, _ := m.str(ge, gp+".id")
						d.Guild = m.fleetValueOf(ge, gp+".id", id, varSuffix(gp+".id"))
					case "channels":
						d.Channels, d.AutoChannels = m.mapChannels(ge, gp)
					default:
						m.unmapped(ge, gp+"."+gk, "herdctl has no such setting")
					}
				}
			}
		case "session_expiry_hours":
			d.SessionExpiry = m.expiry(e, p+"."+k)
		case "dm":
			for _, dk := range e.keys {
				de := e.field[dk]
				switch dk {
				case "allowlist":
					list, err := de.asStrings(p + ".dm.allowlist")
					m.fail(err)
					for i, u := range list {
						users = append(users, m.fleetValueOf(de, fmt.Sprintf("%s.dm.allowlist[%d]", p, i), u, fmt.Sprintf("DISCORD_%d_USER", i+1)))
					}
				case "enabled":
					if b, err := de.asBool(p + ".dm.enabled"); err == nil && !b {
						dmOff = true
					}
				default:
					m.unmapped(de, p+".dm."+dk, "herdctl's users may always talk to the agent by DM, and nobody else may")
				}
			}
		default:
			m.unmapped(e, p+"."+k, "herdctl's chat bridge has no such setting")
		}
	}
	if dmOff {
		m.note(v, p+".dm.enabled", "dm disabled: herdctl lets its listed users talk by DM too")
	}
	if len(users) == 0 {
		users = m.usersRef(v, p+".users", "discord")
	}
	d.Users = users
	m.over.Chat.Discord = d
}

func (m *mapper) mapSlack(v *value) {
	s := &config.SlackChat{}
	p := "chat.slack"
	var users []string
	// The original's defaults: named by the importer, from no file (so
	// never the agent file's choice); valid names, so never reported.
	bot := &value{kind: kindScalar, str: "SLACK_BOT_TOKEN"}
	app := &value{kind: kindScalar, str: "SLACK_APP_TOKEN"}
	for _, k := range v.keys {
		e := v.field[k]
		switch k {
		case "bot_token_env":
			bot = e
		case "app_token_env":
			app = e
		case "channels":
			s.Channels, s.AutoChannels = m.mapChannels(e, p)
		case "session_expiry_hours":
			s.SessionExpiry = m.expiry(e, p+"."+k)
		case "dm":
			for _, dk := range e.keys {
				if dk == "allowlist" {
					list, err := e.field[dk].asStrings(p + ".dm.allowlist")
					m.fail(err)
					for i, u := range list {
						users = append(users, m.fleetValueOf(e.field[dk], fmt.Sprintf("%s.dm.allowlist[%d]", p, i), u, fmt.Sprintf("SLACK_%d_USER", i+1)))
					}
				} else {
					m.unmapped(e.field[dk], p+".dm."+dk, "herdctl's users may always talk to the agent by DM, and nobody else may")
				}
			}
		default:
			m.unmapped(e, p+"."+k, "herdctl's chat bridge has no such setting")
		}
	}
	s.BotToken = m.tokenRef(bot, p+".bot_token_env", "SLACK_BOT_TOKEN")
	s.AppToken = m.tokenRef(app, p+".app_token_env", "SLACK_APP_TOKEN")
	if len(users) == 0 {
		users = m.usersRef(v, p+".users", "slack")
	}
	s.Users = users
	m.over.Chat.Slack = s
}

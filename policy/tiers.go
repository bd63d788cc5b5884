package policy

import (
	"slices"
	"strings"

	"github.com/herdctl/herdctl/config"
)

// checkTiers refuses every option the agent file set that only the fleet
// file may set. The agent file is untrusted: it may sit in the agent's own
// writable workspace.
func checkTiers(a *config.AgentConfig) config.Errors {
	var errs config.Errors
	reported := map[string]bool{}
	for _, f := range a.AgentFileFields() {
		if !FleetOnly(f.Path) {
			continue
		}
		top, rest, _ := strings.Cut(f.Path, ".")
		opt, _, _ := strings.Cut(rest, ".")
		var msg string
		switch {
		case top == "docker":
			msg = "may only be set by the fleet file ([defaults.docker] or this agent's [agents.overrides.docker]); an agent file may set only " + strings.Join(AgentFileSafe, ", ")
			top = "docker." + opt
		case top == HooksField:
			msg = "may only be set by the fleet file ([defaults.hooks] or this agent's [agents.overrides.hooks]): a hook runs a program on the host or sends the job's data out of it, so an agent file cannot add or change one"
		default:
			msg = "may only be set by the fleet file ([defaults] or this agent's [agents.overrides])"
		}
		if reported[top] {
			continue
		}
		reported[top] = true
		errs = append(errs, &config.Error{Location: f.Location, Msg: msg})
	}
	return errs
}

// FleetOnly says whether the option at path (a field path of an agent's
// configuration: "docker.image", "chat.discord.bot_token", "model") may
// be set by the fleet file alone. It is the one statement of the tiers:
// checkTiers enforces it on agent files, and herdctlctl import asks it
// where to write each option it brings over.
func FleetOnly(path string) bool {
	top, rest, _ := strings.Cut(path, ".")
	opt, _, _ := strings.Cut(rest, ".")
	switch {
	case top == "docker":
		return opt != "" && !slices.Contains(AgentFileSafe, opt)
	case top == HooksField:
		return true
	}
	return slices.Contains(FleetOnlyTopLevel, top)
}

// builtinCeilings are the limits an agent file may ask for when the fleet
// sets none, by field path, in the field's unit (bytes for sizes).
var builtinCeilings = map[string]int64{
	"docker.memory":            CeilingMemory,
	"docker.pids_limit":        CeilingPidsLimit,
	"docker.cpu_shares":        CeilingCPUShares,
	"docker.max_containers":    CeilingMaxContainers,
	"docker.disk":              CeilingDisk,
	"docker.inodes":            CeilingInodes,
	"instances.max_concurrent": CeilingMaxConcurrent,
	"log_budget":               CeilingLogBudget,
	"log_budget_daily":         CeilingLogDaily,
}

// BuiltinCeiling is the highest value an agent file may give the limit at
// path when the fleet sets none (bytes for sizes), and false for a field
// without a built-in ceiling.
func BuiltinCeiling(path string) (int64, bool) {
	v, ok := builtinCeilings[path]
	return v, ok
}

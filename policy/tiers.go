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
		top, rest, _ := strings.Cut(f.Path, ".")
		opt, _, _ := strings.Cut(rest, ".")
		var msg string
		switch {
		case top == "docker" && opt != "" && !slices.Contains(AgentFileSafe, opt):
			msg = "may only be set by the fleet file ([defaults.docker] or this agent's [agents.overrides.docker]); an agent file may set only " + strings.Join(AgentFileSafe, ", ")
			top = "docker." + opt
		case top == HooksField:
			msg = "may only be set by the fleet file ([defaults.hooks] or this agent's [agents.overrides.hooks]): a hook runs a program on the host or sends the job's data out of it, so an agent file cannot add or change one"
		case slices.Contains(FleetOnlyTopLevel, top):
			msg = "may only be set by the fleet file ([defaults] or this agent's [agents.overrides])"
		default:
			continue
		}
		if reported[top] {
			continue
		}
		reported[top] = true
		errs = append(errs, &config.Error{Location: f.Location, Msg: msg})
	}
	return errs
}

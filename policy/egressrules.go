package policy

import (
	"fmt"
	"strings"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy/egress"
)

// resolveEgress checks the agent's egress list and private ranges. The
// fleet's list (or DefaultEgress when it lists nothing) is what the agent
// may reach; an agent file may narrow it to rules each covered by one of
// the fleet's, never widen it.
func resolveEgress(a *config.AgentConfig, errs config.Errors) (allow, private []string, _ config.Errors) {
	bad := func(path, format string, args ...any) {
		errs = append(errs, config.Errorf(a.Where(path), format, args...))
	}
	fleetList := a.Fleet.Docker.Egress
	if len(fleetList) == 0 {
		fleetList = DefaultEgress
	}
	var fleetRules []egress.Rule
	for i, s := range fleetList {
		r, err := egress.ParseRule(s)
		if err != nil {
			bad(fmt.Sprintf("docker.egress[%d]", i), "%v", err)
			continue
		}
		fleetRules = append(fleetRules, r)
	}
	list := fleetList
	if a.FromAgentFile("docker.egress") {
		list = a.Docker.Egress
	}
	for i, s := range list {
		r, err := egress.ParseRule(s)
		if err != nil {
			bad(fmt.Sprintf("docker.egress[%d]", i), "%v", err)
			continue
		}
		if a.FromAgentFile("docker.egress") && !covered(r, fleetRules) {
			bad(fmt.Sprintf("docker.egress[%d]", i), "%s is not within the fleet's egress list (%v): an agent file may only narrow it", r, fleetList)
			continue
		}
		allow = append(allow, r.String())
	}
	for i, s := range a.Docker.EgressPrivate {
		p, err := egress.ParsePrivate(s)
		if err != nil {
			bad(fmt.Sprintf("docker.egress_private[%d]", i), "%v", err)
			continue
		}
		private = append(private, p.String())
	}
	return allow, private, errs
}

// covered reports whether one of rules allows everything r allows: the
// same name, or a name (or a wildcard) under a wildcard's domain, on the
// same port.
func covered(r egress.Rule, rules []egress.Rule) bool {
	for _, f := range rules {
		switch {
		case f.Port != r.Port:
		case !f.Wildcard:
			if !r.Wildcard && r.Name == f.Name {
				return true
			}
		case r.Name == f.Name:
			if r.Wildcard { // *.example.org within *.example.org
				return true
			}
		case strings.HasSuffix(r.Name, "."+f.Name):
			return true
		}
	}
	return false
}

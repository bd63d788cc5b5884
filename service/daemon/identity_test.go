package daemon

import (
	"strings"
	"testing"
)

// TestNameTheft: an agent that renames itself to another agent of the
// fleet (listed after it, and one that has not run yet) is left out; the
// owner of the name runs on. Names are claimed as agents come into the
// fleet.
func TestNameTheft(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	for _, name := range []string{"alpha", "beta"} {
		if r.d.Layout.IdentityOwner(name) == "" {
			t.Fatalf("%s's name was not claimed when it came into the fleet", name)
		}
	}
	r.write("alpha/agent.toml", strings.Replace(alphaAgent, `name = "alpha"`, `name = "beta"`, 1))
	if err := r.d.Reload(t.Context()); err == nil {
		t.Fatal("the reload did not say an agent was left out")
	}
	st, _ := r.d.Status(t.Context())
	if st.Agents != 1 || len(st.BrokenAgents) != 1 || !strings.HasSuffix(st.BrokenAgents[0].File, "alpha/agent.toml") ||
		!strings.Contains(st.BrokenAgents[0].Errors[0].Message, "cannot take another's name") {
		t.Errorf("status: %+v", st)
	}
	if _, ok := r.unitFiles()["herdctl-beta-daily.timer"]; !ok {
		t.Error("beta's timer is gone")
	}
}

package daemon

import (
	"os"
	"path/filepath"
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

// TestReplacedAgentThatNeverRan: the package's example agent, replaced
// by the operator's own file of the same name before it ever ran, does
// not hold its name; once a name has a home, it does (even with its file
// gone from the fleet), and while its file is in the fleet, it does too.
func TestReplacedAgentThatNeverRan(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	mine := filepath.Join(r.dir, "mine/agent.toml")
	r.write("mine/agent.toml", strings.Replace(betaAgent, `name = "beta"`, `name = "alpha"`, 1))
	without := func(fleet, entry string) string {
		return strings.Replace(fleet, "[[agents]]\npath = \""+entry+"\"\n", "", 1)
	}

	// alpha's file in the fleet beside the new one: the owner keeps it.
	r.write("herdctl.toml", testFleet+"\n[[agents]]\npath = \"mine/agent.toml\"\n")
	_ = r.d.Reload(t.Context())
	if got := r.d.Layout.IdentityOwner("alpha"); got == mine {
		t.Fatal("a new file took the name of an agent still in the fleet")
	}

	// alpha's file gone, alpha never ran: the new file takes the name.
	r.write("herdctl.toml", without(testFleet, "alpha/agent.toml")+"\n[[agents]]\npath = \"mine/agent.toml\"\n")
	if err := r.d.Reload(t.Context()); err != nil {
		t.Fatalf("the operator's own alpha was refused: %v", err)
	}
	if got := r.d.Layout.IdentityOwner("alpha"); got != mine {
		t.Errorf("alpha belongs to %q, want %q", got, mine)
	}
	if st, _ := r.d.Status(t.Context()); st.Agents != 2 || len(st.BrokenAgents) != 0 {
		t.Errorf("status: %+v", st)
	}

	// beta ran (it has a home); its file leaves the fleet; a new beta is refused.
	if err := os.MkdirAll(r.d.Layout.AgentHome("beta"), 0o700); err != nil {
		t.Fatal(err)
	}
	r.write("other/agent.toml", betaAgent)
	r.write("herdctl.toml", without(without(testFleet, "alpha/agent.toml"), "beta/agent.toml")+"\n[[agents]]\npath = \"other/agent.toml\"\n")
	if err := r.d.Reload(t.Context()); err == nil || !strings.Contains(err.Error(), "belongs to the agent of") {
		t.Errorf("a new file took the name of an agent that ran: %v", err)
	}
}

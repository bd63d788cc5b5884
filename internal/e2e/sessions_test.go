package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

const sessionsFleet = `version = 1
env_file = "herdctl.env"
claude_path = "%s"

[fleet]
name = "sessions"

[defaults]
max_cost_usd_per_day = 10

[defaults.docker]
user = "1000:1000"
network = "egress"
egress = ["api.stand-in.test:47300"]
egress_private = ["127.0.0.0/8"]

[[agents]]
path = "/srv/herdctl/diarist/agent.toml"

[[agents]]
path = "/srv/herdctl/spender/agent.toml"
  [agents.overrides]
  max_cost_usd_per_day = 0.0001
`

const diaristAgent = `name = "diarist"
default_prompt = "What did we note before?"
[schedules.daily]
type = "cron"
cron = "0 6 * * *"
prompt = "Note the day"
resume_session = true
`

// TestSessionsTokenAndBudget drives issue 17 through the installed
// daemon, as an operator would, on a fleet whose only credential is a
// subscription token: a schedule with resume_session continues its first
// run's session on its second, each job's cost is its own, sessions and
// cost show them, and an agent with a tiny budget has its second job
// skipped.
func TestSessionsTokenAndBudget(t *testing.T) {
	claude := testbed.RequireClaude(t)
	m := testbed.HerdctlMachine(t, fmt.Sprintf(sessionsFleet, claude), map[string]string{
		"/srv/herdctl/diarist/agent.toml": diaristAgent,
		"/srv/herdctl/spender/agent.toml": "name = \"spender\"\ndefault_prompt = \"Spend\"\n",
	})
	m.Boot()
	m.Sh("echo '127.0.0.1 api.stand-in.test' >> /etc/hosts")
	ln, err := testbed.ListenInNetns(m.PID, "127.0.0.1:47300")
	if err != nil {
		t.Fatal(err)
	}
	stand := testbed.ServeAPI(t, ln, []testbed.Turn{{Text: "Noted."}})
	const token = "sk-ant-oat01-e2e-not-a-real-token"
	m.WriteFile("/etc/herdctl/herdctl.env", "CLAUDE_CODE_OAUTH_TOKEN="+token+"\nANTHROPIC_BASE_URL=http://api.stand-in.test:47300\n", 0o600)
	m.Start()

	// The schedule's job, twice, as its timer starts it.
	var runs []api.Job
	for i := 1; i <= 2; i++ {
		m.Run("systemctl", "start", "herdctl-diarist-daily.service")
		m.Eventually(2*time.Minute, fmt.Sprintf("scheduled job %d of diarist", i), func() bool {
			runs = jobs(m, "diarist")
			return len(runs) == i && api.Finished(runs[0].Status)
		})
	}
	first, second := runs[1], runs[0]
	for _, j := range runs {
		if j.Status != api.StatusCompleted {
			t.Fatalf("job %s: %s (%s)\n%s", j.ID, j.Status, j.ExitReason, m.Run("herdctlctl", "logs", j.ID))
		}
	}

	t.Run("a token-only fleet reaches the API with the token", func(t *testing.T) {
		for i := range stand.RequestCount() {
			_, h := stand.Request(i)
			if got := h.Get("Authorization"); got != "Bearer "+token {
				t.Errorf("request %d: Authorization %q", i, got)
			}
			if h.Get("X-Api-Key") != "" {
				t.Errorf("request %d carries an API key", i)
			}
		}
	})

	t.Run("resume_session continues the first run's session", func(t *testing.T) {
		if second.SessionID != first.SessionID || second.Resume != first.SessionID {
			t.Fatalf("second run: session %s, resumed %q; first: %s", second.SessionID, second.Resume, first.SessionID)
		}
		// The second run's first request carries the first run's
		// conversation, under the same session header.
		var firstSession, secondSession string
		var secondMsgs int
		for i := range stand.RequestCount() {
			req, h := stand.Request(i)
			msgs, _ := req["messages"].([]any)
			if strings.Contains(fmt.Sprint(msgs), "Note the day") && len(msgs) >= 3 && secondSession == "" {
				secondSession, secondMsgs = h.Get("X-Claude-Code-Session-Id"), len(msgs)
			} else if firstSession == "" {
				firstSession = h.Get("X-Claude-Code-Session-Id")
			}
		}
		if secondMsgs < 3 {
			t.Errorf("no request of the second run carried the first run's conversation")
		}
		if firstSession == "" || secondSession != firstSession {
			t.Errorf("X-Claude-Code-Session-Id: first run %q, second %q", firstSession, secondSession)
		}
	})

	t.Run("each job's cost is its own", func(t *testing.T) {
		if first.CostUSD <= 0 || second.CostUSD < first.CostUSD*0.5 || second.CostUSD > first.CostUSD*1.5 {
			t.Errorf("the same request twice cost $%v then $%v (session total $%v)", first.CostUSD, second.CostUSD, second.SessionCostUSD)
		}
		var ss []api.Session
		m.CtlJSON(&ss, "sessions", "--json", "diarist")
		if len(ss) != 1 || ss[0].Jobs != 2 || ss[0].ID != first.SessionID {
			t.Errorf("herdctlctl sessions diarist: %+v", ss)
		}
		var days []api.CostDay
		m.CtlJSON(&days, "cost", "--json", "--agent=diarist")
		// cost counts what each job spent: the larger of Claude Code's
		// report and the relay's metering.
		want := first.Spent() + second.Spent()
		if len(days) != 1 || days[0].Jobs != 2 || days[0].CostUSD < want-1e-9 || days[0].CostUSD > want+1e-9 {
			t.Errorf("herdctlctl cost: %+v, want $%v (Claude Code $%v + $%v, relay $%v + $%v)", days, want,
				first.CostUSD, second.CostUSD, first.APICostUSD, second.APICostUSD)
		}
		if first.APICostUSD <= 0 || second.APICostUSD < first.APICostUSD*0.5 || second.APICostUSD > first.APICostUSD*1.5 {
			t.Errorf("the relay metered $%v then $%v for the same request twice", first.APICostUSD, second.APICostUSD)
		}
	})

	t.Run("trigger --resume continues the session by hand; another agent's is refused", func(t *testing.T) {
		out := m.Run("herdctlctl", "trigger", "--wait", "diarist", "--resume", "--prompt", "And now?")
		if !strings.Contains(out, "Noted.") {
			t.Errorf("trigger --wait printed %q, want the answer", out)
		}
		if js := jobs(m, "diarist"); len(js) != 3 || js[0].SessionID != first.SessionID {
			t.Errorf("the manual job: %+v", js[0])
		}
		code, out := m.ExitCode("herdctlctl", "trigger", "spender", "--resume="+first.SessionID)
		if code == 0 || !strings.Contains(out, "is not one of agent spender's") {
			t.Errorf("resuming another agent's session: exit %d: %s", code, out)
		}
	})

	t.Run("a tiny budget skips the next job", func(t *testing.T) {
		// trigger --wait returns once the job's unit has stopped too: the
		// next trigger at once is not refused for max_concurrent.
		// (The first job may end over its budget: exit 1.)
		_, out := m.ExitCode("herdctlctl", "trigger", "--wait", "--json", "spender")
		var j api.Job
		// The job's JSON, then perhaps herdctlctl's word on its outcome.
		if i := strings.Index(out, "{"); i < 0 || json.NewDecoder(strings.NewReader(out[i:])).Decode(&j) != nil {
			t.Fatalf("trigger --wait --json printed no job: %s", out)
		}
		if state.UnitActive(j.UnitState) {
			t.Errorf("trigger --wait returned with the job's unit %s", j.UnitState)
		}
		code, out := m.ExitCode("herdctlctl", "trigger", "--wait", "spender")
		js := jobs(m, "spender")
		if code == 0 || len(js) != 2 || js[0].Status != api.StatusSkipped || !strings.HasPrefix(js[0].ExitReason, "budget: ") {
			t.Fatalf("second job of spender: exit %d %s; jobs %+v", code, out, js)
		}
		if st := m.Run("herdctlctl", "status"); !strings.Contains(st, "skipped") {
			t.Errorf("status does not show the skipped job:\n%s", st)
		}
	})
}

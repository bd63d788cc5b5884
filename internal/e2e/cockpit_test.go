package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/service/api"
)

const consoleFleet = `version = 1
env_file = "herdctl.env"
claude_path = "%s"

[fleet]
name = "console"

[defaults]
permission_mode = "bypassPermissions"
max_cost_usd_per_day = 10

[defaults.docker]
user = "1000:1000"
network = "egress"
egress = ["api.stand-in.test:47300"]
egress_private = ["127.0.0.0/8"]

[[agents]]
path = "/srv/herdctl/scout/agent.toml"

[[agents]]
path = "/srv/herdctl/talker/agent.toml"
`

// xss is what a hostile agent writes where the page shows its text: it
// changes the page's title if a browser ever parses it as HTML.
const xss = `<img src=x onerror="document.title='pwned'">`

const scoutAgent = `name = "scout"
description = "Looks around ` + `<img src=x onerror=\"document.title='pwned'\">` + `"
default_prompt = "Look around"
allowed_tools = ["Bash"]
[schedules.hourly]
type = "cron"
cron = "0 * * * *"
`

const talkerAgent = `name = "talker"
description = "Talks with whoever asks"
`

// consoleMachine installs herdctl and herdctl-cockpit from the packages,
// as an operator would, next to Debian's Cockpit (make deps installs it
// on the host, which the machine overlays), with a user in group herdctl
// and one outside it; it returns the machine and Cockpit's address as
// the host's browser reaches it.
func consoleMachine(t *testing.T) (*testbed.Machine, string) {
	claude := testbed.RequireClaude(t)
	deb, _ := testbed.Packages(t)
	cockpitDeb := testbed.CockpitPackage(t)
	for _, p := range []string{"/usr/lib/cockpit/cockpit-ws", "/usr/bin/cockpit-bridge", "/usr/share/cockpit/shell/manifest.json"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("Cockpit is not installed (%s): run make deps", p)
		}
	}
	m := testbed.NewMachine(t)
	m.CopyFile(deb, "/var/tmp/herdctl.deb", 0o644)
	m.CopyFile(cockpitDeb, "/var/tmp/herdctl-cockpit.deb", 0o644)
	m.Boot()
	m.StartContainerd()
	if code, out := m.ExitCode("apt-get", "install", "-y", "/var/tmp/herdctl.deb", "/var/tmp/herdctl-cockpit.deb"); code != 0 {
		t.Fatalf("apt-get install: exit %d\n%s", code, out)
	}
	m.WriteFile("/etc/herdctl/herdctl.toml", fmt.Sprintf(consoleFleet, claude), 0o644)
	m.WriteFile("/srv/herdctl/scout/agent.toml", scoutAgent, 0o644)
	m.WriteFile("/srv/herdctl/talker/agent.toml", talkerAgent, 0o644)
	m.WriteFile("/etc/herdctl/herdctl.env", "ANTHROPIC_API_KEY=sk-ant-e2e-console\nANTHROPIC_BASE_URL=http://api.stand-in.test:47300\n", 0o600)
	m.Sh("echo '127.0.0.1 api.stand-in.test' >> /etc/hosts")
	m.Sh("chown -R 1000:1000 /srv/herdctl && systemctl restart herdctl")
	// Operators: one in group herdctl, one outside it.
	m.Sh(`useradd -m -u 2001 -G herdctl -s /bin/bash ops && echo 'ops:console-e2e-pw' | chpasswd &&
		useradd -m -u 2002 -s /bin/bash outsider && echo 'outsider:console-e2e-pw' | chpasswd &&
		systemctl start cockpit.socket`)
	return m, "http://" + testbed.ForwardIntoNetns(t, m.PID, "127.0.0.1:9090")
}

// page opens herdctl's page at route, at top level, as Cockpit serves it.
func page(base, route string) string {
	return base + "/cockpit/@localhost/herdctl/index.html#" + route
}

func evalJS[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitJS waits until the expression is true in the page.
func waitJS(t *testing.T, ctx context.Context, d time.Duration, what, js string) {
	t.Helper()
	if err := testbed.WaitJS(ctx, d, js); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("waiting for %s (%s): %v\nthe page says:\n%s", what, js, err, body)
	}
}

// screenshot saves what the browser shows as docs/cockpit/NAME.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join(filepath.Dir(securityDoc), "cockpit")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// titleIntact checks that no agent text ran as HTML on the page, and
// notes it for docs/security.md.
func titleIntact(t *testing.T, ctx context.Context, where string, rows *[]row) {
	t.Helper()
	title := evalJS[string](t, ctx, `document.title`)
	imgs := evalJS[float64](t, ctx, `document.querySelectorAll('main img').length`)
	verdict := "blocked"
	if title != "Agents" || imgs != 0 {
		verdict = "NOT BLOCKED"
		t.Errorf("%s: document.title is %q, %v img elements: agent text ran as HTML", where, title, imgs)
	}
	*rows = append(*rows, row{
		what:     "agent text holding `" + xss + "` on the " + where,
		expected: "shown as text; no element made, no script run",
		observed: fmt.Sprintf("document.title %q, %v img elements", title, imgs),
		verdict:  verdict,
	})
}

// TestConsole drives herdctl's Cockpit page in Debian's Chromium, through
// Cockpit's own login, against the installed packages and the real
// Claude Code CLI (issue 20).
func TestConsole(t *testing.T) {
	m, base := consoleMachine(t)
	ln, err := testbed.ListenInNetns(m.PID, "127.0.0.1:47300")
	if err != nil {
		t.Fatal(err)
	}
	// Every job runs a tool for a few seconds (so that it is seen
	// running), then answers with text holding markup.
	testbed.ServeAPI(t, ln, []testbed.Turn{
		{Tool: "Bash", Input: map[string]any{"command": "sleep 6; echo looked around", "description": "look around"}},
		{Text: xss + " All quiet here."},
	})
	var rows []row
	defer func() {
		if !t.Failed() {
			writeSecurityDoc(t, "Web console", "A hostile agent's text in herdctl's Cockpit page (TestConsole): its description and its results, shown to an operator logged in through Cockpit in Debian's Chromium; and a Cockpit user outside group herdctl.", rows)
		}
	}()
	ctx := testbed.NewBrowser(t)
	testbed.CockpitLogin(t, ctx, base, "ops", "console-e2e-pw")
	if err := testbed.Within(ctx, 10*time.Second, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}

	t.Run("the overview lists the agents", func(t *testing.T) {
		if err := testbed.Within(ctx, 60*time.Second, chromedp.Navigate(page(base, "/"))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, 60*time.Second, "both agents", `document.querySelector('tr[data-agent="scout"]') && document.querySelector('tr[data-agent="talker"]')`)
		if n := evalJS[float64](t, ctx, `document.querySelectorAll('svg.chart rect.bar').length`); n != 14 {
			t.Errorf("the chart has %v bars, want 14 days", n)
		}
		// The description is shown as the text it is.
		if !evalJS[bool](t, ctx, `document.body.textContent.includes("Looks around <img src=x")`) {
			t.Error("the description's markup is not shown as text")
		}
		titleIntact(t, ctx, "overview", &rows)
		screenshot(t, ctx, "overview")
	})

	t.Run("the overview follows a job without a reload", func(t *testing.T) {
		id := strings.TrimSpace(m.Run("herdctlctl", "trigger", "scout"))
		waitJS(t, ctx, 60*time.Second, "the running job in the overview", fmt.Sprintf(`document.body.textContent.includes(%q) && document.querySelector('#count-running').textContent === "1"`, id))
		waitJS(t, ctx, 2*time.Minute, "its end in the overview", fmt.Sprintf(`document.querySelector('#count-running').textContent === "0" && document.querySelector('tr[data-agent="scout"]').textContent.includes(%q)`, id))
	})

	var jobID string
	t.Run("a running job's lines appear on its page while it runs", func(t *testing.T) {
		if err := testbed.Within(ctx, 60*time.Second, chromedp.Navigate(page(base, "/agent/scout")),
			chromedp.WaitVisible("#run-prompt"), chromedp.SendKeys("#run-prompt", "Look around now"),
			chromedp.Click("form.run button[type=submit]")); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, 30*time.Second, "the job's page", `location.hash.startsWith("#/job/")`)
		jobID = strings.TrimPrefix(evalJS[string](t, ctx, `location.hash`), "#/job/")
		waitJS(t, ctx, 90*time.Second, "the Bash tool's line", `[...document.querySelectorAll('#events li')].some(li => li.textContent.includes("sleep 6"))`)
		var j api.Job
		m.CtlJSON(&j, "job", "--json", jobID)
		if j.Status != api.StatusRunning {
			t.Errorf("the tool's line appeared when the job was %s, not running", j.Status)
		}
		evalJS[bool](t, ctx, `document.querySelector('#s-events').scrollIntoView(), true`)
		screenshot(t, ctx, "job-running")
		evalJS[bool](t, ctx, `window.scrollTo(0, 0), true`)
		waitJS(t, ctx, 2*time.Minute, "the result", `[...document.querySelectorAll('pre.text')].some(p => p.textContent.includes("All quiet here."))`)
		if !evalJS[bool](t, ctx, `[...document.querySelectorAll('pre.text')].some(p => p.textContent.includes('<img src=x onerror='))`) {
			t.Error("the result's markup is not shown as text")
		}
		titleIntact(t, ctx, "job page", &rows)
		screenshot(t, ctx, "job")
	})

	t.Run("Disable and Enable change the timers", func(t *testing.T) {
		if err := testbed.Within(ctx, 60*time.Second, chromedp.Navigate(page(base, "/agent/scout")), chromedp.WaitVisible("#disable")); err != nil {
			t.Fatal(err)
		}
		titleIntact(t, ctx, "agent page", &rows)
		screenshot(t, ctx, "agent")
		if !strings.Contains(m.Timers(), "herdctl-scout-hourly.timer") {
			t.Fatalf("no timer to begin with:\n%s", m.Timers())
		}
		if err := testbed.Within(ctx, 60*time.Second, chromedp.Click("#disable"), chromedp.WaitVisible("#enable")); err != nil {
			t.Fatal(err)
		}
		m.Eventually(30*time.Second, "scout's timer to go", func() bool { return !strings.Contains(m.Timers(), "herdctl-scout-hourly.timer") })
		if err := testbed.Within(ctx, 60*time.Second, chromedp.Click("#enable"), chromedp.WaitVisible("#disable")); err != nil {
			t.Fatal(err)
		}
		m.Eventually(30*time.Second, "scout's timer to come back", func() bool { return strings.Contains(m.Timers(), "herdctl-scout-hourly.timer") })
	})

	t.Run("chat: two messages answered, the second in the same session", func(t *testing.T) {
		say := func(text string, bubbles int) {
			t.Helper()
			if err := testbed.Within(ctx, 30*time.Second, chromedp.WaitVisible("#chat-input"), chromedp.SendKeys("#chat-input", text), chromedp.Click("#chat-send")); err != nil {
				t.Fatal(err)
			}
			waitJS(t, ctx, 3*time.Minute, fmt.Sprintf("%d messages, answered", bubbles),
				fmt.Sprintf(`document.querySelectorAll('#transcript li').length === %d && !document.querySelector('#transcript .progress') && location.hash.includes("session=")`, bubbles))
		}
		if err := testbed.Within(ctx, 60*time.Second, chromedp.Navigate(page(base, "/chat/talker"))); err != nil {
			t.Fatal(err)
		}
		say("Hello, talker", 2)
		say("And again", 4)
		if !evalJS[bool](t, ctx, `[...document.querySelectorAll('#transcript .msg-agent')].every(li => li.textContent.includes("All quiet here."))`) {
			t.Errorf("the answers are not in the page: %s", evalJS[string](t, ctx, `document.querySelector('#transcript').innerText`))
		}
		var js []api.Job
		m.CtlJSON(&js, "jobs", "--json", "--agent", "talker")
		if len(js) != 2 || js[0].SessionID == "" || js[0].SessionID != js[1].SessionID || js[0].Resume != js[1].SessionID {
			t.Fatalf("the chat's jobs: %+v", js)
		}
		// The conversation is still there after a reload.
		if err := testbed.Within(ctx, 60*time.Second, chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, 60*time.Second, "the conversation after a reload", `document.querySelectorAll('#transcript li').length === 4`)
		titleIntact(t, ctx, "chat page", &rows)
		screenshot(t, ctx, "chat")
		// New conversation starts a fresh session.
		if err := testbed.Within(ctx, 30*time.Second, chromedp.Click("#chat-new")); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, 30*time.Second, "an empty conversation", `!location.hash.includes("session=") && document.querySelectorAll('#transcript li').length === 0`)
	})

	t.Run("at a phone's width", func(t *testing.T) {
		if err := testbed.Within(ctx, 60*time.Second, chromedp.EmulateViewport(390, 844), chromedp.Navigate(page(base, "/")),
			chromedp.WaitVisible(`tr[data-agent="scout"]`)); err != nil {
			t.Fatal(err)
		}
		if w := evalJS[float64](t, ctx, `document.documentElement.scrollWidth`); w > 400 {
			t.Errorf("the overview is %vpx wide at a 390px screen", w)
		}
		screenshot(t, ctx, "overview-phone")
	})

	t.Run("in the dark", func(t *testing.T) {
		dark := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
			return err
		})
		if err := testbed.Within(ctx, 60*time.Second, chromedp.EmulateViewport(1280, 800), dark,
			chromedp.Navigate(page(base, "/agent/talker")), chromedp.WaitVisible("#s-sessions")); err != nil {
			t.Fatal(err)
		}
		if bg := evalJS[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bg == "rgb(255, 255, 255)" {
			t.Errorf("a dark screen gets a white page")
		}
		screenshot(t, ctx, "agent-dark")
	})

	t.Run("the outsider sees no agent", func(t *testing.T) {
		other := testbed.NewBrowser(t)
		testbed.CockpitLogin(t, other, base, "outsider", "console-e2e-pw")
		if err := testbed.Within(other, 60*time.Second, chromedp.Navigate(page(base, "/")), chromedp.WaitVisible("#not-in-group")); err != nil {
			t.Fatal(err)
		}
		text := evalJS[string](t, other, `document.body.innerText`)
		verdict := "blocked"
		if strings.Contains(text, "scout") || strings.Contains(text, "talker") || !strings.Contains(text, "usermod -aG herdctl outsider") {
			verdict = "NOT BLOCKED"
			t.Errorf("the outsider's page says:\n%s", text)
		}
		rows = append(rows, row{what: "a Cockpit user outside group herdctl opens the page", expected: "no fleet data; told how to be added",
			observed: evalJS[string](t, other, `document.querySelector('#not-in-group p').innerText`), verdict: verdict})
		screenshot(t, other, "outsider")
	})
}

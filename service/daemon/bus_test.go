package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// busRig is a daemon on a private bus with a client of root's.
type busRig struct {
	*daemonRig
	bus    *testbed.Bus
	client *api.Client
}

func newBusRig(t *testing.T, systemLike bool, group string, policies ...string) *busRig {
	t.Helper()
	r := &busRig{daemonRig: newDaemonRig(t), bus: testbed.StartBus(t, systemLike, policies...)}
	r.start()
	conn, err := dbus.Connect(r.bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := ServeBus(conn, r.d, group); err != nil {
		t.Fatal(err)
	}
	if r.client, err = api.Dial(r.bus.Address); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.client.Close() })
	return r
}

// ctl runs herdctlctl as uid on the rig's bus and returns its exit code
// and output.
func (r *busRig) ctl(ctl string, uid uint32, args ...string) (int, string) {
	cmd := exec.Command(ctl, args...)
	cmd.Env = []string{"DBUS_SYSTEM_BUS_ADDRESS=" + r.bus.Address, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		r.t.Fatal(err)
	}
	return 0, out.String()
}

func nobody(t *testing.T) (uid uint32, group string) {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody on this host")
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Skip("user nobody has no primary group")
	}
	n, _ := strconv.ParseUint(u.Uid, 10, 32)
	return uint32(n), g.Name
}

func TestBusMethods(t *testing.T) {
	r := newBusRig(t, false, "")
	ctx := context.Background()
	st, err := r.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.FleetName != "test" || st.Agents != 2 || st.Timers != 3 {
		t.Errorf("GetStatus: %+v", st)
	}
	as, err := r.client.Agents(ctx)
	if err != nil || len(as) != 2 || as[0].Name != "alpha" || len(as[0].Schedules) != 2 {
		t.Fatalf("ListAgents: %+v %v", as, err)
	}
	a, err := r.client.Agent(ctx, "alpha")
	if err != nil || a.Schedules[1].Timer != "herdctl-alpha-tick.timer" || a.Schedules[1].NextRun.IsZero() {
		t.Fatalf("GetAgent: %+v %v", a, err)
	}
	id, err := r.client.Trigger(ctx, "alpha", "tick", "a prompt", api.TriggerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := r.client.Job(ctx, id)
	if err != nil || j.Agent != "alpha" || j.Trigger != "manual" || j.UnitState != "active" {
		t.Fatalf("GetJob: %+v %v", j, err)
	}
	js, err := r.client.Jobs(ctx, api.JobFilter{Agent: "alpha", Limit: 5})
	if err != nil || len(js) != 1 || js[0].ID != id {
		t.Fatalf("ListJobs: %+v %v", js, err)
	}
	// Paging and one session's jobs (the web console's agent and chat pages).
	if js, err := r.client.Jobs(ctx, api.JobFilter{Agent: "alpha", Offset: 1}); err != nil || len(js) != 0 {
		t.Errorf("ListJobs past the last job: %+v %v", js, err)
	}
	if js, err := r.client.Jobs(ctx, api.JobFilter{Session: "5f0c8a4e-1d2b-4c3a-9e8f-7a6b5c4d3e2f"}); err != nil || len(js) != 0 {
		t.Errorf("ListJobs of a session no job ran in: %+v %v", js, err)
	}
	for _, c := range []struct {
		call func() error
		want string
	}{
		{func() error { _, err := r.client.Job(ctx, "nope"); return err }, api.ErrNotFound},
		{func() error { _, err := r.client.Agent(ctx, "nope"); return err }, api.ErrNotFound},
		{func() error { _, err := r.client.Jobs(ctx, api.JobFilter{Status: "bogus"}); return err }, api.ErrInvalidArgs},
		{func() error { _, err := r.client.Jobs(ctx, api.JobFilter{Offset: -1}); return err }, api.ErrInvalidArgs},
		{func() error { _, err := r.client.Trigger(ctx, "alpha", "", "again", api.TriggerOptions{}); return err }, api.ErrBusy},
		{func() error { return r.client.Cancel(ctx, "nope") }, api.ErrNotFound},
	} {
		if err := c.call(); api.ErrorName(err) != c.want {
			t.Errorf("got %v (%s), want %s", err, api.ErrorName(err), c.want)
		}
	}
	// Malformed arguments are the bus's business: wrong types never reach us.
	call := r.client.Conn().Object(api.BusName, api.ObjectPath).Call(api.Interface+".GetJob", 0, uint32(7))
	if call.Err == nil {
		t.Error("GetJob with a uint32 id was accepted")
	}
	r.write("alpha/agent.toml", "name = \"alpha\"\nbogus = 1\n")
	if err := r.client.Reload(ctx); api.ErrorName(err) != api.ErrInvalidConfig || !strings.Contains(api.ErrorMessage(err), "bogus") {
		t.Errorf("Reload of a broken fleet: %v", err)
	}
	if errs, err := r.client.Validate(ctx, r.d.ConfigFile); err != nil || len(errs) == 0 || errs[0].Line == 0 {
		t.Errorf("Validate: %+v %v", errs, err)
	}
}

func TestBusIntrospectionAndProperties(t *testing.T) {
	r := newBusRig(t, false, "")
	obj := r.client.Conn().Object(api.BusName, api.ObjectPath)
	var xml string
	if err := obj.Call("org.freedesktop.DBus.Introspectable.Introspect", 0).Store(&xml); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<method name="Trigger">`, `<arg name="prompt" type="s" direction="in">`,
		`<signal name="JobFinished">`, `<property name="RunningJobs" type="u" access="read">`} {
		if !strings.Contains(xml, want) {
			t.Errorf("introspection lacks %s", want)
		}
	}
	v, err := obj.GetProperty(api.Interface + ".AgentCount")
	if err != nil || v.Value() != uint32(2) {
		t.Errorf("AgentCount: %v %v", v, err)
	}
	var root string
	if err := r.client.Conn().Object(api.BusName, "/dev/herdctl").Call("org.freedesktop.DBus.Introspectable.Introspect", 0).Store(&root); err != nil || !strings.Contains(root, `<node name="Manager1">`) {
		t.Errorf("parent node: %v %s", err, root)
	}
}

func TestBusSignals(t *testing.T) {
	r := newBusRig(t, false, "")
	conn := r.client.Conn()
	if err := conn.AddMatchSignal(dbus.WithMatchInterface(api.Interface)); err != nil {
		t.Fatal(err)
	}
	ch := make(chan *dbus.Signal, 10)
	conn.Signal(ch)
	const id = "20260101-000000-abcdef"
	r.d.index.put(&api.Job{ID: id, Agent: "alpha", Status: state.StatusRunning})
	rec := &api.Job{ID: id, Agent: "alpha", Status: state.StatusCompleted}
	if err := r.d.records().Write(rec); err != nil {
		t.Fatal(err)
	}
	r.d.jobChanged(id)
	if err := r.d.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := map[string][]any{}
	for len(got) < 2 {
		select {
		case s := <-ch:
			got[s.Name] = s.Body
		case <-time.After(30 * time.Second):
			t.Fatalf("signals received: %v", got)
		}
	}
	if b := got[api.Interface+".JobFinished"]; len(b) != 4 || b[0] != id || b[2] != state.StatusCompleted {
		t.Errorf("JobFinished: %v", b)
	}
	if b := got[api.Interface+".Reloaded"]; len(b) != 2 || b[0] != true {
		t.Errorf("Reloaded: %v", b)
	}
}

// TestBusRefusesOtherUsers: with a bus that lets everyone call anything,
// the daemon's own uid check still refuses mutating calls from a user
// outside the group, and herdctlctl says so with exit 4.
func TestBusRefusesOtherUsers(t *testing.T) {
	uid, nogroup := nobody(t)
	r := newBusRig(t, false, "")
	ctl := testbed.Build(t, r.bus.Dir, "herdctlctl")
	if code, out := r.ctl(ctl, uid, "status"); code != 0 || !strings.Contains(out, "alpha") {
		t.Errorf("status as nobody: exit %d\n%s", code, out)
	}
	code, out := r.ctl(ctl, uid, "jobs", "--json")
	var js []api.Job
	if code != 0 || json.Unmarshal([]byte(out), &js) != nil {
		t.Errorf("jobs --json as nobody: exit %d\n%s", code, out)
	}
	// An agent's prompts are withheld from others, as a job's are.
	code, out = r.ctl(ctl, uid, "show", "--json", "alpha")
	if code != 0 || strings.Contains(out, `"hello"`) || !strings.Contains(out, "withheld") {
		t.Errorf("show alpha as nobody: exit %d\n%s", code, out)
	}
	if code, out := r.ctl(ctl, 0, "show", "--json", "alpha"); code != 0 || !strings.Contains(out, `"hello"`) {
		t.Errorf("show alpha as root: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"trigger", "alpha"}, {"cancel", "20260101-000000-aaaaaa"}, {"reload"}} {
		code, out := r.ctl(ctl, uid, args...)
		if code != 4 || !strings.Contains(out, "group herdctl") {
			t.Errorf("%v as nobody: exit %d, want 4\n%s", args, code, out)
		}
	}
	// A member of the group may, except read files as root through
	// Validate.
	g := newBusRig(t, false, nogroup)
	if code, out := g.ctl(ctl, uid, "trigger", "alpha"); code != 0 {
		t.Errorf("trigger by a member of the group: exit %d\n%s", code, out)
	}
	send := exec.Command("dbus-send", "--bus="+g.bus.Address, "--print-reply", "--dest="+api.BusName,
		api.ObjectPath, api.Interface+".Validate", "string:/etc/shadow")
	send.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
	if out, err := send.CombinedOutput(); err == nil || !strings.Contains(string(out), "only root") {
		t.Errorf("Validate of /etc/shadow by a member of the group: %v\n%s", err, out)
	}
}

// TestBusPolicyFile runs the packaged policy file on a bus with the
// system bus's defaults.
func TestBusPolicyFile(t *testing.T) {
	uid, _ := nobody(t)
	r := newBusRig(t, true, "", "../../packaging/dbus/dev.herdctl.Manager1.conf")
	ctl := testbed.Build(t, r.bus.Dir, "herdctlctl")
	for _, args := range [][]string{{"status"}, {"agents", "--json"}, {"agent", "alpha"}, {"jobs"}} {
		if code, out := r.ctl(ctl, uid, args...); code != 0 {
			t.Errorf("%v as nobody: exit %d\n%s", args, code, out)
		}
	}
	for _, args := range [][]string{{"trigger", "alpha"}, {"reload"}} {
		if code, out := r.ctl(ctl, uid, args...); code != 4 {
			t.Errorf("%v as nobody: exit %d, want 4\n%s", args, code, out)
		}
	}
	if code, out := r.ctl(ctl, 0, "trigger", "alpha"); code != 0 {
		t.Errorf("trigger as root: exit %d\n%s", code, out)
	}
	// Nobody but root may own the name.
	send := exec.Command("dbus-send", "--bus="+r.bus.Address, "--print-reply", "--dest=org.freedesktop.DBus",
		"/org/freedesktop/DBus", "org.freedesktop.DBus.RequestName", "string:"+api.BusName, "uint32:4")
	send.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
	if out, err := send.CombinedOutput(); err == nil || !strings.Contains(string(out), "AccessDenied") {
		t.Errorf("nobody asked for the bus name: %v\n%s", err, out)
	}
}

// TestCtlDaemonUnreachable: no daemon on the bus is exit 3 with what to do.
func TestCtlDaemonUnreachable(t *testing.T) {
	bus := testbed.StartBus(t, false)
	ctl := testbed.Build(t, bus.Dir, "herdctlctl")
	for _, addr := range []string{bus.Address, "unix:path=" + bus.Dir + "/nothing"} {
		cmd := exec.Command(ctl, "status")
		cmd.Env = []string{"DBUS_SYSTEM_BUS_ADDRESS=" + addr}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(string(out), "systemctl status herdctl") {
			t.Errorf("status with %s: %v\n%s", addr, err, out)
		}
	}
}

// TestBusRedactsPrompts: a job's prompt is shown to root, to members of
// group herdctl and to the agent's own user; anyone else sees that it was
// withheld, not what it says.
func TestBusRedactsPrompts(t *testing.T) {
	uid, nogroup := nobody(t)
	r := newBusRig(t, false, "")
	ctx := context.Background()
	j, err := r.d.Trigger(ctx, "alpha", "", "the secret plan", api.TriggerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctl := testbed.Build(t, r.bus.Dir, "herdctlctl")
	get := func(rig *busRig, uid uint32) api.Job {
		code, out := rig.ctl(ctl, uid, "job", "--json", j.ID)
		var got api.Job
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
			t.Fatalf("job --json as %d: exit %d\n%s", uid, code, out)
		}
		return got
	}
	if got := get(r, uid); got.Prompt != "" || !got.Redacted {
		t.Errorf("another user sees the prompt: %+v", got)
	}
	if got := get(r, 1000); got.Prompt != "the secret plan" { // alpha runs as 1000:1000
		t.Errorf("the agent's own user does not: %+v", got)
	}
	if got, _ := r.client.Job(ctx, j.ID); got.Prompt != "the secret plan" || got.Redacted {
		t.Errorf("root does not: %+v", got)
	}
	js, _ := r.client.Jobs(ctx, api.JobFilter{})
	if len(js) == 0 || js[0].Prompt != "the secret plan" {
		t.Errorf("root's listing: %+v", js)
	}
	g := newBusRig(t, false, nogroup)
	gj, err := g.d.Trigger(ctx, "alpha", "", "the group's plan", api.TriggerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, out := g.ctl(ctl, uid, "job", "--json", gj.ID)
	if code != 0 || !strings.Contains(out, "the group's plan") {
		t.Errorf("a member of the group: exit %d\n%s", code, out)
	}
}

// TestListJobsFitsTheBus: thousands of jobs with long results (an agent
// on a one-minute schedule makes them in a day or two) are listed in one
// reply the bus passes, instead of a reply over its limit, which makes
// the bus drop the daemon for every client. Prompts and results past the
// first few MiB are left out, and marked.
func TestListJobsFitsTheBus(t *testing.T) {
	r := newBusRig(t, false, "")
	recs := state.Records{Layout: r.d.Layout}
	result := strings.Repeat("r", 16<<10)
	start := time.Now().Add(-time.Hour)
	const n = 2100
	for i := range n {
		id := fmt.Sprintf("20260101-%06d-aaaaaa", i)
		recs.Write(&api.Job{ID: id, Agent: "alpha", Status: state.StatusCompleted, Started: start.Add(time.Duration(i) * time.Second), Prompt: "p", Result: result})
		r.d.jobChanged(id)
	}
	js, err := r.client.Jobs(context.Background(), api.JobFilter{})
	if err != nil {
		t.Fatalf("ListJobs of %d jobs: %v", n, err)
	}
	clipped := 0
	for _, j := range js {
		if j.Clipped {
			clipped++
			if j.Result != "" || j.Prompt != "" {
				t.Fatalf("job %s is clipped and keeps its text", j.ID)
			}
		}
	}
	if len(js) != n || clipped == 0 || clipped == n {
		t.Errorf("%d jobs listed, %d clipped", len(js), clipped)
	}
	if _, err := r.client.Status(context.Background()); err != nil {
		t.Errorf("the daemon is gone from the bus: %v", err)
	}
}

package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/user"
	"slices"
	"strconv"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"github.com/godbus/dbus/v5/prop"
	"go.uber.org/zap"

	"github.com/herdctl/herdctl/internal/version"
	"github.com/herdctl/herdctl/service/api"
)

// DefaultGroup is the group whose members may change the fleet over
// D-Bus (trigger, cancel, reload), besides root: package api owns it.
const DefaultGroup = api.AdminGroup

// callTimeout bounds each D-Bus method's work; reloadTimeout a reload's
// (thousands of agents take seconds).
const (
	callTimeout   = 30 * time.Second
	reloadTimeout = 10 * time.Minute
)

// Bus serves a Daemon on a D-Bus connection as dev.herdctl.Manager1 and
// sends its signals.
type Bus struct {
	d     *Daemon
	conn  *dbus.Conn
	props *prop.Properties
	group string
}

// ServeBus exports d on conn and takes the bus name. Mutating methods are
// allowed to root and members of group (DefaultGroup if ""), checked by
// the caller's uid as the bus daemon reports it, whatever the bus policy
// says.
func ServeBus(conn *dbus.Conn, d *Daemon, group string) (*Bus, error) {
	if group == "" {
		group = DefaultGroup
	}
	b := &Bus{d: d, conn: conn, group: group}
	m := &manager{b: b}
	if err := conn.Export(m, api.ObjectPath, api.Interface); err != nil {
		return nil, err
	}
	props, err := prop.Export(conn, api.ObjectPath, prop.Map{api.Interface: {
		"Version":     {Value: version.Version, Emit: prop.EmitConst},
		"FleetName":   {Value: "", Emit: prop.EmitTrue},
		"AgentCount":  {Value: uint32(0), Emit: prop.EmitTrue},
		"RunningJobs": {Value: uint32(0), Emit: prop.EmitTrue},
		"ReloadError": {Value: "", Emit: prop.EmitTrue},
		// The chat bridge's connectors, as it reports them (chat.go).
		api.PropChatConnectors: {Value: []api.Dict{}, Emit: prop.EmitTrue},
	}})
	if err != nil {
		return nil, err
	}
	b.props = props
	node := &introspect.Node{
		Name: api.ObjectPath,
		Interfaces: []introspect.Interface{introspect.IntrospectData, prop.IntrospectData,
			managerIntrospection(props.Introspection(api.Interface))},
	}
	if err := conn.Export(introspect.NewIntrospectable(node), api.ObjectPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		return nil, err
	}
	// Parents, so busctl tree finds the object.
	for path, child := range map[string]string{"/": "dev", "/dev": "herdctl", "/dev/herdctl": "Manager1"} {
		n := &introspect.Node{Interfaces: []introspect.Interface{introspect.IntrospectData}, Children: []introspect.Node{{Name: child}}}
		conn.Export(introspect.NewIntrospectable(n), dbus.ObjectPath(path), "org.freedesktop.DBus.Introspectable")
	}
	d.Signals = b
	b.refresh()
	reply, err := conn.RequestName(api.BusName, dbus.NameFlagDoNotQueue)
	if err != nil {
		return nil, fmt.Errorf("taking the bus name %s: %w (is the D-Bus policy file installed? see /usr/share/dbus-1/system.d/%s.conf)", api.BusName, err, api.BusName)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return nil, fmt.Errorf("the bus name %s is taken: is another herdctl daemon running? (systemctl status herdctl)", api.BusName)
	}
	return b, nil
}

// refresh updates the properties from the daemon's state.
func (b *Bus) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	st, err := b.d.Status(ctx)
	if err != nil {
		return
	}
	set := func(name string, v any) {
		if cur, err := b.props.Get(api.Interface, name); err == nil && cur.Value() == v {
			return
		}
		b.props.SetMust(api.Interface, name, v)
	}
	set("FleetName", st.FleetName)
	set("AgentCount", uint32(st.Agents))
	set("RunningJobs", uint32(st.RunningJobs))
	set("ReloadError", st.ReloadError)
}

func (b *Bus) emit(name string, values ...any) {
	if err := b.conn.Emit(api.ObjectPath, api.Interface+"."+name, values...); err != nil {
		b.d.Log.Warn("cannot send D-Bus signal", zap.String("signal", name), zap.Error(err))
	}
}

// JobStarted implements Signals.
func (b *Bus) JobStarted(j *api.Job) {
	b.emit("JobStarted", j.ID, j.Agent, j.Schedule, j.Unit)
	b.refresh()
}

// JobFinished implements Signals.
func (b *Bus) JobFinished(j *api.Job) {
	b.emit("JobFinished", j.ID, j.Agent, j.Status, j.ExitReason)
	b.refresh()
}

// Reloaded implements Signals.
func (b *Bus) Reloaded(ok bool, msg string) {
	b.emit("Reloaded", ok, msg)
	b.refresh()
}

// authorize lets root and members of the herdctl group through.
func (b *Bus) authorize(sender dbus.Sender, what string) *dbus.Error {
	uid, derr := b.caller(sender)
	if derr != nil {
		return derr
	}
	if uid == 0 || b.inGroup(uid) {
		return nil
	}
	b.d.Log.Warn("refused a caller", zap.Uint32("uid", uid), zap.String("method", what))
	return dbusError(api.ErrAccessDenied, "uid %d may not %s: run it as root (sudo), or add the user to group %s (usermod -aG %s USER, then log in again and systemctl reload dbus)",
		uid, what, b.group, b.group)
}

// caller is the uid of the sender, as the bus daemon knows it.
func (b *Bus) caller(sender dbus.Sender) (uint32, *dbus.Error) {
	var uid uint32
	err := b.conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixUser", 0, string(sender)).Store(&uid)
	if err != nil {
		return 0, dbusError(api.ErrAccessDenied, "cannot tell who is calling: %v", err)
	}
	return uid, nil
}

func (b *Bus) inGroup(uid uint32) bool {
	g, err := user.LookupGroup(b.group)
	if err != nil {
		return false
	}
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return false
	}
	ids, err := u.GroupIds()
	return err == nil && slices.Contains(ids, g.Gid)
}

func dbusError(name, format string, args ...any) *dbus.Error {
	return dbus.NewError(name, []any{fmt.Sprintf(format, args...)})
}

// errorNames gives each kind of daemon error its D-Bus error name.
var errorNames = []struct {
	kind error
	name string
}{
	{ErrNotFound, api.ErrNotFound},
	{ErrInvalidArgs, api.ErrInvalidArgs},
	{ErrBusy, api.ErrBusy},
	{ErrInvalidConfig, api.ErrInvalidConfig},
	{ErrDisabled, api.ErrDisabled},
}

// toDBus turns a daemon error into a D-Bus error with its name.
func toDBus(err error) *dbus.Error {
	if err == nil {
		return nil
	}
	for _, n := range errorNames {
		if errors.Is(err, n.kind) {
			return dbusError(n.name, "%v", err)
		}
	}
	return dbusError(api.ErrFailed, "%v", err)
}

// manager holds the exported methods; the method set is the interface.
type manager struct{ b *Bus }

func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), callTimeout)
}

func (m *manager) GetStatus() (api.Dict, *dbus.Error) {
	c, cancel := ctx()
	defer cancel()
	st, err := m.b.d.Status(c)
	if err != nil {
		return nil, toDBus(err)
	}
	return api.Encode(st), nil
}

func (m *manager) ListAgents() ([]api.Dict, *dbus.Error) {
	c, cancel := ctx()
	defer cancel()
	as, err := m.b.d.ListAgents(c)
	if err != nil {
		return nil, toDBus(err)
	}
	out := make([]api.Dict, len(as))
	for i, a := range as {
		out[i] = api.Encode(a)
	}
	return out, nil
}

func (m *manager) GetAgent(name string) (api.Dict, *dbus.Error) {
	c, cancel := ctx()
	defer cancel()
	a, err := m.b.d.GetAgent(c, name)
	if err != nil {
		return nil, toDBus(err)
	}
	return api.Encode(a), nil
}

// mayReadFor says, for the caller, whether it may read an agent's text
// (its prompts, its jobs' prompts and results): root, group herdctl and
// the agent's own user may.
func (b *Bus) mayReadFor(sender dbus.Sender) func(agent string) bool {
	uid, derr := b.caller(sender)
	privileged := derr == nil && (uid == 0 || b.inGroup(uid))
	return func(agent string) bool {
		if privileged {
			return true
		}
		owner, ok := b.d.AgentUID(agent)
		return ok && derr == nil && owner == uid
	}
}

// redactFor hides a job's prompt and result from a caller who may not
// read them.
func (b *Bus) redactFor(sender dbus.Sender) func(j *api.Job) {
	mayRead := b.mayReadFor(sender)
	return func(j *api.Job) {
		if !mayRead(j.Agent) && (j.Prompt != "" || j.Result != "") {
			j.Prompt, j.Result, j.Redacted = "", "", true
		}
	}
}

func (m *manager) ListJobs(sender dbus.Sender, filter api.Dict) ([]api.Dict, *dbus.Error) {
	var f api.JobFilter
	if err := api.Decode(filter, &f); err != nil {
		return nil, dbusError(api.ErrInvalidArgs, "bad filter: %v", err)
	}
	c, cancel := ctx()
	defer cancel()
	js, err := m.b.d.ListJobs(c, f)
	if err != nil {
		return nil, toDBus(err)
	}
	redact := m.b.redactFor(sender)
	out := make([]api.Dict, 0, len(js))
	size := 0
	for _, j := range js {
		redact(j)
		if size > listTextBytes && (j.Prompt != "" || j.Result != "") {
			j.Prompt, j.Result, j.Clipped = "", "", true
		}
		n := jobSize(j)
		if size+n > listReplyBytes {
			m.b.d.Log.Warn("ListJobs reply cut at the size one D-Bus message holds", zap.Int("jobs", len(out)), zap.Int("asked", len(js)))
			break
		}
		size += n
		out = append(out, api.Encode(j))
	}
	return out, nil
}

// A reply over the bus's message limit (dbus-daemon's default is 32 MiB)
// makes the bus drop the daemon's connection, for every client. ListJobs
// leaves out prompts and results once listTextBytes of the reply are
// spent (GetJob has them), and stops at listReplyBytes: page with limit
// and offset.
const (
	listTextBytes  = 4 << 20
	listReplyBytes = 16 << 20
)

// jobSize is about what a job takes in a reply.
func jobSize(j *api.Job) int {
	b, _ := json.Marshal(j)
	return len(b) + 256
}

func (m *manager) ListSessions(agent string) ([]api.Dict, *dbus.Error) {
	ss, err := m.b.d.Sessions(agent)
	if err != nil {
		return nil, toDBus(err)
	}
	out := make([]api.Dict, len(ss))
	for i, s := range ss {
		out[i] = api.Encode(s)
	}
	return out, nil
}

func (m *manager) GetCost(filter api.Dict) ([]api.Dict, *dbus.Error) {
	var f api.CostFilter
	if err := api.Decode(filter, &f); err != nil {
		return nil, dbusError(api.ErrInvalidArgs, "bad filter: %v", err)
	}
	rows := m.b.d.Cost(f)
	out := make([]api.Dict, len(rows))
	for i := range rows {
		out[i] = api.Encode(&rows[i])
	}
	return out, nil
}

func (m *manager) GetJob(sender dbus.Sender, id string) (api.Dict, *dbus.Error) {
	c, cancel := ctx()
	defer cancel()
	j, err := m.b.d.GetJob(c, id)
	if err != nil {
		return nil, toDBus(err)
	}
	m.b.redactFor(sender)(j)
	return api.Encode(j), nil
}

// ReadJournal serves a job's or an agent's journal entries to root and
// group herdctl, who may not have the rights to the whole journal.
func (m *manager) ReadJournal(sender dbus.Sender, query api.Dict) (api.Dict, *dbus.Error) {
	if err := m.b.authorize(sender, "read the fleet's journal"); err != nil {
		return nil, err
	}
	var q api.JournalQuery
	if err := api.Decode(query, &q); err != nil {
		return nil, dbusError(api.ErrInvalidArgs, "bad query: %v", err)
	}
	c, cancel := ctx()
	defer cancel()
	p, err := m.b.d.ReadJournal(c, q)
	if err != nil {
		return nil, toDBus(err)
	}
	return api.Encode(p), nil
}

func (m *manager) Trigger(sender dbus.Sender, agent, schedule, prompt string, options api.Dict) (string, *dbus.Error) {
	if err := m.b.authorize(sender, "trigger jobs"); err != nil {
		return "", err
	}
	var o api.TriggerOptions
	if err := api.Decode(options, &o); err != nil {
		return "", dbusError(api.ErrInvalidArgs, "bad options: %v", err)
	}
	c, cancel := ctx()
	defer cancel()
	j, err := m.b.d.Trigger(c, agent, schedule, prompt, o)
	if err != nil {
		return "", toDBus(err)
	}
	return j.ID, nil
}

// Prune removes what is older than the retention, for root and group
// herdctl (Daemon.Prune).
func (m *manager) Prune(sender dbus.Sender, options api.Dict) (api.Dict, *dbus.Error) {
	if err := m.b.authorize(sender, "prune job records"); err != nil {
		return nil, err
	}
	var o api.PruneOptions
	if err := api.Decode(options, &o); err != nil {
		return nil, dbusError(api.ErrInvalidArgs, "bad options: %v", err)
	}
	c, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	r, err := m.b.d.Prune(c, o)
	if err != nil {
		return nil, toDBus(err)
	}
	return api.Encode(r), nil
}

// ShowAgent withholds the agent's prompts (system_prompt, default_prompt,
// a schedule's prompt) from a caller who may not read them, as ListJobs
// does a job's: they are for root, group herdctl and the agent's user.
func (m *manager) ShowAgent(sender dbus.Sender, name string) ([]api.Dict, *dbus.Error) {
	vs, err := m.b.d.ShowAgent(name)
	if err != nil {
		return nil, toDBus(err)
	}
	mayRead := m.b.mayReadFor(sender)(name)
	out := make([]api.Dict, len(vs))
	for i := range vs {
		if !mayRead && api.PromptField(vs[i].Field) && vs[i].Value != "" {
			vs[i].Value = api.Withheld
		}
		out[i] = api.Encode(&vs[i])
	}
	return out, nil
}

func (m *manager) Disable(sender dbus.Sender, agent string) *dbus.Error {
	if err := m.b.authorize(sender, "disable agents"); err != nil {
		return err
	}
	c, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	return toDBus(m.b.d.SetEnabled(c, agent, false))
}

func (m *manager) Enable(sender dbus.Sender, agent string) *dbus.Error {
	if err := m.b.authorize(sender, "enable agents"); err != nil {
		return err
	}
	c, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	return toDBus(m.b.d.SetEnabled(c, agent, true))
}

func (m *manager) Cancel(sender dbus.Sender, id string) *dbus.Error {
	if err := m.b.authorize(sender, "cancel jobs"); err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	return toDBus(m.b.d.Cancel(c, id))
}

func (m *manager) Reload(sender dbus.Sender) *dbus.Error {
	if err := m.b.authorize(sender, "reload the fleet"); err != nil {
		return err
	}
	c, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	if err := m.b.d.Reload(c); err != nil {
		return dbusError(api.ErrInvalidConfig, "%v", err)
	}
	return nil
}

// Validate reads a file as root, and its errors quote what they found:
// only root may call it, or anyone else could read root-only files
// through it. Others validate with their own rights, without the daemon
// (herdctlctl validate).
func (m *manager) Validate(sender dbus.Sender, path string) ([]api.Dict, *dbus.Error) {
	uid, derr := m.b.caller(sender)
	if derr != nil {
		return nil, derr
	}
	if uid != 0 {
		return nil, dbusError(api.ErrAccessDenied, "only root may validate through the daemon (it reads files as root): run herdctlctl validate FILE, which checks with your own rights")
	}
	errs := m.b.d.Validate(path)
	out := make([]api.Dict, len(errs))
	for i := range errs {
		out[i] = api.Encode(errs[i])
	}
	return out, nil
}

func managerIntrospection(props []introspect.Property) introspect.Interface {
	in := func(name, typ string) introspect.Arg { return introspect.Arg{Name: name, Type: typ, Direction: "in"} }
	out := func(name, typ string) introspect.Arg { return introspect.Arg{Name: name, Type: typ, Direction: "out"} }
	sig := func(name, typ string) introspect.Arg { return introspect.Arg{Name: name, Type: typ} }
	return introspect.Interface{
		Name: api.Interface,
		Methods: []introspect.Method{
			{Name: "GetStatus", Args: []introspect.Arg{out("status", "a{sv}")}},
			{Name: "ListAgents", Args: []introspect.Arg{out("agents", "aa{sv}")}},
			{Name: "GetAgent", Args: []introspect.Arg{in("name", "s"), out("agent", "a{sv}")}},
			{Name: "ListJobs", Args: []introspect.Arg{in("filter", "a{sv}"), out("jobs", "aa{sv}")}},
			{Name: "GetJob", Args: []introspect.Arg{in("id", "s"), out("job", "a{sv}")}},
			{Name: "ListSessions", Args: []introspect.Arg{in("agent", "s"), out("sessions", "aa{sv}")}},
			{Name: "GetCost", Args: []introspect.Arg{in("filter", "a{sv}"), out("days", "aa{sv}")}},
			{Name: "Trigger", Args: []introspect.Arg{in("agent", "s"), in("schedule", "s"), in("prompt", "s"), in("options", "a{sv}"), out("job_id", "s")}},
			{Name: api.MethodReadJournal, Args: []introspect.Arg{in("query", "a{sv}"), out("page", "a{sv}")}},
			{Name: "Cancel", Args: []introspect.Arg{in("id", "s")}},
			{Name: "ShowAgent", Args: []introspect.Arg{in("name", "s"), out("config", "aa{sv}")}},
			{Name: "Disable", Args: []introspect.Arg{in("agent", "s")}},
			{Name: "Enable", Args: []introspect.Arg{in("agent", "s")}},
			{Name: "Reload"},
			{Name: api.MethodPrune, Args: []introspect.Arg{in("options", "a{sv}"), out("pruned", "a{sv}")}},
			{Name: api.MethodReportChat, Args: []introspect.Arg{in("connectors", "aa{sv}"), out("snapshot", "s")}},
			{Name: "Validate", Args: []introspect.Arg{in("path", "s"), out("errors", "aa{sv}")}},
		},
		Signals: []introspect.Signal{
			{Name: "JobStarted", Args: []introspect.Arg{sig("id", "s"), sig("agent", "s"), sig("schedule", "s"), sig("unit", "s")}},
			{Name: "JobFinished", Args: []introspect.Arg{sig("id", "s"), sig("agent", "s"), sig("status", "s"), sig("exit_reason", "s")}},
			{Name: "Reloaded", Args: []introspect.Arg{sig("ok", "b"), sig("error", "s")}},
		},
		Properties: props,
	}
}

package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// ErrUnreachable wraps every error that means the daemon could not be
// asked at all (no bus, no daemon on it).
var ErrUnreachable = errors.New("herdctl is not reachable on D-Bus: is herdctl.service running? (systemctl status herdctl)")

// Client calls the daemon.
type Client struct {
	conn *dbus.Conn
	obj  dbus.BusObject
}

// Dial connects to the bus at address, or to the system bus if "".
func Dial(address string) (*Client, error) {
	var (
		conn *dbus.Conn
		err  error
	)
	if address == "" {
		conn, err = dbus.ConnectSystemBus()
	} else {
		conn, err = dbus.Connect(address)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	return &Client{conn: conn, obj: conn.Object(BusName, ObjectPath)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Conn is the underlying connection (for signals).
func (c *Client) Conn() *dbus.Conn { return c.conn }

func (c *Client) call(ctx context.Context, method string, out any, args ...any) error {
	call := c.obj.CallWithContext(ctx, Interface+"."+method, 0, args...)
	if call.Err != nil {
		return callError(call.Err)
	}
	if out == nil {
		return nil
	}
	return call.Store(out)
}

// callError marks the errors that mean nobody answered.
func callError(err error) error {
	var de dbus.Error
	if errors.As(err, &de) {
		switch de.Name {
		case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner",
			"org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Disconnected":
			return fmt.Errorf("%w (%s)", ErrUnreachable, de.Name)
		}
	}
	return err
}

// ErrorName is the D-Bus error name of err, or "".
func ErrorName(err error) string {
	var de dbus.Error
	if errors.As(err, &de) {
		return de.Name
	}
	var dp *dbus.Error
	if errors.As(err, &dp) {
		return dp.Name
	}
	return ""
}

// ErrorMessage is the message a daemon error carries.
func ErrorMessage(err error) string {
	var de dbus.Error
	if errors.As(err, &de) && len(de.Body) > 0 {
		if s, ok := de.Body[0].(string); ok {
			return s
		}
	}
	return err.Error()
}

func (c *Client) get(ctx context.Context, method string, v any, args ...any) error {
	var d Dict
	if err := c.call(ctx, method, &d, args...); err != nil {
		return err
	}
	return Decode(d, v)
}

func list[T any](ctx context.Context, c *Client, method string, args ...any) ([]T, error) {
	var ds []Dict
	if err := c.call(ctx, method, &ds, args...); err != nil {
		return nil, err
	}
	out := make([]T, len(ds))
	for i, d := range ds {
		if err := Decode(d, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Status calls GetStatus.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	return &s, c.get(ctx, "GetStatus", &s)
}

// Agents calls ListAgents.
func (c *Client) Agents(ctx context.Context) ([]Agent, error) {
	return list[Agent](ctx, c, "ListAgents")
}

// Agent calls GetAgent.
func (c *Client) Agent(ctx context.Context, name string) (*Agent, error) {
	var a Agent
	return &a, c.get(ctx, "GetAgent", &a, name)
}

// Jobs calls ListJobs.
func (c *Client) Jobs(ctx context.Context, f JobFilter) ([]Job, error) {
	return list[Job](ctx, c, "ListJobs", Encode(f))
}

// Job calls GetJob.
func (c *Client) Job(ctx context.Context, id string) (*Job, error) {
	var j Job
	return &j, c.get(ctx, "GetJob", &j, id)
}

// Sessions calls ListSessions: agent's sessions, newest first.
func (c *Client) Sessions(ctx context.Context, agent string) ([]Session, error) {
	return list[Session](ctx, c, "ListSessions", agent)
}

// Cost calls GetCost: cost per agent per day, oldest first.
func (c *Client) Cost(ctx context.Context, f CostFilter) ([]CostDay, error) {
	return list[CostDay](ctx, c, "GetCost", Encode(f))
}

// Trigger calls Trigger and returns the new job's id.
func (c *Client) Trigger(ctx context.Context, agent, schedule, prompt string, o TriggerOptions) (string, error) {
	var id string
	return id, c.call(ctx, "Trigger", &id, agent, schedule, prompt, Encode(o))
}

// Cancel calls Cancel.
func (c *Client) Cancel(ctx context.Context, id string) error { return c.call(ctx, "Cancel", nil, id) }

// ShowAgent calls ShowAgent.
func (c *Client) ShowAgent(ctx context.Context, name string) ([]ConfigValue, error) {
	return list[ConfigValue](ctx, c, "ShowAgent", name)
}

// SetEnabled calls Enable or Disable.
func (c *Client) SetEnabled(ctx context.Context, agent string, enabled bool) error {
	if enabled {
		return c.call(ctx, "Enable", nil, agent)
	}
	return c.call(ctx, "Disable", nil, agent)
}

// Reload calls Reload.
func (c *Client) Reload(ctx context.Context) error { return c.call(ctx, "Reload", nil) }

// Validate calls Validate.
func (c *Client) Validate(ctx context.Context, path string) ([]ConfigError, error) {
	return list[ConfigError](ctx, c, "Validate", path)
}

// JobFinished returns a channel that receives when the daemon announces
// the end of job id (the JobFinished signal), and a function to stop.
func (c *Client) JobFinished(id string) (<-chan struct{}, func()) {
	opts := []dbus.MatchOption{dbus.WithMatchInterface(Interface), dbus.WithMatchMember("JobFinished"),
		dbus.WithMatchObjectPath(ObjectPath), dbus.WithMatchArg(0, id)}
	out := make(chan struct{}, 1)
	if err := c.conn.AddMatchSignal(opts...); err != nil {
		return out, func() {}
	}
	ch := make(chan *dbus.Signal, 4)
	c.conn.Signal(ch)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-ch:
				if s != nil && s.Name == Interface+".JobFinished" && len(s.Body) > 0 && s.Body[0] == id {
					select {
					case out <- struct{}{}:
					default:
					}
				}
			case <-done:
				return
			}
		}
	}()
	return out, func() {
		close(done)
		c.conn.RemoveSignal(ch)
		c.conn.RemoveMatchSignal(opts...)
	}
}

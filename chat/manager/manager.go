// Package manager is herdctl's D-Bus API (dev.herdctl.Manager1) as the
// chat bridge uses it: it implements bridge.Daemon with package api's
// client, passing a conversation's session in the trigger options, and
// turns the daemon's signals (JobFinished, Reloaded, a new owner of the
// bus name) into the bridge's events. The bridge's user is in group
// herdctl: it may trigger and cancel like any member.
package manager

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/herdctl/herdctl/chat/bridge"
	"github.com/herdctl/herdctl/service/api"
)

// callTimeout bounds each call; the daemon answers within its own 30 s.
const callTimeout = 40 * time.Second

// Client is the daemon, over D-Bus.
type Client struct {
	c      *api.Client
	events chan bridge.Event
	// owner is the daemon's unique name on the bus, "" while it has
	// none: every local user may send signals, broadcast or to the
	// bridge's connection, so only the owner's are the daemon's.
	mu    sync.Mutex
	owner string
}

// busDaemon is the bus itself, the sender of NameOwnerChanged.
const busDaemon = "org.freedesktop.DBus"

// Dial connects to the bus at address, or the system bus if "", and
// subscribes to the daemon's signals.
func Dial(address string) (*Client, error) {
	c, err := api.Dial(address)
	if err != nil {
		return nil, err
	}
	m := &Client{c: c, events: make(chan bridge.Event, 64)}
	conn := c.Conn()
	matches := [][]dbus.MatchOption{
		{dbus.WithMatchSender(api.BusName), dbus.WithMatchInterface(api.Interface), dbus.WithMatchObjectPath(api.ObjectPath), dbus.WithMatchMember("JobFinished")},
		{dbus.WithMatchSender(api.BusName), dbus.WithMatchInterface(api.Interface), dbus.WithMatchObjectPath(api.ObjectPath), dbus.WithMatchMember("Reloaded")},
		{dbus.WithMatchSender(busDaemon), dbus.WithMatchInterface(busDaemon),
			dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, api.BusName)},
	}
	for _, opts := range matches {
		if err := conn.AddMatchSignal(opts...); err != nil {
			c.Close()
			return nil, fmt.Errorf("subscribing to the daemon's signals: %w", err)
		}
	}
	signals := make(chan *dbus.Signal, 64)
	conn.Signal(signals)
	// After the subscription: a new owner from here on comes as
	// NameOwnerChanged.
	var owner string
	if err := conn.BusObject().Call(busDaemon+".GetNameOwner", 0, api.BusName).Store(&owner); err == nil {
		m.setOwner(owner)
	}
	go m.translate(signals)
	return m, nil
}

// Close closes the connection; Events then ends.
func (m *Client) Close() error { return m.c.Close() }

func (m *Client) setOwner(o string) {
	m.mu.Lock()
	m.owner = o
	m.mu.Unlock()
}

// fromDaemon says s was sent by the daemon's connection.
func (m *Client) fromDaemon(s *dbus.Signal) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.owner != "" && s.Sender == m.owner
}

// translate turns signals into events until the connection closes.
// Anyone's signal but the daemon's (and the bus's word on the owner of
// its name) is dropped at once, so that a flood of them never holds up
// the bus library, which makes a goroutine for each signal it cannot
// hand over.
func (m *Client) translate(signals <-chan *dbus.Signal) {
	defer close(m.events)
	for s := range signals {
		var ev bridge.Event
		switch s.Name {
		case "org.freedesktop.DBus.NameOwnerChanged":
		default:
			if !m.fromDaemon(s) {
				continue
			}
		}
		switch s.Name {
		case api.Interface + ".JobFinished":
			if len(s.Body) == 0 {
				continue
			}
			id, _ := s.Body[0].(string)
			ev = bridge.Event{Kind: bridge.JobFinished, Job: id}
		case api.Interface + ".Reloaded":
			ev = bridge.Event{Kind: bridge.Reloaded}
		case "org.freedesktop.DBus.NameOwnerChanged":
			if s.Sender != busDaemon || len(s.Body) < 3 {
				continue
			}
			if name, _ := s.Body[0].(string); name != api.BusName {
				continue
			}
			owner, _ := s.Body[2].(string)
			m.setOwner(owner)
			if owner == "" {
				continue // gone; the next owner is what matters
			}
			ev = bridge.Event{Kind: bridge.Restarted}
		default:
			continue
		}
		m.events <- ev
	}
}

// Events implements bridge.Daemon; it is closed when the bus is lost.
func (m *Client) Events() <-chan bridge.Event { return m.events }

// mapErr turns the daemon's named errors into the bridge's.
func mapErr(err error) error {
	switch api.ErrorName(err) {
	case api.ErrBusy:
		return fmt.Errorf("%w: %s", bridge.ErrBusy, api.ErrorMessage(err))
	case api.ErrNotFound:
		return fmt.Errorf("%w: %s", bridge.ErrNotFound, api.ErrorMessage(err))
	case api.ErrAccessDenied:
		return fmt.Errorf("%w (%s)", bridge.ErrDenied, api.ErrorMessage(err))
	case api.ErrInvalidArgs, api.ErrInvalidConfig:
		return fmt.Errorf("%w: %s", bridge.ErrRefused, api.ErrorMessage(err))
	case "":
		return err
	}
	return errors.New(api.ErrorMessage(err))
}

// Trigger implements bridge.Daemon: a manual job without schedule.
func (m *Client) Trigger(ctx context.Context, agent, prompt string, o bridge.TriggerOptions) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	opts := api.Encode(api.TriggerOptions{Queue: o.Queue, Resume: o.Resume, Inbox: o.Inbox})
	var id string
	call := m.c.Conn().Object(api.BusName, api.ObjectPath).CallWithContext(ctx, api.Interface+".Trigger", 0, agent, "", prompt, opts)
	if call.Err != nil {
		return "", mapErr(call.Err)
	}
	return id, call.Store(&id)
}

// Job implements bridge.Daemon.
func (m *Client) Job(ctx context.Context, id string) (*api.Job, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	j, err := m.c.Job(ctx, id)
	return j, mapErr(err)
}

// Cancel implements bridge.Daemon.
func (m *Client) Cancel(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return mapErr(m.c.Cancel(ctx, id))
}

// Agent implements bridge.Daemon.
func (m *Client) Agent(ctx context.Context, name string) (*api.Agent, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	a, err := m.c.Agent(ctx, name)
	return a, mapErr(err)
}

// Report implements bridge.Daemon.
func (m *Client) Report(ctx context.Context, cs []api.ChatConnector) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	fp, err := m.c.ReportChat(ctx, cs)
	return fp, mapErr(err)
}

// Sessions implements bridge.Daemon.
func (m *Client) Sessions(ctx context.Context, agent string) ([]api.Session, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	ss, err := m.c.Sessions(ctx, agent)
	return ss, mapErr(err)
}

// Cost implements bridge.Daemon.
func (m *Client) Cost(ctx context.Context, f api.CostFilter) ([]api.CostDay, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	ds, err := m.c.Cost(ctx, f)
	return ds, mapErr(err)
}

// Journal implements bridge.Daemon.
func (m *Client) Journal(ctx context.Context, q api.JournalQuery) (*api.JournalPage, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	p, err := m.c.ReadJournal(ctx, q)
	return p, mapErr(err)
}

package manager

import (
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/herdctl/herdctl/chat/bridge"
	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/service/api"
)

// TestSignalsOnlyFromTheDaemon (the red team's chat C4): the system bus
// lets every local user send signals, broadcast or to the bridge's own
// connection, and the bridge took any JobFinished, Reloaded or
// NameOwnerChanged of the right interface as the daemon's: each fake
// Reloaded made it report to the daemon and ask for every reply owed,
// and a flood, with the bridge's loop busy, piled up one goroutine per
// signal in the bus library. Only the daemon's own signals (and the bus's
// word on the name's owner) are events.
func TestSignalsOnlyFromTheDaemon(t *testing.T) {
	bus := testbed.StartBus(t, false)
	daemon, err := dbus.Connect(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	if r, err := daemon.RequestName(api.BusName, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v %v", api.BusName, r, err)
	}
	m, err := Dial(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	stranger, err := dbus.Connect(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()

	me := m.c.Conn().Names()[0]
	unicast := func(path dbus.ObjectPath, iface, member, dest string, body ...any) {
		msg := &dbus.Message{Type: dbus.TypeSignal, Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldPath: dbus.MakeVariant(path), dbus.FieldInterface: dbus.MakeVariant(iface),
			dbus.FieldMember: dbus.MakeVariant(member), dbus.FieldDestination: dbus.MakeVariant(dest)}, Body: body}
		if len(body) > 0 {
			msg.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(body...))
		}
		if call := stranger.Send(msg, nil); call.Err != nil {
			t.Fatal(call.Err)
		}
	}
	stranger.Emit(api.ObjectPath, api.Interface+".Reloaded")
	stranger.Emit(api.ObjectPath, api.Interface+".JobFinished", "20260101-000000-aaaaaa")
	unicast(api.ObjectPath, api.Interface, "Reloaded", me)
	unicast(api.ObjectPath, api.Interface, "JobFinished", me, "20260101-000000-aaaaaa")
	unicast("/org/freedesktop/DBus", "org.freedesktop.DBus", "NameOwnerChanged", me, api.BusName, "", ":1.999")
	select {
	case ev := <-m.Events():
		t.Fatalf("a stranger's signal became an event: %+v", ev)
	case <-time.After(500 * time.Millisecond):
	}
	daemon.Emit(api.ObjectPath, api.Interface+".JobFinished", "20260101-000000-bbbbbb")
	select {
	case ev := <-m.Events():
		if ev.Kind != bridge.JobFinished || ev.Job != "20260101-000000-bbbbbb" {
			t.Errorf("the daemon's signal: %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the daemon's own signal was not an event")
	}
}

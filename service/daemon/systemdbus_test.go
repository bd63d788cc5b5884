package daemon

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/herdctl/herdctl/internal/testbed"
)

// sdStandIn is systemd's manager on a private bus, as far as StartUnit
// goes: it answers with a job and says the job is done a moment later.
type sdStandIn struct {
	conn *dbus.Conn
	next uint32
}

func (f *sdStandIn) StartUnit(unit, mode string) (dbus.ObjectPath, *dbus.Error) {
	f.next++
	id := f.next
	job := dbus.ObjectPath(fmt.Sprintf("/org/freedesktop/systemd1/job/%d", id))
	go func() {
		time.Sleep(300 * time.Millisecond)
		f.conn.Emit(systemdPath, systemdManager+".JobRemoved", id, job, unit, "done")
	}()
	return job, nil
}

// TestSystemdSignalsOnlyFromSystemd (the red team's D1): every local
// user may send signals on the system bus, and one sent to the daemon's
// own connection passes any match rule. The daemon took any JobRemoved
// as systemd's: a stranger who sent "failed" for the next job paths
// (systemd numbers its jobs in turn) before the daemon started a unit
// made that start fail (a trigger, a hook, the transcripts' prune), and
// a flood of them emptied the results heard early, so that a start
// waited out its whole timeout. Only systemd's own signals count.
func TestSystemdSignalsOnlyFromSystemd(t *testing.T) {
	bus := testbed.StartBus(t, false)
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.Address)
	sysd, err := dbus.Connect(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer sysd.Close()
	fake := &sdStandIn{conn: sysd}
	if err := sysd.Export(fake, systemdPath, systemdManager); err != nil {
		t.Fatal(err)
	}
	if r, err := sysd.RequestName(systemdDest, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v %v", systemdDest, r, err)
	}
	s, err := ConnectSystemd(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stranger, err := dbus.Connect(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	daemon := s.conn.Names()[0]
	for id := uint32(1); id <= 20; id++ {
		job := dbus.ObjectPath(fmt.Sprintf("/org/freedesktop/systemd1/job/%d", id))
		body := []any{id, job, "herdctl-x.service", "failed"}
		msg := &dbus.Message{Type: dbus.TypeSignal, Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldPath: dbus.MakeVariant(systemdPath), dbus.FieldInterface: dbus.MakeVariant(systemdManager),
			dbus.FieldMember: dbus.MakeVariant("JobRemoved"), dbus.FieldDestination: dbus.MakeVariant(daemon),
			dbus.FieldSignature: dbus.MakeVariant(dbus.SignatureOf(body...))}, Body: body}
		if call := stranger.Send(msg, nil); call.Err != nil {
			t.Fatal(call.Err)
		}
		stranger.Emit(systemdPath, systemdManager+".JobRemoved", body...)
	}
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		if err := s.Start(ctx, "herdctl-x.service"); err != nil {
			t.Fatalf("a start systemd did: %v", err)
		}
	}
	// systemd re-executes: its name changes hands, and the new owner's
	// signals count.
	sysd.ReleaseName(systemdDest)
	sysd2, err := dbus.Connect(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer sysd2.Close()
	if err := sysd2.Export(&sdStandIn{conn: sysd2, next: 100}, systemdPath, systemdManager); err != nil {
		t.Fatal(err)
	}
	if r, err := sysd2.RequestName(systemdDest, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s again: %v %v", systemdDest, r, err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := s.Start(ctx, "herdctl-x.service"); err != nil {
		t.Fatalf("a start by systemd after its re-execution: %v", err)
	}
}

package api

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

func TestCodecRoundTrip(t *testing.T) {
	fin := time.UnixMicro(1_700_000_123_456_789)
	code := 3
	in := Agent{Name: "gardener", MaxConcurrent: 2, Running: 1, LastFinished: fin,
		Schedules: []Schedule{{Name: "weather", Type: "interval", Every: 72 * time.Hour, Enabled: true, NextRun: fin}}}
	var out Agent
	if err := Decode(roundTrip(t, Encode(in)), &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}
	j := Job{ID: "x", Started: fin, Finished: &fin, ExitCode: &code, CostUSD: 0.25, Status: StatusFailed}
	var jo Job
	if err := Decode(roundTrip(t, Encode(&j)), &jo); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(j, jo) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", jo, j)
	}
}

func TestDecodeTypeMismatch(t *testing.T) {
	var a Agent
	err := Decode(Dict{"max_concurrent": dbus.MakeVariant("two")}, &a)
	if err == nil {
		t.Fatal("a string for an int decoded without error")
	}
}

// roundTrip marshals d to the wire and back, as a call would.
func roundTrip(t *testing.T, d Dict) Dict {
	t.Helper()
	var buf bytes.Buffer
	msg := &dbus.Message{Type: dbus.TypeSignal, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldPath:      dbus.MakeVariant(dbus.ObjectPath(ObjectPath)),
		dbus.FieldInterface: dbus.MakeVariant(Interface),
		dbus.FieldMember:    dbus.MakeVariant("Test"),
		dbus.FieldSignature: dbus.MakeVariant(dbus.SignatureOf(d)),
	}, Body: []any{d}}
	if err := msg.EncodeTo(&buf, binary.LittleEndian); err != nil {
		t.Fatal(err)
	}
	back, err := dbus.DecodeMessage(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return back.Body[0].(map[string]dbus.Variant)
}

// TestCodecCleansStrings: a NUL or invalid UTF-8 in a job's text (an agent
// wrote it) does not break the D-Bus reply.
func TestCodecCleansStrings(t *testing.T) {
	j := Job{ID: "x", ExitReason: "bad\x00nul", Error: "bad \xff utf8", Prompt: "fine"}
	var out Job
	if err := Decode(roundTrip(t, Encode(&j)), &out); err != nil {
		t.Fatal(err)
	}
	if out.ExitReason != "bad\uFFFDnul" || out.Error != "bad \uFFFD utf8" || out.Prompt != "fine" {
		t.Errorf("got %q %q %q", out.ExitReason, out.Error, out.Prompt)
	}
}

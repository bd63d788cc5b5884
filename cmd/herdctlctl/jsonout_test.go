package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

// TestWriteJSONDurationsInMicroseconds: every *_usec field says
// microseconds, in every output that carries schedules.
func TestWriteJSONDurationsInMicroseconds(t *testing.T) {
	for name, v := range map[string]any{
		"agents": agents(),
		"agent":  ptr(agents()[0]),
		"status": healthyStatus(),
	} {
		var b bytes.Buffer
		if err := writeJSON(&b, v); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{`"every_usec": 259200000000`, `"timeout_usec": 600000000`, `"timeout_usec": 1800000000`} {
			if !strings.Contains(out, want) {
				t.Errorf("%s --json lacks %s:\n%s", name, want, out)
			}
		}
		if strings.Contains(out, "259200000000000") {
			t.Errorf("%s --json has a duration in nanoseconds:\n%s", name, out)
		}
	}
}

// TestWriteJSONAsEncodingJSON: apart from durations, the output is
// encoding/json's to the byte: names, omitempty, omitzero, embedded
// structs, times, nil slices and maps.
func TestWriteJSONAsEncodingJSON(t *testing.T) {
	type inner struct {
		A string `json:"a"`
		B int    `json:"b,omitempty"`
	}
	type shadow struct {
		A string `json:"a"`
	}
	type outer struct {
		*inner
		shadow
		Named   inner             `json:"named"`
		Untaged string            // its Go name
		Skip    string            `json:"-"`
		When    time.Time         `json:"when,omitzero"`
		Ptr     *time.Time        `json:"ptr,omitempty"`
		Nil     []string          `json:"nil"`
		Map     map[string]any    `json:"map"`
		Bytes   []byte            `json:"bytes"`
		Iface   any               `json:"iface"`
		Float   float64           `json:"float"`
		NilMap  map[string]string `json:"nil_map,omitempty"`
		private string
	}
	at := time.Date(2026, 11, 30, 2, 0, 31, 123, time.UTC)
	for name, v := range map[string]any{
		"jobs":        jobs(),
		"hostile job": hostileJob(),
		"status":      *refusedStatus().Status,
		"validation":  validation{File: "f", Errors: refusedStatus().Errors},
		"struct rules": outer{inner: &inner{A: "promoted", B: 0}, shadow: shadow{A: "tie"}, Named: inner{A: "x", B: 2},
			Untaged: "u", Skip: "s", When: at, Ptr: &at, Map: map[string]any{"z": 1, "a": []int{1}, "<html>": "&"},
			Bytes: []byte("hi"), Iface: inner{A: "i"}, Float: 0.1, private: "p"},
		"nil embedded": outer{},
	} {
		var got, want bytes.Buffer
		if err := writeJSON(&got, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := cli.WriteJSON(&want, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.String() != want.String() {
			t.Errorf("%s:\n--- writeJSON\n%s\n--- encoding/json\n%s", name, got.String(), want.String())
		}
	}
}

// TestNoDurationInNanoseconds: every time.Duration herdctlctl prints as
// JSON is named *_usec (so it comes out in microseconds); a new one
// without the suffix would go out in nanoseconds under a name that
// does not say so.
func TestNoDurationInNanoseconds(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for _, f := range jsonFields(typ) {
			ft := typ.FieldByIndex(f.index).Type
			if ft == durationType && !strings.HasSuffix(f.name, "_usec") {
				t.Errorf("%s.%s is a time.Duration not named *_usec: it would print in nanoseconds", path, f.name)
			}
			walk(ft, path+"."+f.name)
		}
	}
	for _, v := range []any{statusView{}, api.Agent{}, api.Job{}, api.Status{}, validation{}} {
		walk(reflect.TypeOf(v), reflect.TypeOf(v).Name())
	}
}

// TestJSONKeepsRawText: --json carries what the agent wrote, unchanged
// (JSON escapes what needs it).
func TestJSONKeepsRawText(t *testing.T) {
	var b bytes.Buffer
	j := hostileJob()
	if err := writeJSON(&b, j); err != nil {
		t.Fatal(err)
	}
	var back api.Job
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Prompt != j.Prompt || back.ExitReason != j.ExitReason {
		t.Errorf("the JSON changed the agent's text: %q", back.Prompt)
	}
	if bytes.Contains(b.Bytes(), []byte("\x1b")) {
		t.Error("a raw ESC in the JSON")
	}
}

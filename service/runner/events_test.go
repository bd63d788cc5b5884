package runner

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseEvent(t *testing.T) {
	cases := []struct {
		name, line, kind, summary, tool string
	}{
		{"init", `{"type":"system","subtype":"init","session_id":"s1","model":"m","tools":["Bash","Read"]}`, "system", "session s1 started: model m, 2 tools", ""},
		{"assistant text", `{"type":"assistant","session_id":"s1","message":{"content":[{"type":"text","text":"Hello\nthere"}]}}`, "assistant", "assistant: Hello there", ""},
		{"tool use", `{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Bash","input":{"command":"ls -la"}}]}}`, "assistant", "tool Bash: ls -la", "Bash"},
		{"tool result", `{"type":"user","message":{"content":[{"type":"tool_result","content":"file.txt","is_error":false}]}}`, "user", "tool result: file.txt", ""},
		{"tool error", `{"type":"user","message":{"content":[{"type":"tool_result","content":[{"type":"text","text":"denied"}],"is_error":true}]}}`, "user", "tool error: denied", ""},
		{"result", `{"type":"result","subtype":"success","num_turns":4,"total_cost_usd":0.0213,"session_id":"s1"}`, "result", "result: success, 4 turns, $0.02", ""},
		{"noise", `npm WARN something`, "output", "output: npm WARN something", ""},
		{"not an event", `{"foo":1}`, "output", `output: {"foo":1}`, ""},
		{"unknown type", `{"type":"stream_event","subtype":"x"}`, "stream_event", "stream_event: x", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := ParseEvent([]byte(c.line))
			if ev.Type != c.kind || ev.Summary != c.summary || ev.Tool != c.tool {
				t.Errorf("got %q %q %q, want %q %q %q", ev.Type, ev.Summary, ev.Tool, c.kind, c.summary, c.tool)
			}
		})
	}
}

func TestReadLines(t *testing.T) {
	in := "a\r\n" + strings.Repeat("x", 100) + "\nshort\nend"
	var got []string
	var cut []bool
	ReadLines(strings.NewReader(in), 10, func(l []byte, tr bool) { got = append(got, string(l)); cut = append(cut, tr) })
	want := []string{"a", "xxxxxxxxxx", "short", "end"}
	if strings.Join(got, "|") != strings.Join(want, "|") || !cut[1] || cut[0] || cut[2] {
		t.Errorf("got %q truncated %v", got, cut)
	}
}

// FuzzStreamJSON feeds arbitrary output through the line reader and the
// event parser: no panic, every line becomes exactly one event.
func FuzzStreamJSON(f *testing.F) {
	f.Add([]byte(`{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Bash","input":{"command":"ls"}}]}}` + "\n" + `{"type":"result","num_turns":1}`))
	f.Add([]byte("noise\n{\"type\":\"user\",\"message\":{\"content\":\"hi\"}}\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		ReadLines(bytes.NewReader(data), 4096, func(l []byte, _ bool) {
			ev := ParseEvent(l)
			if ev.Type == "" || ev.Summary == "" {
				t.Fatalf("line %q gave an empty event %+v", l, ev)
			}
			n++
		})
		if lines := bytes.Count(data, []byte("\n")); n < lines {
			t.Fatalf("%d lines read, %d newlines", n, lines)
		}
	})
}

func TestEstimateCost(t *testing.T) {
	for _, c := range []struct {
		model string
		u     Usage
		want  float64
	}{
		{"claude-sonnet-4-5-20250929", Usage{InputTokens: 1_000_000}, 3},
		{"claude-sonnet-4-5", Usage{OutputTokens: 1_000_000}, 15},
		{"claude-opus-4-5", Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000}, 30},
		{"claude-opus-4-1", Usage{InputTokens: 1_000_000}, 15},
		{"claude-haiku-4-5", Usage{CacheReadInputTokens: 1_000_000, CacheCreationInputTokens: 1_000_000}, 0.1 + 1.25},
		{"some-new-model", Usage{OutputTokens: 1_000_000}, 75},
	} {
		if got := estimateCost(c.model, c.u); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("%s %+v: $%v, want $%v", c.model, c.u, got, c.want)
		}
	}
}

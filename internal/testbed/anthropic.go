package testbed

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Turn is one scripted answer of the stand-in API: a tool call, or text
// that ends the conversation.
type Turn struct {
	Tool  string         // tool name, e.g. "Write" or "Bash"
	Input map[string]any // the tool's input
	Text  string         // final text when Tool is ""
	// Status, when not 0, answers with this HTTP error instead, with an
	// Anthropic-style JSON body of ErrType and Text, and
	// x-should-retry: false so that the CLI reports it at once.
	Status  int
	ErrType string
}

// API is a stand-in for the Anthropic Messages API on loopback. It answers
// the request that follows the k-th tool result with script[k], so the
// real Claude Code CLI acts out the script; requests without tools (side
// requests of the CLI) get a short text.
type API struct {
	URL      string
	mu       sync.Mutex
	Requests []map[string]any
	// Headers are the requests' headers, in the same order.
	Headers []http.Header
	// msgs numbers the messages: every message id is unique, also
	// across the runs of a resumed session (the CLI merges messages
	// with the same id).
	msgs atomic.Int64
}

// StartAPI serves script on 127.0.0.1 until the test ends.
func StartAPI(t *testing.T, script []Turn) *API {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ServeAPI(t, ln, script)
}

// ServeAPI serves script on ln until the test ends.
func ServeAPI(t *testing.T, ln net.Listener, script []Turn) *API {
	t.Helper()
	api := &API{URL: "http://" + ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/v1/messages") {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req map[string]any
		json.Unmarshal(body, &req)
		api.mu.Lock()
		api.Requests = append(api.Requests, req)
		api.Headers = append(api.Headers, r.Header.Clone())
		api.mu.Unlock()
		turn := Turn{Text: "ok"}
		if tools, _ := req["tools"].([]any); len(tools) > 0 {
			k := countToolResults(req)
			if k < len(script) {
				turn = script[k]
			} else {
				turn = Turn{Text: "done"}
			}
		}
		if turn.Status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("x-should-retry", "false")
			w.Header().Set("request-id", "req_standin")
			w.WriteHeader(turn.Status)
			json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]any{"type": turn.ErrType, "message": turn.Text}})
			return
		}
		writeSSE(w, turn, int(api.msgs.Add(1)))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return api
}

func countToolResults(req map[string]any) int {
	n := 0
	msgs, _ := req["messages"].([]any)
	for _, m := range msgs {
		mm, _ := m.(map[string]any)
		blocks, _ := mm["content"].([]any)
		for _, b := range blocks {
			if bm, _ := b.(map[string]any); bm["type"] == "tool_result" {
				n++
			}
		}
	}
	return n
}

func writeSSE(w http.ResponseWriter, turn Turn, k int) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	send := func(event string, data any) {
		b, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
	}
	usage := map[string]any{"input_tokens": 100, "output_tokens": 1}
	send("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": fmt.Sprintf("msg_%d", k), "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil, "usage": usage}})
	stop := "end_turn"
	if turn.Tool != "" {
		stop = "tool_use"
		input, _ := json.Marshal(turn.Input)
		send("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "tool_use", "id": fmt.Sprintf("toolu_%d", k), "name": turn.Tool, "input": map[string]any{}}})
		send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "input_json_delta", "partial_json": string(input)}})
	} else {
		send("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "text", "text": ""}})
		send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "text_delta", "text": turn.Text}})
	}
	send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	send("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": 20}})
	send("message_stop", map[string]any{"type": "message_stop"})
}

// Request returns the i-th request and its headers.
func (a *API) Request(i int) (map[string]any, http.Header) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.Requests[i], a.Headers[i]
}

// RequestCount is how many requests the stand-in received so far.
func (a *API) RequestCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.Requests)
}

// Strings returns every string value in the requests received so far
// (tool results among them), in order.
func (a *API) Strings() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, r := range a.Requests {
		walk(r)
	}
	return out
}

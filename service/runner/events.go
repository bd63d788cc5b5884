package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Event is one line of Claude Code's --output-format stream-json output,
// reduced to what the journal and the job record need.
type Event struct {
	Type      string // system, assistant, user, result; "output" for non-JSON noise
	Subtype   string
	SessionID string
	Tool      string // the first tool an assistant event calls
	Summary   string // a short human line: "tool Bash: ls -la"
	Raw       []byte
	Result    *Result // set for the final result event
	// APIError is set for the message Claude Code makes of an API error.
	APIError *apiError
	// Message is an assistant event's API message: its id (one message
	// comes as several events), model and usage as the API reported it
	// when the message started.
	Message *MessageUsage
}

// MessageUsage is what an assistant message says it used.
type MessageUsage struct {
	ID    string `json:"id"`
	Model string `json:"model"`
	Usage Usage  `json:"usage"`
}

// Result is the final result event's outcome.
type Result struct {
	Subtype      string  `json:"subtype"`
	IsError      bool    `json:"is_error"`
	NumTurns     int     `json:"num_turns"`
	TotalCostUSD float64 `json:"total_cost_usd"`
	DurationMS   int64   `json:"duration_ms"`
	SessionID    string  `json:"session_id"`
	Result       string  `json:"result"`
	Usage        Usage   `json:"usage"`
	// TerminalReason and APIErrorStatus say why the run ended, when it
	// ended in an error ("api_error" and 401, "max_turns").
	TerminalReason string   `json:"terminal_reason"`
	APIErrorStatus int      `json:"api_error_status"`
	Errors         []string `json:"errors"`
}

// Usage counts tokens.
type Usage struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
}

type rawEvent struct {
	Type      string          `json:"type"`
	Error     string          `json:"error"`
	APIStatus int             `json:"api_error_status"`
	APIType   string          `json:"api_error_type"`
	Subtype   string          `json:"subtype"`
	SessionID string          `json:"session_id"`
	Model     string          `json:"model"`
	Tools     []string        `json:"tools"`
	Message   json.RawMessage `json:"message"`
}

type contentBlock struct {
	Type    string          `json:"type"`
	Text    string          `json:"text"`
	Name    string          `json:"name"`
	Input   json.RawMessage `json:"input"`
	Content json.RawMessage `json:"content"`
	IsError bool            `json:"is_error"`
}

const summaryMax = 200

// ParseEvent reads one output line. A line that is not a JSON object is
// kept as an "output" event, so nothing the agent prints is lost.
func ParseEvent(line []byte) Event {
	line = bytes.TrimSpace(line)
	ev := Event{Raw: line}
	var r rawEvent
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &r) != nil || r.Type == "" {
		ev.Type = "output"
		ev.Summary = "output: " + clip(string(line))
		return ev
	}
	// Any process in the container can write a line into Claude Code's
	// stdout: the types it prints are kept, the runner's own kinds are not
	// (an agent could otherwise label its line "egress" or
	// "job_finished"), and what is shown is one clipped line.
	ev.Type, ev.Subtype, ev.SessionID = streamType(r.Type), clip(r.Subtype), r.SessionID
	switch ev.Type {
	case "system":
		if r.Subtype == "init" {
			ev.Summary = clip(fmt.Sprintf("session %s started: model %s, %d tools", r.SessionID, r.Model, len(r.Tools)))
		} else {
			ev.Summary = "system: " + ev.Subtype
		}
	case "assistant", "user":
		ev.Summary, ev.Tool = summarizeMessage(r.Type, r.Message)
		if r.Type == "assistant" && r.Error != "" {
			ev.APIError = &apiError{Kind: r.Error, Status: r.APIStatus, Type: r.APIType}
		}
		if r.Type == "assistant" {
			var m MessageUsage
			if json.Unmarshal(r.Message, &m) == nil && m.ID != "" {
				ev.Message = &m
			}
		}
	case "result":
		var res Result
		if err := json.Unmarshal(line, &res); err == nil {
			ev.Result = &res
			ev.Summary = clip(fmt.Sprintf("result: %s, %d turns, $%.2f", res.Subtype, res.NumTurns, res.TotalCostUSD))
			if res.IsError {
				ev.Summary += " (error)"
			}
		}
	default:
		ev.Summary = clip(r.Type)
		if ev.Subtype != "" {
			ev.Summary += ": " + ev.Subtype
		}
	}
	if ev.Summary == "" {
		ev.Summary = ev.Type
	}
	return ev
}

// streamTypes are the event types of Claude Code's stream-json; any other
// type a line names is "other".
var streamTypes = map[string]bool{"system": true, "assistant": true, "user": true, "result": true, "stream_event": true}

func streamType(t string) string {
	if streamTypes[t] {
		return t
	}
	return "other"
}

func summarizeMessage(kind string, msg json.RawMessage) (string, string) {
	var m struct {
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(msg, &m) != nil {
		return kind, ""
	}
	var text string
	if json.Unmarshal(m.Content, &text) == nil {
		return kind + ": " + clip(text), ""
	}
	var blocks []contentBlock
	if json.Unmarshal(m.Content, &blocks) != nil {
		return kind, ""
	}
	var parts []string
	tool := ""
	for _, b := range blocks {
		switch b.Type {
		case "text":
			parts = append(parts, kind+": "+clip(b.Text))
		case "thinking":
			parts = append(parts, "thinking")
		case "tool_use":
			if tool == "" {
				tool = b.Name
			}
			parts = append(parts, fmt.Sprintf("tool %s: %s", b.Name, toolInput(b.Input)))
		case "tool_result":
			label := "tool result"
			if b.IsError {
				label = "tool error"
			}
			parts = append(parts, label+": "+clip(resultText(b.Content)))
		}
	}
	if len(parts) == 0 {
		return kind, tool
	}
	return strings.Join(parts, " | "), tool
}

// toolInput picks the one argument that says what a tool call does.
func toolInput(in json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(in, &m) != nil {
		return clip(string(in))
	}
	for _, k := range []string{"command", "file_path", "path", "pattern", "url", "query", "description"} {
		if s, ok := m[k].(string); ok {
			return clip(s)
		}
	}
	return clip(string(in))
}

func resultText(c json.RawMessage) string {
	var s string
	if json.Unmarshal(c, &s) == nil {
		return s
	}
	var blocks []contentBlock
	if json.Unmarshal(c, &blocks) == nil {
		var parts []string
		for _, b := range blocks {
			if b.Text != "" {
				parts = append(parts, b.Text)
			}
		}
		return strings.Join(parts, " ")
	}
	return string(c)
}

// clip makes a one-line summary of at most summaryMax runes.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > summaryMax {
		return string(r[:summaryMax-1]) + "…"
	}
	return s
}

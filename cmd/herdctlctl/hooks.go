package main

import (
	"fmt"
	"strings"

	"github.com/herdctl/herdctl/state"
)

// hookLine is one hook's run as herdctlctl job shows it:
// "on_error[0] webhook: ok, HTTP 200, 1 attempt, 45 ms". The reason is
// the daemon's, but may quote what a hook's destination answered: it is
// printed through safe, like everything else.
func hookLine(h state.HookRun) string {
	parts := []string{h.Status}
	if h.HTTPStatus != 0 {
		parts = append(parts, fmt.Sprintf("HTTP %d", h.HTTPStatus))
	}
	switch {
	case h.Attempts == 1:
		parts = append(parts, "1 attempt")
	case h.Attempts > 1:
		parts = append(parts, fmt.Sprintf("%d attempts", h.Attempts))
	}
	if h.DurationMS > 0 || h.Status == state.HookOK || h.Status == state.HookFailed {
		parts = append(parts, fmt.Sprintf("%d ms", h.DurationMS))
	}
	line := fmt.Sprintf("%s %s: %s", h.Hook, h.Type, strings.Join(parts, ", "))
	if h.Reason != "" {
		line += ": " + h.Reason
	}
	return line
}

func hookColour(status string) string {
	switch status {
	case state.HookOK:
		return green
	case state.HookFailed, state.HookUnknown:
		return boldRed
	}
	return boldYel
}

package hook

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herdctl/herdctl/chat/text"
	"github.com/herdctl/herdctl/state"
)

// Bounds of a notice: short enough for any chat (Discord's 2000
// characters), and a glance rather than a report.
const (
	noticeResultLines = 5
	noticeResultChars = 600
	noticeReasonChars = 300
)

// Notice is the short, readable summary of a job a discord or slack hook
// posts: the agent, the job, its status and the true reason, its cost,
// and the first lines of its result. What the agent wrote (the reason,
// the result) is cleaned of control characters and cut; the sender
// makes it mention nobody.
func Notice(p Payload) string {
	j := p.Job
	mark := "✓"
	if j.Status != state.StatusCompleted {
		mark = "✗"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: job %s of %s %s", mark, p.Fleet, j.ID, p.Agent, j.Status)
	reason := j.ExitReason
	if reason == "" {
		reason = j.Error
	}
	if reason = text.OneLine(reason, noticeReasonChars); reason != "" {
		b.WriteString(": " + reason)
	}
	fmt.Fprintf(&b, "\n%s · %d turns · %s", state.USD(j.CostUSD), j.Turns, (time.Duration(j.DurationMS) * time.Millisecond).Round(time.Second))
	if j.Schedule != "" {
		b.WriteString(" · schedule " + j.Schedule)
	} else {
		b.WriteString(" · " + j.Trigger)
	}
	if r := firstLines(j.Result, noticeResultLines, noticeResultChars); r != "" {
		for _, l := range strings.Split(r, "\n") {
			b.WriteString("\n> " + l)
		}
	}
	return b.String()
}

// firstLines is s's first n non-empty lines, at most max characters.
func firstLines(s string, n, max int) string {
	var out []string
	for _, l := range strings.Split(text.Clean(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
		if len(out) == n {
			break
		}
	}
	r := strings.Join(out, "\n")
	if utf8.RuneCountInString(r) <= max {
		return r
	}
	return string([]rune(r)[:max-1]) + "…"
}

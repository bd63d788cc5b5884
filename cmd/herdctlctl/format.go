package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// Widest a free-text cell (a reason, a description) gets in a table;
// the whole text is in the single views (job ID, agent NAME) and --json.
const freeTextWidth = 60

// since is a time relative to now: "in 3h 12m", "5m ago", "-" if zero.
func since(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(now)
	if d > 0 {
		return "in " + human(d)
	}
	if -d < time.Second {
		return "just now"
	}
	return human(-d) + " ago"
}

// lastRun is when a schedule last ran: "never" when it has not.
func lastRun(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return since(t, now)
}

// nextRun is when a schedule of agent a runs next: "disabled" when the
// schedule or the whole agent is (a disabled agent's timers are stopped,
// so without this its schedules would show "-", like an agent with no
// timer at all).
func nextRun(a api.Agent, s api.Schedule, now time.Time) string {
	if !s.Enabled || a.Disabled {
		return "disabled"
	}
	return since(s.NextRun, now)
}

// clock is t on the wall clock of now's zone: printers take the zone
// from now (time.Now is local), so tests fix both at once.
func clock(t, now time.Time) string { return t.In(now.Location()).Format(time.DateTime) }

// human writes a duration with its two largest units: "3h 12m", "42s".
func human(d time.Duration) string {
	d = d.Round(time.Second)
	parts := []struct {
		n    time.Duration
		unit string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	var out []string
	for _, p := range parts {
		if d >= p.n || (len(out) == 0 && p.unit == "s") {
			out = append(out, fmt.Sprintf("%d%s", d/p.n, p.unit))
			d %= p.n
		}
		if len(out) == 2 {
			break
		}
	}
	return strings.Join(out, " ")
}

// schedDesc says when a schedule fires.
func schedDesc(s api.Schedule) string {
	if s.Type == "interval" {
		return "every " + human(s.Every)
	}
	return "cron " + s.Cron
}

// duration is how long a job ran, or has run so far.
func duration(j api.Job, now time.Time) string {
	if j.Finished == nil {
		if j.Status == api.StatusRunning && !j.Started.IsZero() {
			return human(now.Sub(j.Started))
		}
		return "-"
	}
	return human(time.Duration(j.DurationMS) * time.Millisecond)
}

// cost is a job's cost in dollars, as state.USD writes it everywhere.
func cost(usd float64) string { return state.USD(usd) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

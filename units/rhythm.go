package units

import (
	"time"

	"github.com/herdctl/herdctl/policy"
)

// MinFirstElapse is the soonest a started interval timer fires: a missed
// run that catches up waits this long after the timer starts.
const MinFirstElapse = time.Second

// FirstElapse is when an interval schedule's timer, started now, should
// first fire to keep the schedule's rhythm: one interval after anchor,
// which is its last scheduled job's start, or when the schedule was first
// applied if it has not run. When that time has passed (the daemon or the
// machine was down), a schedule with catch_up runs at once, one without
// waits for its next time on the rhythm. The result is never more than
// one interval: a clock set back does not postpone the schedule.
func FirstElapse(s policy.Schedule, anchor, now time.Time) time.Duration {
	if s.Interval <= 0 {
		return 0
	}
	next := anchor.Add(s.Interval)
	if !next.After(now) {
		if s.CatchUp {
			return MinFirstElapse
		}
		missed := now.Sub(anchor) / s.Interval
		next = anchor.Add((missed + 1) * s.Interval)
	}
	d := next.Sub(now)
	return min(max(d, MinFirstElapse), s.Interval)
}

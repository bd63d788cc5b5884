package units

import (
	"testing"
	"time"

	"github.com/herdctl/herdctl/policy"
)

func TestFirstElapse(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	every := func(d time.Duration, catchUp bool) policy.Schedule {
		return policy.Schedule{Type: "interval", Interval: d, CatchUp: catchUp}
	}
	cases := []struct {
		name   string
		s      policy.Schedule
		anchor time.Time
		want   time.Duration
	}{
		{"ran an hour ago, every 72h", every(72*time.Hour, true), now.Add(-time.Hour), 71 * time.Hour},
		{"applied just now", every(72*time.Hour, true), now, 72 * time.Hour},
		{"due exactly now", every(time.Hour, true), now.Add(-time.Hour), MinFirstElapse},
		{"missed, catches up", every(time.Hour, true), now.Add(-5*time.Hour - 10*time.Minute), MinFirstElapse},
		{"missed, waits for the rhythm", every(time.Hour, false), now.Add(-5*time.Hour - 10*time.Minute), 50 * time.Minute},
		{"missed by a whole number of intervals", every(time.Hour, false), now.Add(-3 * time.Hour), time.Hour},
		{"clock set back", every(time.Hour, true), now.Add(5 * time.Hour), time.Hour},
		{"less than a second left", every(time.Hour, true), now.Add(-time.Hour + time.Millisecond), MinFirstElapse},
	}
	for _, c := range cases {
		if got := FirstElapse(c.s, c.anchor, now); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// TestSameTimer: only the first elapse may differ for a timer to be left
// running.
func TestSameTimer(t *testing.T) {
	a := &policy.Agent{Name: "a"}
	s := policy.Schedule{Name: "s", Type: "interval", Interval: time.Hour}
	x, y := RenderTimer(a, s, 10*time.Minute), RenderTimer(a, s, 20*time.Minute)
	if x == y || !SameTimer(x, y) {
		t.Errorf("first elapses 10m and 20m: equal %v, same %v", x == y, SameTimer(x, y))
	}
	s2 := s
	s2.Interval = 2 * time.Hour
	if SameTimer(x, RenderTimer(a, s2, 10*time.Minute)) {
		t.Error("a new interval is the same timer")
	}
}

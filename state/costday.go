package state

import (
	"path/filepath"
	"strconv"
	"time"
)

// AgentCostDay holds what an agent's jobs cost today (max_cost_usd_per_day).
func (l Layout) AgentCostDay(agent string) string {
	return filepath.Join(l.AgentDir(agent), "cost-today")
}

// CostPool is what an agent's jobs spent in a day, in dollars: the runner
// adds each job's cost as it ends and checks it before a job starts.
// Days are the host's local days, as herdctlctl cost shows them.
type CostPool struct{ Path string }

// CostDay is the day a time is counted in by cost budgets.
func CostDay(t time.Time) string { return t.Local().Format(time.DateOnly) }

// Spent is what the agent's jobs cost on now's day.
func (p CostPool) Spent(now time.Time) float64 {
	v, _ := strconv.ParseFloat(readDayFile(p.Path, CostDay(now)), 64)
	return max(v, 0)
}

// Add counts usd more on now's day.
func (p CostPool) Add(now time.Time, usd float64) error {
	return updateDayFile(p.Path, CostDay(now), func(old string) string {
		v, _ := strconv.ParseFloat(old, 64)
		return strconv.FormatFloat(max(v, 0)+max(usd, 0), 'g', -1, 64)
	})
}

package runner

import (
	"fmt"
	"sync"
	"time"

	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

// costPool is what the agent's jobs spent today.
func (r *Runner) costPool(agent string) state.CostPool {
	return state.CostPool{Path: r.Layout.AgentCostDay(agent)}
}

// budgetLeft is what a job of a may spend (0: no limit): what is left of
// the agent's day, at most its per-job budget. reason is not "" when the
// day's budget is spent: the job is skipped.
func (r *Runner) budgetLeft(a *policy.Agent, now time.Time) (left float64, reason string) {
	b := a.Budget
	if b.PerDay > 0 {
		spent := r.costPool(a.Name).Spent(now)
		if spent >= b.PerDay {
			return 0, fmt.Sprintf("budget: the agent's jobs spent $%.4f today, its max_cost_usd_per_day is $%.2f: its jobs run again tomorrow (local midnight), or raise the budget in the fleet file", spent, b.PerDay)
		}
		left = b.PerDay - spent
	}
	if b.PerJob > 0 && (left == 0 || b.PerJob < left) {
		left = b.PerJob
	}
	return left, ""
}

// budgetWatch stops a running job whose agent crosses its day's budget
// (budget_action = "cancel"): what the agent's other jobs spent today,
// plus this job's cost so far, checked at each new message. A message's
// cost comes from the usage its assistant event reports (estimateCost),
// replaced by what the API itself reported through the job's relay when
// there is one: that count the agent cannot forge.
type budgetWatch struct {
	pool   state.CostPool
	perDay float64
	now    func() time.Time
	stop   func(error)

	mu      sync.Mutex
	cost    map[string]float64 // by message id
	est     float64
	stopped bool
}

// budgetCancelled is why a job was stopped for the budget.
type budgetCancelled struct{ spent, job, perDay float64 }

func (e *budgetCancelled) Error() string {
	return fmt.Sprintf("budget: stopped: the agent's other jobs spent $%.4f today and this one about $%.4f, reaching its max_cost_usd_per_day of $%.2f (budget_action = \"cancel\"); its jobs run again tomorrow (local midnight), or raise the budget in the fleet file", e.spent, e.job, e.perDay)
}

// newBudgetWatch watches a job of a when its budget says so, else nil.
func (r *Runner) newBudgetWatch(a *policy.Agent, stop func(error)) *budgetWatch {
	if a.Budget.Action != policy.BudgetCancel || a.Budget.PerDay <= 0 {
		return nil
	}
	return &budgetWatch{pool: r.costPool(a.Name), perDay: a.Budget.PerDay, now: r.now, stop: stop, cost: map[string]float64{}}
}

// message counts an assistant event's estimate, once per message.
func (w *budgetWatch) message(m *MessageUsage) {
	if w == nil {
		return
	}
	w.mu.Lock()
	_, seen := w.cost[m.ID]
	w.mu.Unlock()
	if !seen {
		w.set(m.ID, estimateCost(m.Model, m.Usage))
	}
}

// metered counts what the API reported for a message, over any estimate.
func (w *budgetWatch) metered(id string, usd float64) {
	if w != nil {
		w.set(id, usd)
	}
}

func (w *budgetWatch) set(id string, usd float64) {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	w.est += usd - w.cost[id]
	w.cost[id] = usd
	est := w.est
	w.mu.Unlock()
	if spent := w.pool.Spent(w.now()); spent+est >= w.perDay {
		w.mu.Lock()
		first := !w.stopped
		w.stopped = true
		w.mu.Unlock()
		if first {
			w.stop(&budgetCancelled{spent: spent, job: est, perDay: w.perDay})
		}
	}
}

// relayBudget is what the job's API relay asks before each request: an
// error once the job, or the agent's day with it, has spent its budget,
// counting what the relay metered (the API's own usage reports, which the
// agent cannot forge), so that no request goes out past it whatever the
// agent does in its container. nil when the agent has no budget.
func (r *Runner) relayBudget(a *policy.Agent) func(metered float64) error {
	b := a.Budget
	if b.PerDay <= 0 && b.PerJob <= 0 {
		return nil
	}
	pool := r.costPool(a.Name)
	perJob := jobBudget(b.PerJob)
	return func(metered float64) error {
		if err := perJob(metered); err != nil {
			return err
		}
		if b.PerDay > 0 {
			if spent := pool.Spent(r.now()); spent+metered >= b.PerDay {
				return fmt.Errorf("budget: the agent's jobs spent $%.4f today with this one's $%.4f, its max_cost_usd_per_day is $%.2f", spent, metered, b.PerDay)
			}
		}
		return nil
	}
}

package runner

import (
	"sync"
	"time"

	"github.com/herdctl/herdctl/state"
)

// entryOverhead is what journald stores for one entry beyond the text of
// the fields herdctl sends: its own fields (_PID, _UID, _BOOT_ID,
// timestamps...), the entry object and its index items. Measured here:
// 154k short entries took 98 MB, about 640 bytes each.
const entryOverhead = 640

// entryCost is what one entry costs the journal.
func entryCost(msg string, fields map[string]string) int64 {
	n := int64(entryOverhead + len("MESSAGE=") + len(msg))
	for k, v := range fields {
		n += int64(len(k) + 1 + len(v))
	}
	return n
}

// reserveStep is how much of the daily pools a job takes at a time.
const reserveStep = 1 << 20

// logBudget is what a job may still put into the journal: its own budget,
// within what its agent and the fleet have left today (pools shared with
// every other job, taken a MiB at a time and the rest given back at the
// end). What the journal stores is counted, not what the agent printed.
type logBudget struct {
	mu       sync.Mutex
	now      func() time.Time
	left     int64 // of the job's own budget
	reserved int64 // taken from the pools, not yet used
	pools    []state.LogPool
	spent    bool
}

func newLogBudget(job int64, pools []state.LogPool, now func() time.Time) *logBudget {
	return &logBudget{left: job, pools: pools, now: now}
}

// take says whether an entry of cost bytes may be logged, and counts it.
func (b *logBudget) take(cost int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spent || cost > b.left {
		b.spent = true
		return false
	}
	for b.reserved < cost {
		if !b.reserve() {
			b.spent = true
			return false
		}
	}
	b.left -= cost
	b.reserved -= cost
	return true
}

// reserve takes one step from every pool; what one pool could not give
// is returned to the others.
func (b *logBudget) reserve() bool {
	step := int64(reserveStep)
	got := make([]int64, len(b.pools))
	for i, p := range b.pools {
		n, err := p.Reserve(b.now(), step)
		if err != nil {
			n = 0
		}
		got[i] = n
		step = min(step, n)
	}
	for i, p := range b.pools {
		if got[i] > step {
			p.Release(b.now(), got[i]-step)
		}
	}
	b.reserved += step
	return step > 0
}

// close gives back what was reserved and not used.
func (b *logBudget) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.reserved > 0 {
		for _, p := range b.pools {
			p.Release(b.now(), b.reserved)
		}
		b.reserved = 0
	}
}

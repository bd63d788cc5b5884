package daemon

import (
	"slices"
	"strings"

	"github.com/herdctl/herdctl/service/api"
)

// Sessions lists agent's Claude Code sessions from its job records,
// newest first: each with its first and last job and what its jobs spent.
func (d *Daemon) Sessions(agent string) ([]*api.Session, error) {
	d.mu.Lock()
	byID := map[string]*api.Session{}
	known := d.agents[agent] != nil
	for _, j := range d.jobs {
		if j.Agent != agent {
			continue
		}
		known = true
		if j.SessionID == "" {
			continue
		}
		s := byID[j.SessionID]
		if s == nil {
			s = &api.Session{ID: j.SessionID, Agent: agent, FirstJob: j.ID, LastJob: j.ID, FirstStarted: j.Started, LastStarted: j.Started}
			byID[j.SessionID] = s
		}
		if j.Started.Before(s.FirstStarted) {
			s.FirstJob, s.FirstStarted = j.ID, j.Started
		}
		if j.Started.After(s.LastStarted) {
			s.LastJob, s.LastStarted = j.ID, j.Started
		}
		s.Jobs++
		s.Turns += j.Turns
		s.InputTokens += j.InputTokens
		s.OutputTokens += j.OutputTokens
		s.CostUSD += j.Spent()
	}
	d.mu.Unlock()
	if !known {
		return nil, errorf(ErrNotFound, "no agent %q in the fleet or the job records: herdctlctl agents lists them", agent)
	}
	out := make([]*api.Session, 0, len(byID))
	for _, s := range byID {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *api.Session) int {
		if c := b.LastStarted.Compare(a.LastStarted); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Cost sums the job records per agent and local day, oldest day first
// and agents by name within a day.
func (d *Daemon) Cost(f api.CostFilter) []api.CostDay {
	type key struct{ agent, day string }
	rows := map[key]*api.CostDay{}
	// Formatting a day for each of 100k jobs is the cost of this call:
	// jobs mostly share days, so the last one is remembered.
	var lastY, lastD int
	var lastDay string
	d.mu.Lock()
	for _, j := range d.jobs {
		if (f.Agent != "" && j.Agent != f.Agent) || j.Started.Before(f.Since) {
			continue
		}
		t := j.Started.Local()
		if y, yd := t.Year(), t.YearDay(); y != lastY || yd != lastD || lastDay == "" {
			lastY, lastD, lastDay = y, yd, t.Format(api.DayLayout)
		}
		k := key{j.Agent, lastDay}
		r := rows[k]
		if r == nil {
			r = &api.CostDay{Agent: j.Agent, Day: lastDay}
			rows[k] = r
		}
		r.Jobs++
		r.Turns += j.Turns
		r.InputTokens += j.InputTokens
		r.OutputTokens += j.OutputTokens
		r.CostUSD += j.Spent()
	}
	d.mu.Unlock()
	out := make([]api.CostDay, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b api.CostDay) int {
		if c := strings.Compare(a.Day, b.Day); c != 0 {
			return c
		}
		return strings.Compare(a.Agent, b.Agent)
	})
	return out
}

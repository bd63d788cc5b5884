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
	// A session's first and last jobs are found by the index's order
	// and only they are named.
	type sums struct {
		s           *api.Session
		first, last jobKey
		t0, t1      int64
	}
	type skey struct {
		k     sessionKey
		flags uint8
	}
	bySession := map[skey]*sums{}
	x := &d.index
	for i := range x.entries {
		j := &x.entries[i]
		if !x.isAgent(j, agent) {
			continue
		}
		known = true
		kind := j.flags & (sessionUUID | sessionOdd)
		if kind == 0 {
			continue
		}
		sk := skey{j.session, kind}
		s := bySession[sk]
		if s == nil {
			s = &sums{s: &api.Session{ID: x.session(j), Agent: agent}, first: j.key(), last: j.key(), t0: j.started, t1: j.started}
			bySession[sk] = s
		}
		if j.started < s.t0 {
			s.first, s.t0 = j.key(), j.started
		}
		if j.started > s.t1 {
			s.last, s.t1 = j.key(), j.started
		}
		s.s.Jobs++
		s.s.Turns += int(j.turns)
		s.s.InputTokens += j.inputTokens
		s.s.OutputTokens += j.outputTokens
		s.s.CostUSD += j.spent
	}
	d.mu.Unlock()
	for _, s := range bySession {
		s.s.FirstJob, s.s.LastJob = s.first.String(), s.last.String()
		s.s.FirstStarted, s.s.LastStarted = nanosTime(s.t0), nanosTime(s.t1)
		byID[s.s.ID] = s.s
	}
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
	x := &d.index
	for i := range x.entries {
		j := &x.entries[i]
		started := j.startedAt()
		if (f.Agent != "" && !x.isAgent(j, f.Agent)) || started.Before(f.Since) {
			continue
		}
		t := started.Local()
		if y, yd := t.Year(), t.YearDay(); y != lastY || yd != lastD || lastDay == "" {
			lastY, lastD, lastDay = y, yd, t.Format(api.DayLayout)
		}
		k := key{x.agent(j), lastDay}
		r := rows[k]
		if r == nil {
			r = &api.CostDay{Agent: k.agent, Day: lastDay}
			rows[k] = r
		}
		r.Jobs++
		r.Turns += int(j.turns)
		r.InputTokens += j.inputTokens
		r.OutputTokens += j.outputTokens
		r.CostUSD += j.spent
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

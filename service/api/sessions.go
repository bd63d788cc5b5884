package api

import "time"

// Session is one Claude Code session of an agent, from the records of
// the jobs that ran in it (ListSessions).
type Session struct {
	ID           string    `json:"id"`
	Agent        string    `json:"agent"`
	FirstJob     string    `json:"first_job"`
	LastJob      string    `json:"last_job"`
	FirstStarted time.Time `json:"first_started"`
	LastStarted  time.Time `json:"last_started"`
	Jobs         int       `json:"jobs"`
	Turns        int       `json:"turns"`
	InputTokens  int64     `json:"input_tokens"`
	OutputTokens int64     `json:"output_tokens"`
	CostUSD      float64   `json:"cost_usd"`
}

// CostFilter narrows GetCost.
type CostFilter struct {
	Agent string    `json:"agent,omitempty"`
	Since time.Time `json:"since,omitzero"` // jobs started at or after it
}

// CostDay is what one agent's jobs started on one day cost (GetCost).
// Days are the host's local calendar days, as budgets count them.
type CostDay struct {
	Agent        string  `json:"agent"`
	Day          string  `json:"day"` // YYYY-MM-DD
	Jobs         int     `json:"jobs"`
	Turns        int     `json:"turns"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd"`
}

// DayLayout is how CostDay.Day is written.
const DayLayout = "2006-01-02"

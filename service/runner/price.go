package runner

import "strings"

// price is what a model charges per million tokens, in dollars.
type price struct{ input, output float64 }

// prices are Anthropic's list prices per model family, matched by the
// first prefix of the model name that fits (claude-opus-4-5 before
// claude-opus-4). Cache writes cost 1.25 times the input price, cache
// reads a tenth of it. They price what the API relay meters (a job's
// api_cost_usd) and a running job's cost for budget_action = "cancel";
// budgets and herdctlctl cost count the larger of that and Claude Code's
// own report (state.Job.Spent).
var prices = []struct {
	prefix string
	price
}{
	{"claude-opus-4-5", price{5, 25}},
	{"claude-opus-4-6", price{5, 25}},
	{"claude-opus-4", price{15, 75}},
	{"claude-3-opus", price{15, 75}},
	{"claude-sonnet", price{3, 15}},
	{"claude-3-5-sonnet", price{3, 15}},
	{"claude-3-7-sonnet", price{3, 15}},
	{"claude-haiku-4", price{1, 5}},
	{"claude-3-5-haiku", price{0.8, 4}},
	{"claude-3-haiku", price{0.25, 1.25}},
}

// unknownPrice is charged for a model not in the table: the dearest, so
// that a budget errs on the side of stopping.
var unknownPrice = price{15, 75}

// estimateCost prices what one message used.
func estimateCost(model string, u Usage) float64 {
	p := unknownPrice
	for _, e := range prices {
		if strings.HasPrefix(model, e.prefix) {
			p = e.price
			break
		}
	}
	in := float64(u.InputTokens) + 1.25*float64(u.CacheCreationInputTokens) + 0.1*float64(u.CacheReadInputTokens)
	return (in*p.input + float64(u.OutputTokens)*p.output) / 1e6
}

package state

import "fmt"

// USD is an amount in dollars as herdctl shows costs everywhere
// (herdctlctl's tables and views, the chat bridge's usage): four
// decimals, since a short job costs fractions of a cent.
func USD(v float64) string { return fmt.Sprintf("$%.4f", v) }

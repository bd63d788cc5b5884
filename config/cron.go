package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Cron is a parsed five-field cron expression. Each field holds the sorted
// values it allows. DomStar and DowStar record whether the day-of-month
// and day-of-week fields began with "*": as in Vixie cron, when neither
// did, a day matches if either field matches; otherwise both must.
type Cron struct {
	Expr    string
	Minute  []int // 0-59
	Hour    []int // 0-23
	Dom     []int // 1-31
	Month   []int // 1-12
	Dow     []int // 0-6, 0 is Sunday
	DomStar bool
	DowStar bool
}

var cronShorthands = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

var monthNames = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}

var dowNames = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

type cronField struct {
	name     string
	min, max int
	names    map[string]int
}

var cronFields = [5]cronField{
	{"minute", 0, 59, nil},
	{"hour", 0, 23, nil},
	{"day of month", 1, 31, nil},
	{"month", 1, 12, monthNames},
	{"day of week", 0, 7, dowNames},
}

// ParseCron parses "MIN HOUR DOM MONTH DOW" with *, lists, ranges, steps
// and names (jan, mon), or one of @hourly, @daily, @weekly, @monthly,
// @yearly.
func ParseCron(expr string) (*Cron, error) {
	s := strings.TrimSpace(expr)
	if strings.HasPrefix(s, "@") {
		full, ok := cronShorthands[strings.ToLower(s)]
		if !ok {
			return nil, fmt.Errorf("unsupported cron shorthand %q: use @hourly, @daily, @weekly, @monthly or @yearly (for @reboot, use an interval schedule)", s)
		}
		s = full
	}
	parts := strings.Fields(s)
	if len(parts) != 5 {
		return nil, fmt.Errorf("cron %q has %d fields, want 5: minute hour day-of-month month day-of-week, e.g. \"30 6 * * mon-fri\"", expr, len(parts))
	}
	c := &Cron{Expr: expr}
	out := [5]*[]int{&c.Minute, &c.Hour, &c.Dom, &c.Month, &c.Dow}
	for i, part := range parts {
		vals, err := parseCronField(part, cronFields[i])
		if err != nil {
			return nil, fmt.Errorf("cron %q: %s field %q: %v", expr, cronFields[i].name, part, err)
		}
		*out[i] = vals
	}
	c.DomStar = strings.HasPrefix(parts[2], "*")
	c.DowStar = strings.HasPrefix(parts[4], "*")
	return c, nil
}

func parseCronField(s string, f cronField) ([]int, error) {
	set := map[int]bool{}
	for _, item := range strings.Split(s, ",") {
		rng, stepStr, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("step %q must be a whole number of at least 1", stepStr)
			}
			step = n
		}
		var lo, hi int
		switch {
		case rng == "*":
			lo, hi = f.min, f.max
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if lo, err = cronValue(a, f); err != nil {
				return nil, err
			}
			if hi, err = cronValue(b, f); err != nil {
				return nil, err
			}
			if lo > hi {
				return nil, fmt.Errorf("range %s runs backwards: write the smaller value first", rng)
			}
		default:
			v, err := cronValue(rng, f)
			if err != nil {
				return nil, err
			}
			lo, hi = v, v
			if hasStep {
				hi = f.max
			}
		}
		for v := lo; v <= hi; v += step {
			set[v] = true
		}
	}
	if f.max == 7 && set[7] { // Sunday is both 0 and 7
		delete(set, 7)
		set[0] = true
	}
	vals := make([]int, 0, len(set))
	for v := f.min; v <= f.max; v++ {
		if set[v] {
			vals = append(vals, v)
		}
	}
	return vals, nil
}

func cronValue(s string, f cronField) (int, error) {
	if v, ok := f.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		if f.names != nil {
			return 0, fmt.Errorf("%q is not a number from %d to %d or a name like %s", s, f.min, f.max, exampleName(f))
		}
		return 0, fmt.Errorf("%q is not a number from %d to %d", s, f.min, f.max)
	}
	if v < f.min || v > f.max {
		return 0, fmt.Errorf("%d is out of range: allowed %d to %d", v, f.min, f.max)
	}
	return v, nil
}

func exampleName(f cronField) string {
	if f.max == 12 {
		return "jan"
	}
	return "mon"
}

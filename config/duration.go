package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MinRetention is the shortest [fleet] retention: a day, so that a
// slip of the unit ("90m") cannot prune the day's jobs.
const MinRetention = 24 * time.Hour

// ParseDuration reads durations as schedules write them: a number and a
// unit, s, m, h or d, possibly several in a row ("90s", "15m", "72h",
// "2d", "1h30m").
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("invalid duration %q: write a number and a unit s, m, h or d, e.g. 90s, 15m, 72h, 2d", s)
	rest := strings.TrimSpace(s)
	if rest == "" {
		return 0, bad
	}
	var total time.Duration
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, bad
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, bad
		}
		var unit time.Duration
		switch rest[i] {
		case 's':
			unit = time.Second
		case 'm':
			unit = time.Minute
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		default:
			return 0, bad
		}
		if n > int64((100*365*24*time.Hour)/unit) {
			return 0, fmt.Errorf("invalid duration %q: longer than 100 years", s)
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	return total, nil
}

// ParseBytes reads a size such as "512m", "2g", "64k" or a plain number of
// bytes; the unit may be written in either case and with a trailing "b".
func ParseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	t = strings.TrimSuffix(t, "i")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("invalid size %q: write a number with k, m or g, e.g. 512m or 2g", s)
	}
	return n * mult, nil
}

package config

import (
	"strconv"
	"strings"
	"time"
)

// Standard writes c in the plain numeric five-field form every cron reads
// alike (Kubernetes' CronJob among them): each field "*" when it allows
// every value, else a list of numbers and ranges ("1-5,7"), Sunday 0. The
// day fields keep cron's rule: a day matches when both fields do, but
// when either, if both were restricted (neither began with "*"). ok is
// false when no such form fires at exactly c's times: both day fields
// restricted, one of them written "*/N", where c needs both to match and
// two plain lists would match either.
func (c *Cron) Standard() (expr string, ok bool) {
	domAll, dowAll := len(c.Dom) == 31, len(c.Dow) == 7
	dom, dow := cronList(c.Dom, 31), cronList(c.Dow, 7)
	switch {
	case !c.DomStar && !c.DowStar:
		// Either day: a field that allows every day makes every day match.
		if domAll || dowAll {
			dom, dow = "*", "*"
		}
	case !domAll && !dowAll:
		// Both days, and neither field can be written "*".
		return "", false
	}
	return strings.Join([]string{cronList(c.Minute, 60), cronList(c.Hour, 24), dom, cronList(c.Month, 12), dow}, " "), true
}

// cronList writes sorted values as "*" when there are all n of them, else
// as numbers and ranges of three or more.
func cronList(vals []int, n int) string {
	if len(vals) == n {
		return "*"
	}
	var parts []string
	for i := 0; i < len(vals); {
		j := i
		for j+1 < len(vals) && vals[j+1] == vals[j]+1 {
			j++
		}
		if j-i >= 2 {
			parts = append(parts, strconv.Itoa(vals[i])+"-"+strconv.Itoa(vals[j]))
		} else {
			for k := i; k <= j; k++ {
				parts = append(parts, strconv.Itoa(vals[k]))
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// IntervalCron is the cron expression that fires every d, when one does
// exactly: a whole number of minutes that divides an hour, of hours that
// divides a day, one day, or one week. Cron fires on the clock (every
// 15 minutes is :00, :15, :30, :45), while an interval timer on one host
// counts from its last job; the spacing is the same. ok is false for any
// other interval (7m, 90m, 2d), which no cron expression spaces evenly.
func IntervalCron(d time.Duration) (expr string, ok bool) {
	switch {
	case d <= 0 || d%time.Minute != 0:
		return "", false
	case d == time.Minute:
		return "* * * * *", true
	case d < time.Hour && time.Hour%d == 0:
		return "*/" + strconv.Itoa(int(d/time.Minute)) + " * * * *", true
	case d == time.Hour:
		return "0 * * * *", true
	case d < 24*time.Hour && d%time.Hour == 0 && (24*time.Hour)%d == 0:
		return "0 */" + strconv.Itoa(int(d/time.Hour)) + " * * *", true
	case d == 24*time.Hour:
		return "0 0 * * *", true
	case d == 7*24*time.Hour:
		return "0 0 * * 0", true
	}
	return "", false
}

package units

import (
	"fmt"
	"strings"

	"github.com/herdctl/herdctl/config"
)

var weekdayNames = [8]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// OnCalendar turns a cron expression into systemd OnCalendar= expressions
// that fire at exactly the same times. Cron matches a day when either the
// day-of-month or the day-of-week field matches if both are restricted,
// while systemd requires both: that case becomes two expressions.
func OnCalendar(c *config.Cron) []string {
	month := formatField(c.Month, 1, 12, "%02d")
	dom := formatField(c.Dom, 1, 31, "%02d")
	hour := formatField(c.Hour, 0, 23, "%02d")
	minute := formatField(c.Minute, 0, 59, "%02d")
	tm := fmt.Sprintf("%s:%s:00", hour, minute)
	dow := formatWeekdays(c.Dow)
	if !c.DomStar && !c.DowStar {
		return []string{
			fmt.Sprintf("%s *-%s-* %s", dow, month, tm),
			fmt.Sprintf("*-%s-%s %s", month, dom, tm),
		}
	}
	line := fmt.Sprintf("*-%s-%s %s", month, dom, tm)
	if dow != "" {
		line = dow + " " + line
	}
	return []string{line}
}

// formatField writes a sorted set of values as "*" when it is the whole
// range, and otherwise as a list whose runs of three or more become a..b.
func formatField(vals []int, min, max int, format string) string {
	if len(vals) == max-min+1 {
		return "*"
	}
	return compress(vals, func(v int) string { return fmt.Sprintf(format, v) })
}

// formatWeekdays writes cron weekdays (0 = Sunday) in systemd's order,
// Monday first; all seven days is "" (no weekday restriction).
func formatWeekdays(dow []int) string {
	if len(dow) == 7 {
		return ""
	}
	monFirst := make([]int, 0, len(dow))
	for _, d := range dow {
		if d != 0 {
			monFirst = append(monFirst, d)
		}
	}
	if len(dow) > 0 && dow[0] == 0 {
		monFirst = append(monFirst, 7)
	}
	return compress(monFirst, func(v int) string { return weekdayNames[v] })
}

func compress(vals []int, name func(int) string) string {
	var parts []string
	for i := 0; i < len(vals); {
		j := i
		for j+1 < len(vals) && vals[j+1] == vals[j]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, name(vals[i])+".."+name(vals[j]))
		default:
			for k := i; k <= j; k++ {
				parts = append(parts, name(vals[k]))
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

package units

import (
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/config"
)

// cronCases are checked against systemd itself: the firings systemd
// computes for our OnCalendar= lines must equal the firings of the cron
// expression, computed independently below.
var cronCases = []string{
	"* * * * *",
	"*/15 * * * *",
	"0 * * * *",
	"30 6 * * *",
	"0 0 * * *",
	"5,35 */2 * * *",
	"0 9-17 * * mon-fri",
	"0 9-17/2 * * 1-5",
	"15 10 * * sat,sun",
	"0 0 1 * *",
	"0 0 1,15 * *",
	"0 12 1-7 * *",
	"0 12 1-7 * mon",
	"0 8 1 * sun",
	"0 0 13 * fri",
	"30 2 */5 * *",
	"0 0 * jan *",
	"0 0 1 jan,jul *",
	"0 6 * mar-may *",
	"0 0 29 2 *",
	"0 0 31 * *",
	"0 0 * * 0",
	"0 0 * * 7",
	"0 0 * * 6-7",
	"0 0 * * 5-7",
	"0 3 * * */2",
	"0 3 */2 * 1",
	"0 3 1 * */2",
	"59 23 31 12 *",
	"0 0 L",
	"0-10/3 1 * * *",
	"7/20 * * * *",
	"0 22 * * 1-5",
	"0 0,12 1 */3 *",
	"45 4 1,10,20 * tue,thu",
	"*/10 8-10 * feb-apr mon,wed,fri",
	"0 0 15 6 3",
	"1,2,3,5,8,13,21,34,55 * * * *",
	"0 0 1-31/10 * *",
	"0 0 * * TUE",
	"0 0 1 DEC *",
	"@hourly",
	"@daily",
	"@midnight",
	"@weekly",
	"@monthly",
	"@yearly",
	"@annually",
}

func TestCronAgainstSystemd(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (apt-get install systemd)")
	}
	base := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	checked := 0
	for _, expr := range cronCases {
		c, err := config.ParseCron(expr)
		if err != nil {
			if expr == "0 0 L" {
				continue // not a five-field expression: refusal tested elsewhere
			}
			t.Errorf("%q: %v", expr, err)
			continue
		}
		cals := OnCalendar(c)
		got := systemdFirings(t, cals, base, 20)
		want := cronFirings(t, expr, base, len(got))
		if len(got) != 20 {
			t.Errorf("%q → %q: systemd gave %d firings, want 20", expr, cals, len(got))
		}
		if !equalTimes(got, want) {
			t.Errorf("%q → %q:\nsystemd: %v\ncron:    %v", expr, cals, got, want)
		}
		checked++
	}
	if checked < 40 {
		t.Fatalf("only %d expressions checked, want at least 40", checked)
	}
}

func systemdFirings(t *testing.T, cals []string, base time.Time, n int) []time.Time {
	t.Helper()
	re := regexp.MustCompile(`(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC`)
	seen := map[time.Time]bool{}
	var all []time.Time
	for _, cal := range cals {
		cmd := exec.Command("systemd-analyze", "calendar", "--iterations="+strconv.Itoa(n),
			"--base-time=@"+strconv.FormatInt(base.Unix(), 10), cal)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("systemd-analyze calendar %q: %v\n%s", cal, err, out)
		}
		for _, m := range re.FindAllStringSubmatch(string(out), -1) {
			tm, err := time.Parse("2006-01-02 15:04:05", m[1])
			if err != nil {
				t.Fatal(err)
			}
			if !seen[tm] {
				seen[tm] = true
				all = append(all, tm)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Before(all[j]) })
	if len(all) > n {
		all = all[:n]
	}
	return all
}

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// cronFirings is an independent, deliberately plain reading of cron
// (Vixie semantics): it walks day by day and minute by minute.
func cronFirings(t *testing.T, expr string, base time.Time, n int) []time.Time {
	t.Helper()
	short := map[string]string{"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
		"@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
	if s, ok := short[expr]; ok {
		expr = s
	}
	f := strings.Fields(expr)
	names := map[string]int{}
	for i, m := range []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} {
		names[m] = i + 1
	}
	for i, d := range []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} {
		names[d] = i
	}
	match := func(field string, v, lo, hi int) bool {
		for _, item := range strings.Split(field, ",") {
			step := 1
			if i := strings.Index(item, "/"); i >= 0 {
				step, _ = strconv.Atoi(item[i+1:])
				item = item[:i]
				if item != "*" && !strings.Contains(item, "-") {
					item += "-" + strconv.Itoa(hi)
				}
			}
			num := func(s string) int {
				if x, ok := names[strings.ToLower(s)]; ok {
					return x
				}
				x, _ := strconv.Atoi(s)
				return x
			}
			a, b := lo, hi
			if item != "*" {
				parts := strings.SplitN(item, "-", 2)
				a = num(parts[0])
				b = a
				if len(parts) == 2 {
					b = num(parts[1])
				}
			}
			for x := a; x <= b; x += step {
				if x == v || (hi == 7 && x == 7 && v == 0) {
					return true
				}
			}
		}
		return false
	}
	var out []time.Time
	day := time.Date(base.Year(), base.Month(), base.Day(), 0, 0, 0, 0, time.UTC)
	for d := 0; d < 366*400 && len(out) < n; d++ {
		cur := day.AddDate(0, 0, d)
		if !match(f[3], int(cur.Month()), 1, 12) {
			continue
		}
		domOK := match(f[2], cur.Day(), 1, 31)
		dowOK := match(f[4], int(cur.Weekday()), 0, 7)
		var dayOK bool
		if strings.HasPrefix(f[2], "*") || strings.HasPrefix(f[4], "*") {
			dayOK = domOK && dowOK
		} else {
			dayOK = domOK || dowOK
		}
		if !dayOK {
			continue
		}
		for h := 0; h < 24 && len(out) < n; h++ {
			if !match(f[1], h, 0, 23) {
				continue
			}
			for m := 0; m < 60 && len(out) < n; m++ {
				tm := cur.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
				if tm.After(base) && match(f[0], m, 0, 59) {
					out = append(out, tm)
				}
			}
		}
	}
	return out
}

func TestCronRefused(t *testing.T) {
	cases := map[string]string{
		"0 0 L":          "has 3 fields, want 5",
		"@reboot":        "for @reboot, use an interval schedule",
		"60 * * * *":     "minute field \"60\": 60 is out of range: allowed 0 to 59",
		"* 24 * * *":     "hour field \"24\": 24 is out of range",
		"* * 0 * *":      "day of month field \"0\": 0 is out of range: allowed 1 to 31",
		"* * * 13 *":     "month field \"13\"",
		"* * * * 8":      "day of week field \"8\"",
		"5-1 * * * *":    "range 5-1 runs backwards",
		"*/0 * * * *":    "step \"0\" must be a whole number of at least 1",
		"* * * foo *":    "\"foo\" is not a number from 1 to 12 or a name like jan",
		"0 0 ? * *":      "\"?\" is not a number from 1 to 31",
		"0 0 * * mon#2":  "\"mon#2\" is not a number from 0 to 7 or a name like mon",
		"a b c d e f":    "has 6 fields",
		"":               "has 0 fields",
		"* * * * * 2026": "has 6 fields",
	}
	for expr, want := range cases {
		_, err := config.ParseCron(expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseCron(%q) = %v, want an error containing %q", expr, err, want)
		}
	}
}

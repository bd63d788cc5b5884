package config

import (
	"testing"
	"time"
)

func TestIntervalCron(t *testing.T) {
	cases := []struct {
		name string
		d    time.Duration
		want string // "" when there is no exact form
	}{
		{"one minute", time.Minute, "* * * * *"},
		{"fifteen minutes", 15 * time.Minute, "*/15 * * * *"},
		{"thirty minutes", 30 * time.Minute, "*/30 * * * *"},
		{"an hour", time.Hour, "0 * * * *"},
		{"two hours", 2 * time.Hour, "0 */2 * * *"},
		{"twelve hours", 12 * time.Hour, "0 */12 * * *"},
		{"a day", 24 * time.Hour, "0 0 * * *"},
		{"a week", 7 * 24 * time.Hour, "0 0 * * 0"},
		{"seven minutes does not divide an hour", 7 * time.Minute, ""},
		{"ninety minutes", 90 * time.Minute, ""},
		{"five hours does not divide a day", 5 * time.Hour, ""},
		{"two days cross months unevenly", 48 * time.Hour, ""},
		{"seconds", 90 * time.Second, ""},
		{"thirty seconds", 30 * time.Second, ""},
		{"zero", 0, ""},
	}
	for _, c := range cases {
		got, ok := IntervalCron(c.d)
		if ok != (c.want != "") || got != c.want {
			t.Errorf("%s: IntervalCron(%v) = %q, %v; want %q", c.name, c.d, got, ok, c.want)
		}
		if ok {
			if _, err := ParseCron(got); err != nil {
				t.Errorf("%s: %q does not parse: %v", c.name, got, err)
			}
		}
	}
}

func TestCronStandard(t *testing.T) {
	cases := []struct {
		name, expr, want string // want "" when there is no exact form
	}{
		{"every minute", "* * * * *", "* * * * *"},
		{"names become numbers", "30 6 * jan-mar mon-fri", "30 6 * 1-3 1-5"},
		{"sunday as 7", "0 0 * * 7", "0 0 * * 0"},
		{"steps become lists", "*/20 */6 * * *", "0,20,40 0,6,12,18 * * *"},
		{"shorthand", "@weekly", "0 0 * * 0"},
		{"both days restricted match either", "0 0 1,15 * mon", "0 0 1,15 * 1"},
		{"a stepped day with a star day", "0 0 */2 * *", "0 0 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 * *"},
		{"a stepped day with a restricted weekday needs both", "0 0 */2 * mon", ""},
		{"two stepped days need both", "0 0 */2 * */2", ""},
		{"every day of the month or mondays is every day", "0 0 1-31 * mon", "0 0 * * *"},
		{"the first or any weekday is every day", "0 0 1 * 0-6", "0 0 * * *"},
		{"a stepped day on any weekday", "0 0 */2 * 0-6", "0 0 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 * *"},
	}
	for _, c := range cases {
		cr, err := ParseCron(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, ok := cr.Standard()
		if ok != (c.want != "") || got != c.want {
			t.Errorf("%s: Standard(%q) = %q, %v; want %q", c.name, c.expr, got, ok, c.want)
			continue
		}
		if ok {
			back, err := ParseCron(got)
			if err != nil {
				t.Fatalf("%s: %q does not parse: %v", c.name, got, err)
			}
			if again, _ := back.Standard(); again != got {
				t.Errorf("%s: %q reads back as %q", c.name, got, again)
			}
		}
	}
}

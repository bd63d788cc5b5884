package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/herdctl/herdctl/service/api"
)

// colour is on when stdout is a terminal and NO_COLOR is not set.
var colour = func() bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	_, err := unix.IoctlGetTermios(int(os.Stdout.Fd()), unix.TCGETS)
	return err == nil
}()

func paint(code, s string) string {
	if !colour || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// status colours a job status the way systemctl colours unit states.
func status(s string) string {
	switch s {
	case api.StatusCompleted:
		return paint("32", s)
	case api.StatusRunning, api.StatusQueued:
		return paint("1;33", s)
	case api.StatusFailed, api.StatusTimedOut:
		return paint("1;31", s)
	}
	return s
}

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// since is a time relative to now: "in 3h 12m", "5m ago", "-" if zero.
func since(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(now)
	if d > 0 {
		return "in " + human(d)
	}
	if -d < time.Second {
		return "just now"
	}
	return human(-d) + " ago"
}

// human writes a duration with its two largest units: "3h 12m", "42s".
func human(d time.Duration) string {
	d = d.Round(time.Second)
	parts := []struct {
		n    time.Duration
		unit string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	var out []string
	for _, p := range parts {
		if d >= p.n || (len(out) == 0 && p.unit == "s") {
			out = append(out, fmt.Sprintf("%d%s", d/p.n, p.unit))
			d %= p.n
		}
		if len(out) == 2 {
			break
		}
	}
	return strings.Join(out, " ")
}

func schedDesc(s api.Schedule) string {
	if s.Type == "interval" {
		return "every " + human(s.Every)
	}
	return "cron " + s.Cron
}

func duration(j api.Job) string {
	if j.Finished == nil {
		if j.Status == api.StatusRunning {
			return human(time.Since(j.Started))
		}
		return "-"
	}
	return human(time.Duration(j.DurationMS) * time.Millisecond)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

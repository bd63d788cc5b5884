package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// AgentLogDay counts what an agent's jobs put into the journal today.
func (l Layout) AgentLogDay(agent string) string {
	return filepath.Join(l.AgentDir(agent), "journal-today")
}

// FleetLogDay counts what all jobs put into the journal today.
func (l Layout) FleetLogDay() string { return filepath.Join(l.StateDir, "journal-today") }

// LogPool is one daily journal budget shared by concurrent jobs: a file
// holding the day and the bytes used, changed under an exclusive lock.
type LogPool struct {
	Path  string
	Limit int64 // bytes a day
}

// Reserve takes up to n bytes from the pool for today and returns how
// many it got (0 when the day's budget is spent).
func (p LogPool) Reserve(now time.Time, n int64) (int64, error) {
	var got int64
	err := p.update(now, func(used int64) int64 {
		got = min(n, max(p.Limit-used, 0))
		return used + got
	})
	return got, err
}

// Release gives back n bytes reserved today and not used.
func (p LogPool) Release(now time.Time, n int64) error {
	return p.update(now, func(used int64) int64 { return max(used-n, 0) })
}

// Used is what the pool has handed out today.
func (p LogPool) Used(now time.Time) int64 {
	b, err := readCapped(p.Path, 128)
	if err != nil {
		return 0
	}
	day, used := parseLogDay(string(b))
	if day != now.UTC().Format(time.DateOnly) {
		return 0
	}
	return used
}

func (p LogPool) update(now time.Time, f func(used int64) int64) error {
	if err := os.MkdirAll(filepath.Dir(p.Path), 0o755); err != nil {
		return err
	}
	fd, err := unix.Open(p.Path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w", p.Path, err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		return err
	}
	buf := make([]byte, 128)
	n, _ := unix.Pread(fd, buf, 0)
	today := now.UTC().Format(time.DateOnly)
	day, used := parseLogDay(string(buf[:max(n, 0)]))
	if day != today {
		used = 0
	}
	line := []byte(today + " " + strconv.FormatInt(f(used), 10) + "\n")
	if err := unix.Ftruncate(fd, 0); err != nil {
		return err
	}
	_, err = unix.Pwrite(fd, line, 0)
	return err
}

func parseLogDay(s string) (string, int64) {
	day, n, _ := strings.Cut(strings.TrimSpace(s), " ")
	used, _ := strconv.ParseInt(n, 10, 64)
	return day, used
}

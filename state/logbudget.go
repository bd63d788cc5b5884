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
	used, _ := strconv.ParseInt(readDayFile(p.Path, logDay(now)), 10, 64)
	return used
}

func (p LogPool) update(now time.Time, f func(used int64) int64) error {
	return updateDayFile(p.Path, logDay(now), func(old string) string {
		used, _ := strconv.ParseInt(old, 10, 64)
		return strconv.FormatInt(f(used), 10)
	})
}

// logDay is the day journal budgets count in: UTC, like journald's
// timestamps on disk.
func logDay(now time.Time) string { return now.UTC().Format(time.DateOnly) }

// readDayFile reads the value a day file holds for day ("" for another
// day, or no file).
func readDayFile(path, day string) string {
	b, err := ReadFileCapped(path, 128)
	if err != nil {
		return ""
	}
	d, v, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	if d != day {
		return ""
	}
	return v
}

// updateDayFile replaces the value a file holds for day with f of the
// old one ("" when the file holds another day), under an exclusive lock:
// "DAY VALUE\n". Concurrent jobs share such files.
func updateDayFile(path, day string, f func(old string) string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		return err
	}
	buf := make([]byte, 128)
	n, _ := unix.Pread(fd, buf, 0)
	d, old, _ := strings.Cut(strings.TrimSpace(string(buf[:max(n, 0)])), " ")
	if d != day {
		old = ""
	}
	line := []byte(day + " " + f(old) + "\n")
	if err := unix.Ftruncate(fd, 0); err != nil {
		return err
	}
	_, err = unix.Pwrite(fd, line, 0)
	return err
}

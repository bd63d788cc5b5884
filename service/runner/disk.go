package runner

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// usage is what a tree holds.
type usage struct {
	bytes, inodes int64
}

// measure adds up the blocks and inodes under each of dirs (the job's
// binds of the workspace and the home), walking by descriptor without
// following a symbolic link, and stops as soon as the limits are passed:
// an agent's tree is never walked further than its limit.
func measure(dirs []string, maxBytes, maxInodes int64) (usage, error) {
	var u usage
	var walk func(fd int) error
	walk = func(fd int) error {
		f := os.NewFile(uintptr(fd), "")
		defer f.Close()
		for {
			entries, err := f.ReadDir(256)
			for _, e := range entries {
				var st unix.Stat_t
				if err := unix.Fstatat(fd, e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
					continue // gone meanwhile
				}
				u.inodes++
				u.bytes += st.Blocks * 512
				if u.bytes > maxBytes || u.inodes > maxInodes {
					return nil
				}
				if st.Mode&unix.S_IFMT == unix.S_IFDIR {
					sub, err := unix.Openat(fd, e.Name(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
					if err != nil {
						continue
					}
					if err := walk(sub); err != nil {
						return err
					}
					if u.bytes > maxBytes || u.inodes > maxInodes {
						return nil
					}
				}
			}
			if err != nil || len(entries) == 0 {
				return nil
			}
		}
	}
	for _, d := range dirs {
		fd, err := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return u, fmt.Errorf("measuring %s: %w", d, err)
		}
		if err := walk(fd); err != nil {
			return u, err
		}
	}
	return u, nil
}

// diskLimit is the reason a job was stopped for its disk use.
type diskLimit struct {
	u                   usage
	maxBytes, maxInodes int64
}

func (e *diskLimit) Error() string {
	return fmt.Sprintf("disk limit: the workspace and home hold more than %s or %d files and directories (counted so far: %s, %d); free space there, or raise docker.disk or docker.inodes in the fleet file",
		humanSize(e.maxBytes), e.maxInodes, humanSize(e.u.bytes), e.u.inodes)
}

// checkDisk returns a *diskLimit when dirs hold more than the limits.
func checkDisk(dirs []string, maxBytes, maxInodes int64) error {
	u, err := measure(dirs, maxBytes, maxInodes)
	if err != nil {
		return err
	}
	if u.bytes > maxBytes || u.inodes > maxInodes {
		return &diskLimit{u: u, maxBytes: maxBytes, maxInodes: maxInodes}
	}
	return nil
}

// watchDisk checks dirs every interval until ctx ends, and calls stop
// with a *diskLimit the first time they hold more than the limits. The
// interval grows with the time a walk takes (at least 20 times it), so a
// big tree costs the host little.
func watchDisk(ctx context.Context, dirs []string, maxBytes, maxInodes int64, interval time.Duration, stop func(error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		start := time.Now()
		if err := checkDisk(dirs, maxBytes, maxInodes); err != nil {
			if _, ok := err.(*diskLimit); ok {
				stop(err)
				return
			}
		}
		interval = max(interval, 20*time.Since(start))
	}
}

func humanSize(v int64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(v)/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(v)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", v>>10)
}

package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// usage is what a tree holds.
type usage struct {
	bytes, inodes int64
	depth         int // set when the tree nests deeper than maxDiskDepth
}

// maxDiskDepth bounds how deep directories may nest under a workspace or
// a home: the walk holds a descriptor per level, and an agent must not be
// able to hide data below where the walk can reach.
const maxDiskDepth = 256

// measure adds up the blocks and inodes under each of dirs (the job's
// binds of the workspace and the home), walking by descriptor without
// following a symbolic link, and stops as soon as the limits are passed:
// an agent's tree is never walked further than its limit. An entry that
// vanishes meanwhile is skipped; any other failure to look is an error
// (the walk fails closed); a tree deeper than maxDiskDepth is over the
// limit.
func measure(dirs []string, maxBytes, maxInodes int64) (usage, error) {
	var u usage
	over := func() bool { return u.bytes > maxBytes || u.inodes > maxInodes || u.depth > maxDiskDepth }
	gone := func(err error) bool { return err == unix.ENOENT || err == unix.ELOOP || err == unix.ENOTDIR }
	var walk func(fd, depth int) error
	walk = func(fd, depth int) error {
		f := os.NewFile(uintptr(fd), "")
		defer f.Close()
		if depth > maxDiskDepth {
			u.depth = depth
			return nil
		}
		for {
			entries, err := f.ReadDir(256)
			for _, e := range entries {
				var st unix.Stat_t
				if err := unix.Fstatat(fd, e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
					if gone(err) {
						continue
					}
					return fmt.Errorf("measuring the disk use: %w", err)
				}
				u.inodes++
				u.bytes += st.Blocks * 512
				if over() {
					return nil
				}
				if st.Mode&unix.S_IFMT == unix.S_IFDIR {
					sub, err := unix.Openat(fd, e.Name(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
					if err != nil {
						if gone(err) {
							continue
						}
						return fmt.Errorf("measuring the disk use: %w", err)
					}
					if err := walk(sub, depth+1); err != nil {
						return err
					}
					if over() {
						return nil
					}
				}
			}
			if len(entries) == 0 || err != nil {
				if err != nil && err != io.EOF {
					return fmt.Errorf("measuring the disk use: %w", err)
				}
				return nil
			}
		}
	}
	for _, d := range dirs {
		fd, err := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return u, fmt.Errorf("measuring %s: %w", d, err)
		}
		if err := walk(fd, 1); err != nil {
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
	if e.u.depth > maxDiskDepth {
		return fmt.Sprintf("disk limit: the workspace or home nests directories more than %d deep, deeper than herdctl counts; flatten the tree", maxDiskDepth)
	}
	return fmt.Sprintf("disk limit: the workspace and home hold more than %s or %d files and directories (counted so far: %s, %d); free space there, or raise docker.disk or docker.inodes in the fleet file",
		humanSize(e.maxBytes), e.maxInodes, humanSize(e.u.bytes), e.u.inodes)
}

// checkDisk returns a *diskLimit when dirs hold more than the limits.
func checkDisk(dirs []string, maxBytes, maxInodes int64) error {
	u, err := measure(dirs, maxBytes, maxInodes)
	if err != nil {
		return err
	}
	if u.bytes > maxBytes || u.inodes > maxInodes || u.depth > maxDiskDepth {
		return &diskLimit{u: u, maxBytes: maxBytes, maxInodes: maxInodes}
	}
	return nil
}

// watchDisk checks dirs every interval until ctx ends, and calls stop
// with a *diskLimit the first time they hold more than the limits. The
// interval grows with the time a walk takes (at least 20 times it), so a
// big tree costs the host little.
func watchDisk(ctx context.Context, dirs []string, maxBytes, maxInodes int64, interval time.Duration, stop func(error)) {
	failed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		start := time.Now()
		err := checkDisk(dirs, maxBytes, maxInodes)
		switch _, limit := err.(*diskLimit); {
		case limit:
			stop(err)
			return
		case err != nil:
			// A walk that cannot look (out of descriptors, say) fails
			// closed, after a few tries: the limit is not a guess.
			if failed++; failed >= maxDiskFailures {
				stop(fmt.Errorf("disk limit: the workspace and home could not be measured %d times in a row (%v); the job is stopped so that the limit holds", failed, err))
				return
			}
		default:
			failed = 0
		}
		interval = max(interval, 20*time.Since(start))
	}
}

// maxDiskFailures is how many walks in a row may fail before a job is
// stopped for it.
const maxDiskFailures = 3

func humanSize(v int64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(v)/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(v)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", v>>10)
}

package runner

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/herdctl/herdctl/internal/safepath"
)

// scratch is a job's root-only directory (state.Layout.JobScratch): the
// host image's root and /etc, the task's fifos, and mnt/, where the runner
// binds each host directory the container gets from a descriptor it
// opened and checked (safepath). The container's spec names those mount
// points, never a path an agent could change, so a swap of a workspace
// for a symbolic link after the check changes nothing.
//
// mnt/ is a private mount of its own, so the binds under it do not
// propagate to other mount namespaces; they are visible to containerd and
// runc, which share the runner's.
type scratch struct {
	dir string
	mnt string
}

func newScratch(dir string) (*scratch, error) {
	// What a runner killed earlier may have left.
	if err := removeScratch(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("the job's scratch directory: %w", err)
	}
	s := &scratch{dir: dir, mnt: filepath.Join(dir, "mnt")}
	if err := os.Mkdir(s.mnt, 0o700); err != nil {
		return nil, fmt.Errorf("the job's scratch directory: %w", err)
	}
	if err := unix.Mount(s.mnt, s.mnt, "", unix.MS_BIND, ""); err != nil {
		return nil, fmt.Errorf("mounting the job's scratch directory: %w", err)
	}
	if err := unix.Mount("", s.mnt, "", unix.MS_PRIVATE, ""); err != nil {
		s.remove()
		return nil, fmt.Errorf("mounting the job's scratch directory: %w", err)
	}
	return s, nil
}

// bind binds what h holds at mnt/name and returns that path. The mount is
// read-write: the container's own mount decides ro or rw.
func (s *scratch) bind(h *safepath.Handle, name string) (string, error) {
	target := filepath.Join(s.mnt, name)
	if h.IsDir() {
		if err := os.Mkdir(target, 0o700); err != nil {
			return "", err
		}
	} else {
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return "", err
		}
		f.Close()
	}
	if err := unix.Mount(h.ProcPath(), target, "", unix.MS_BIND, ""); err != nil {
		return "", fmt.Errorf("binding %s: %w", h.Path, err)
	}
	return target, nil
}

// remove unmounts everything under the scratch directory and removes it.
func (s *scratch) remove() error { return removeScratch(s.dir) }

// removeScratch unmounts every mount at or below dir, deepest first, and
// only then removes the tree: removing it while a workspace is still
// bound there would delete the workspace's files. If a mount stays, the
// tree stays.
func removeScratch(dir string) error {
	mounts, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmounting %s: %w", m, err)
		}
	}
	if left, err := mountsUnder(dir); err != nil || len(left) > 0 {
		return fmt.Errorf("%s still has mounts %v (%v): left in place", dir, left, err)
	}
	return os.RemoveAll(dir)
}

// mountsUnder lists the mount points at or below dir in this process's
// mount namespace.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

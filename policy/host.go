package policy

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Host is what Resolve needs to know about the machine. OSHost reads the
// real one; tests pass their own.
type Host interface {
	// Owner returns the owner of path, which must be a directory.
	Owner(path string) (uid, gid uint32, err error)
	// RealPath resolves symlinks in an absolute path.
	RealPath(path string) (string, error)
	// HomeDirs lists the users' home directories.
	HomeDirs() []string
	// LookPath finds a program on PATH.
	LookPath(name string) (string, error)
}

// OSHost is the Host of the running machine.
type OSHost struct{}

// Owner implements Host.
func (OSHost) Owner(path string) (uint32, uint32, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	if !st.IsDir() {
		return 0, 0, fmt.Errorf("%s is not a directory", path)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, fmt.Errorf("cannot read the owner of %s", path)
	}
	return sys.Uid, sys.Gid, nil
}

// RealPath implements Host.
func (OSHost) RealPath(path string) (string, error) { return filepath.EvalSymlinks(path) }

// LookPath implements Host.
func (OSHost) LookPath(name string) (string, error) { return exec.LookPath(name) }

// HomeDirs implements Host from /etc/passwd.
func (OSHost) HomeDirs() []string {
	fh, err := os.Open("/etc/passwd")
	if err != nil {
		return nil
	}
	defer fh.Close()
	var dirs []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) >= 6 && strings.HasPrefix(f[5], "/") && f[5] != "/" && f[5] != "/nonexistent" {
			dirs = append(dirs, filepath.Clean(f[5]))
		}
	}
	return dirs
}

// onceHost asks its Host for the home directories once: a fleet of a
// thousand agents would read /etc/passwd a thousand times.
type onceHost struct {
	Host
	homes []string
	read  bool
}

// HomeDirs implements Host.
func (h *onceHost) HomeDirs() []string {
	if !h.read {
		h.homes, h.read = h.Host.HomeDirs(), true
	}
	return h.homes
}

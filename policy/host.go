package policy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/herdctl/herdctl/internal/safepath"
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

// Owner implements Host. The directory is reached as safepath does: no
// symbolic link but root's own in root's directories.
func (OSHost) Owner(path string) (uint32, uint32, error) {
	h, err := safepath.OpenDir(path)
	if err != nil {
		return 0, 0, err
	}
	defer h.Close()
	return h.UID(), h.GID(), nil
}

// RealPath implements Host: the canonical path, following only root's own
// symbolic links in root's directories (an agent's link is an error).
func (OSHost) RealPath(path string) (string, error) {
	h, err := safepath.Resolve(filepath.Clean(path))
	if err != nil {
		return "", err
	}
	defer h.Close()
	return h.Path, nil
}

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

// onceHost asks its Host each question once per fleet load: a fleet of a
// thousand agents would otherwise read /etc/passwd, search PATH and
// resolve herdctl's own directories a thousand times each.
type onceHost struct {
	Host
	homes    []string
	homesSet bool
	look     map[string]lookResult
	real     map[string]lookResult
}

type lookResult struct {
	path string
	err  error
}

// HomeDirs implements Host.
func (h *onceHost) HomeDirs() []string {
	if !h.homesSet {
		h.homes, h.homesSet = h.Host.HomeDirs(), true
	}
	return h.homes
}

// LookPath implements Host.
func (h *onceHost) LookPath(name string) (string, error) {
	if r, ok := h.look[name]; ok {
		return r.path, r.err
	}
	p, err := h.Host.LookPath(name)
	if h.look == nil {
		h.look = map[string]lookResult{}
	}
	h.look[name] = lookResult{p, err}
	return p, err
}

// RealPath implements Host. Only successes are kept: a workspace that is
// missing now may be there for the next agent's question.
func (h *onceHost) RealPath(path string) (string, error) {
	if r, ok := h.real[path]; ok {
		return r.path, nil
	}
	p, err := h.Host.RealPath(path)
	if err == nil {
		if h.real == nil {
			h.real = map[string]lookResult{}
		}
		h.real[path] = lookResult{path: p}
	}
	return p, err
}

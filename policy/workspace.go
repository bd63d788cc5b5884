package policy

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/herdctl/herdctl/config"
)

// systemTrees are trees no workspace may be in or be: the kernel's
// interfaces, the host's programs and configuration, and herdctl's own state.
var systemTrees = []string{"/proc", "/sys", "/dev", "/boot", "/usr", "/etc", "/run", "/bin", "/sbin", "/lib", "/lib64", "/var/lib/containerd", "/var/log"}

// resolveWorkspace finds the agent's workspace on the host and refuses
// the dangerous ones: "/", "~", a home root, any system tree, and any
// directory holding the fleet file, the env file or herdctl's state.
func resolveWorkspace(f *config.Fleet, a *config.AgentConfig, opts Options) (string, *config.Error) {
	loc := a.Where("working_directory")
	wd := a.WorkingDirectory
	fromAgentFile := wd != "" && loc.File == a.File
	base := filepath.Dir(loc.File)
	if wd == "" {
		wd, base = filepath.Dir(a.File), ""
		loc = config.Location{File: a.File, Line: 1, Col: 1, Field: "working_directory"}
	}
	if strings.HasPrefix(wd, "~") {
		return "", config.Errorf(loc, "%q: ~ is not expanded and a home directory is never a workspace; give an absolute path to a directory for this agent alone", wd)
	}
	if !filepath.IsAbs(wd) {
		wd = filepath.Join(base, wd)
	}
	wd = filepath.Clean(wd)
	real, err := opts.Host.RealPath(wd)
	if err != nil {
		return "", config.Errorf(loc, "workspace %s: %v: create the directory (owned by the agent's user) or fix the path", wd, unwrap(err))
	}
	if fromAgentFile {
		// An agent file may sit in the workspace it describes; if it could
		// point anywhere, an agent could move itself next to the host's
		// secrets. It may only narrow to its own directory or below, to
		// a directory of the same owner: else it could move another
		// user's directory in and run as that user.
		own, err := opts.Host.RealPath(filepath.Dir(a.File))
		if err == nil && !within(real, own) {
			return "", config.Errorf(loc, "workspace %s is outside the agent file's directory %s: an agent file may only choose a workspace at or below its own directory; set working_directory in the fleet's [agents.overrides] instead", real, own)
		}
		if a.Docker.User == "" {
			du, _, derr := opts.Host.Owner(own)
			wu, _, werr := opts.Host.Owner(real)
			if derr == nil && werr == nil && du != wu {
				return "", config.Errorf(loc, "workspace %s belongs to uid %d, but the agent file's directory %s to uid %d: an agent file may only choose a directory of its own owner; chown it, or set working_directory in the fleet's [agents.overrides]", real, wu, own, du)
			}
		}
	}
	if msg := refuseWorkspace(real, f, opts); msg != "" {
		return "", config.Errorf(loc, "workspace %s %s", real, msg)
	}
	return real, nil
}

// privateTmpDir is the temporary directory (/tmp or /var/tmp) that holds
// p when the daemon has its own (opts.PrivateTmp), else "": what the
// daemon sees there is not what the host and jobs see.
func privateTmpDir(p string, opts Options) string {
	if opts.PrivateTmp {
		for _, t := range []string{"/tmp", "/var/tmp"} {
			if within(p, t) {
				return t
			}
		}
	}
	return ""
}

func refuseWorkspace(dir string, f *config.Fleet, opts Options) string {
	if dir == "/" {
		return "is the root directory: give each agent a directory of its own"
	}
	for _, h := range append([]string{"/home", "/root"}, opts.Host.HomeDirs()...) {
		if dir == h {
			return "is a home directory root: make a directory for the agent inside it instead"
		}
	}
	if t := privateTmpDir(dir, opts); t != "" {
		return fmt.Sprintf("is under %s, which herdctl.service cannot see (PrivateTmp=: it has a %s of its own): put the workspace under /srv or /var/lib", t, t)
	}
	for _, t := range systemTrees {
		if within(dir, t) {
			return fmt.Sprintf("is inside %s, a system directory: give the agent a directory of its own, e.g. under /srv", t)
		}
	}
	guarded := map[string]string{
		filepath.Dir(f.File):    "the fleet file",
		filepath.Dir(f.EnvFile): "the env file",
		opts.StateDir:           "herdctl's state",
		opts.RuntimeDir:         "herdctl's runtime files",
	}
	for p, what := range guarded {
		if p == "" {
			continue
		}
		if real, err := opts.Host.RealPath(p); err == nil {
			p = real
		}
		if within(p, dir) {
			return fmt.Sprintf("holds %s (%s): an agent must never see it; move the workspace elsewhere", what, p)
		}
	}
	return ""
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	if dir == "/" {
		return true
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}

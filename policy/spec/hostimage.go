package spec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/policy/claudecli"
)

// The built-in image (policy.HostImage) is the host's own /usr, bound
// read-only into an otherwise empty, read-only root, with a synthetic
// /etc: no registry is needed and the host's programs (claude among them)
// run inside. Everything about it is in this file.

// HostRoot is one job's host image: its root and its /etc on the host.
type HostRoot struct {
	Dir string // the root: symlinks into usr and empty mount points
	Etc string // the synthetic /etc
}

// hostUsrLinks are the top-level directories that are symlinks into usr
// (merged /usr).
var hostUsrLinks = []string{"bin", "lib", "lib64", "sbin"}

// PrepareHostRoot lays out the host image for one job of a under scratch
// (a root-only directory of the job's): the root's skeleton and the
// synthetic /etc.
func PrepareHostRoot(scratch string, a *policy.Agent) (*HostRoot, error) {
	r := &HostRoot{Dir: filepath.Join(scratch, "rootfs"), Etc: filepath.Join(scratch, "etc")}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return nil, err
	}
	for _, l := range hostUsrLinks {
		if _, err := os.Lstat(filepath.Join("/usr", l)); err != nil {
			continue
		}
		if err := os.Symlink("usr/"+l, filepath.Join(r.Dir, l)); err != nil && !os.IsExist(err) {
			return nil, err
		}
	}
	for _, m := range skeletonDirs(a) {
		if err := os.MkdirAll(filepath.Join(r.Dir, m), 0o755); err != nil {
			return nil, err
		}
	}
	if err := openModes(r.Dir); err != nil {
		return nil, err
	}
	if err := os.Chmod(filepath.Join(r.Dir, "tmp"), 0o1777); err != nil {
		return nil, err
	}
	if a.Claude.Path != "" && len(a.Command) == 0 {
		// The claude binary is bound onto a file.
		p := filepath.Join(r.Dir, claudecli.Binary)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		fh, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		fh.Close()
	}
	if err := writeEtc(r.Etc, a); err != nil {
		return nil, fmt.Errorf("writing the container's /etc: %w", err)
	}
	if err := openModes(r.Etc); err != nil {
		return nil, err
	}
	return r, nil
}

// openModes makes the tree at dir readable by the agent's user whatever
// the runner's umask (its unit has UMask=0077): directories 0755, files
// 0644. Nothing in it is writable but by root.
func openModes(dir string) error {
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.Type()&os.ModeSymlink != 0:
			return nil
		case d.IsDir():
			return os.Chmod(p, 0o755)
		default:
			return os.Chmod(p, 0o644)
		}
	})
}

// skeletonDirs are the mount points of the root.
func skeletonDirs(a *policy.Agent) []string {
	dirs := []string{"usr", "etc", "tmp", "proc", "sys", "dev", "run", "var/tmp",
		claudecli.HomeIn(a.Name)[1:], policy.WorkspaceDir[1:], filepath.Dir(claudecli.Binary)[1:]}
	for _, t := range a.Container.Tmpfs {
		dirs = append(dirs, t.Path[1:])
	}
	for _, v := range a.Container.Volumes {
		dirs = append(dirs, v.Target[1:])
	}
	return dirs
}

// EtcFiles is the synthetic /etc of agent a: passwd and group holding
// root, nobody and the agent's user, hosts, resolv.conf (the host's only
// with network = "host"), nsswitch.conf and hostname.
func EtcFiles(a *policy.Agent, hostResolv string) map[string]string {
	uid, gid := a.Container.UID, a.Container.GID
	user := a.Name
	if uid == 0 {
		user = "root"
	}
	var passwd, group strings.Builder
	passwd.WriteString("root:x:0:0:root:/root:/usr/sbin/nologin\n")
	group.WriteString("root:x:0:\n")
	if uid != 0 {
		fmt.Fprintf(&passwd, "%s:x:%d:%d:herdctl agent:%s:/bin/sh\n", user, uid, gid, claudecli.HomeIn(a.Name))
	}
	if gid != 0 {
		fmt.Fprintf(&group, "%s:x:%d:\n", user, gid)
	}
	passwd.WriteString("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
	group.WriteString("nogroup:x:65534:\n")
	resolv := "# herdctl: this agent has no network\n"
	if a.Container.Network == policy.NetworkHost {
		resolv = hostResolv
	}
	return map[string]string{
		"passwd":        passwd.String(),
		"group":         group.String(),
		"hosts":         fmt.Sprintf("127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t%s\n", a.Name),
		"hostname":      a.Name + "\n",
		"resolv.conf":   resolv,
		"nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
	}
}

func writeEtc(dir string, a *policy.Agent) error {
	if err := os.MkdirAll(filepath.Join(dir, "ssl", "certs"), 0o755); err != nil {
		return err
	}
	resolv := ""
	if a.Container.Network == policy.NetworkHost {
		b, _ := os.ReadFile("/etc/resolv.conf")
		resolv = string(b)
	}
	for name, content := range EtcFiles(a, resolv) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// withHostImageMounts binds the host's /usr, the synthetic /etc and the
// host's CA certificates, all read-only.
func withHostImageMounts(r *HostRoot) Opt {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		s.Mounts = append(s.Mounts, bind("/usr", "/usr", true), bind(r.Etc, "/etc", true),
			bind("/etc/ssl/certs", "/etc/ssl/certs", true))
		return nil
	}
}

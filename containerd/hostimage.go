package containerd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// HostImage is the name of the built-in image: the host's own /usr, bound
// read-only into an otherwise empty root, with a synthetic /etc. No
// registry is needed and the host's programs (claude among them) run
// inside.
const HostImage = "host"

// PrepareHostRoot makes dir the root of a host-image container: bin, lib,
// lib64 and sbin are symlinks into usr (merged /usr), and every mount
// point exists. files are mount points that are files (a bound binary).
func PrepareHostRoot(dir string, mountPoints, files []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, l := range []string{"bin", "lib", "lib64", "sbin"} {
		if _, err := os.Lstat(filepath.Join("/usr", l)); err != nil {
			continue
		}
		if err := os.Symlink("usr/"+l, filepath.Join(dir, l)); err != nil && !os.IsExist(err) {
			return err
		}
	}
	for _, m := range mountPoints {
		if err := os.MkdirAll(filepath.Join(dir, m), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		fh, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		fh.Close()
	}
	return nil
}

// Etc describes the synthetic /etc of a host-image container.
type Etc struct {
	User        string
	UID, GID    uint32
	Home        string
	Hostname    string
	HostNetwork bool // copy the host's resolv.conf (only with network = "host")
}

// WriteEtc writes the synthetic /etc into dir: passwd and group holding
// root, nobody and the agent's user, hosts, resolv.conf, nsswitch.conf,
// hostname, and the mount point for the host's CA certificates.
func WriteEtc(dir string, e Etc) error {
	if err := os.MkdirAll(filepath.Join(dir, "ssl", "certs"), 0o755); err != nil {
		return err
	}
	resolv := "# herdctl: this agent has no network\n"
	if e.HostNetwork {
		if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
			resolv = string(b)
		}
	}
	user := e.User
	if e.UID == 0 {
		user = "root"
	}
	var passwd, group strings.Builder
	passwd.WriteString("root:x:0:0:root:/root:/usr/sbin/nologin\n")
	group.WriteString("root:x:0:\n")
	if e.UID != 0 {
		fmt.Fprintf(&passwd, "%s:x:%d:%d:herdctl agent:%s:/bin/sh\n", user, e.UID, e.GID, e.Home)
	}
	if e.GID != 0 {
		fmt.Fprintf(&group, "%s:x:%d:\n", user, e.GID)
	}
	passwd.WriteString("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
	group.WriteString("nogroup:x:65534:\n")
	files := map[string]string{
		"passwd":        passwd.String(),
		"group":         group.String(),
		"hosts":         fmt.Sprintf("127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t%s\n", e.Hostname),
		"hostname":      e.Hostname + "\n",
		"resolv.conf":   resolv,
		"nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

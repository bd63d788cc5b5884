package policy

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/contrib/seccomp"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Paths inside every agent container.
const (
	WorkspaceDir      = "/workspace"
	ClaudeInContainer = "/opt/herdctl/bin/claude"
)

// HomeIn is the agent's home directory inside its container.
func HomeIn(agent string) string { return "/home/" + agent }

// JobSpec is what changes from one job to the next; the rest of the spec
// comes from the resolved Agent.
type JobSpec struct {
	ID     string   // the job id, the container's hostname suffix
	Args   []string // the process, from ClaudeArgs or the fleet's command
	Env    []string // extra KEY=VALUE for this job (the prompt of a command agent)
	Rootfs string   // host path of the container's root (host image), or "" for an image snapshot
	EtcDir string   // host path of the synthetic /etc (host image)
}

// SpecOpt is one change to a spec, in containerd's style.
type SpecOpt = oci.SpecOpts

// Spec builds the locked-down OCI spec of one job of agent a: no
// capabilities in any set, no_new_privileges, the default seccomp profile,
// containerd's masked and read-only paths, a non-root user, the limits,
// and only the mounts the fleet granted.
func Spec(ctx context.Context, a *Agent, j JobSpec) (*specs.Spec, error) {
	ctx = namespaces.WithNamespace(ctx, "herdctl")
	opts := []oci.SpecOpts{
		oci.WithProcessArgs(j.Args...),
		oci.WithProcessCwd(WorkspaceDir),
		oci.WithEnv(jobEnv(a, j)),
		oci.WithHostname(a.Name),
		oci.WithUIDGID(a.Container.UID, a.Container.GID),
		WithNoCapabilities(),
		oci.WithNoNewPrivileges,
		oci.WithPidsLimit(a.Container.PidsLimit),
		oci.WithMemoryLimit(uint64(a.Container.MemoryBytes)),
		oci.WithMemorySwap(a.Container.MemoryBytes),
		WithCPU(a.Container.CPUShares, a.Container.CPUPeriod, a.Container.CPUQuota),
		WithNetwork(a.Container.Network),
		WithAgentMounts(a, j),
	}
	if j.Rootfs != "" {
		// The host image: the root is a skeleton of symlinks and mount
		// points; nothing in it is writable.
		opts = append(opts, oci.WithRootFSPath(j.Rootfs), oci.WithRootFSReadonly())
	} else if a.Container.ReadonlyRootfs {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	// Last: the seccomp profile is derived from the (empty) capabilities.
	opts = append(opts, WithDefaultSeccomp())
	return oci.GenerateSpec(ctx, nil, &containers.Container{ID: j.ID}, opts...)
}

// WithNoCapabilities empties all five capability sets.
func WithNoCapabilities() oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		s.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding: []string{}, Effective: []string{}, Permitted: []string{},
			Inheritable: []string{}, Ambient: []string{},
		}
		return nil
	}
}

// WithDefaultSeccomp applies containerd's default seccomp profile for the
// spec's capabilities.
func WithDefaultSeccomp() oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		s.Linux.Seccomp = seccomp.DefaultProfile(s)
		return nil
	}
}

// WithCPU sets CPU shares and the CFS quota when they are not zero.
func WithCPU(shares, period uint64, quota int64) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		if shares == 0 && period == 0 && quota == 0 {
			return nil
		}
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		if s.Linux.Resources.CPU == nil {
			s.Linux.Resources.CPU = &specs.LinuxCPU{}
		}
		cpu := s.Linux.Resources.CPU
		if shares != 0 {
			cpu.Shares = &shares
		}
		if period != 0 {
			cpu.Period = &period
		}
		if quota != 0 {
			cpu.Quota = &quota
		}
		return nil
	}
}

// WithNetwork gives the task its own network namespace holding only
// loopback ("none"), or the host's ("host", only when the fleet grants it).
func WithNetwork(mode string) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *specs.Spec) error {
		switch mode {
		case "none":
			return oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace})(ctx, c, ctr, s)
		case "host":
			return oci.WithHostNamespace(specs.NetworkNamespace)(ctx, c, ctr, s)
		}
		return fmt.Errorf("network %q is not supported", mode)
	}
}

// WithAgentMounts adds the workspace, the home, /tmp, the synthetic /etc
// and the host's /usr (host image), the claude binary, extra tmpfs and
// the fleet's volumes. Everything from the host is nosuid and nodev.
func WithAgentMounts(a *Agent, j JobSpec) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		bind := func(src, dst string, ro bool) specs.Mount {
			o := []string{"bind", "nosuid", "nodev"}
			if ro {
				o = append(o, "ro")
			} else {
				o = append(o, "rw")
			}
			return specs.Mount{Type: "bind", Source: src, Destination: dst, Options: o}
		}
		var m []specs.Mount
		if j.Rootfs != "" {
			m = append(m, bind("/usr", "/usr", true), bind(j.EtcDir, "/etc", true),
				bind("/etc/ssl/certs", "/etc/ssl/certs", true))
		}
		if a.Claude.Path != "" && len(a.Command) == 0 {
			m = append(m, bind(a.Claude.Path, ClaudeInContainer, true))
		}
		m = append(m,
			bind(a.Workspace, WorkspaceDir, a.WorkspaceMode == "ro"),
			bind(a.Home, HomeIn(a.Name), false),
		)
		hasTmp := false
		for _, t := range a.Container.Tmpfs {
			hasTmp = hasTmp || t.Path == "/tmp"
			m = append(m, specs.Mount{Type: "tmpfs", Source: "tmpfs", Destination: t.Path, Options: t.Options})
		}
		if !hasTmp {
			m = append(m, specs.Mount{Type: "tmpfs", Source: "tmpfs", Destination: "/tmp",
				Options: []string{"nosuid", "nodev", "mode=1777", fmt.Sprintf("size=%d", a.Container.TmpSize)}})
		}
		for _, v := range a.Container.Volumes {
			m = append(m, bind(v.Source, v.Target, v.ReadOnly))
		}
		s.Mounts = append(s.Mounts, m...)
		return nil
	}
}

// CredentialVars are passed from the fleet's env file to Claude Code
// without being listed in docker.env.
var CredentialVars = []string{"ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_BASE_URL"}

func jobEnv(a *Agent, j JobSpec) []string {
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin:/opt/herdctl/bin",
		"HOME=" + HomeIn(a.Name),
		"USER=" + a.Name,
		"LANG=C.UTF-8",
		"DISABLE_AUTOUPDATER=1",
		"HERDCTL_AGENT=" + a.Name,
		"HERDCTL_JOB=" + j.ID,
	}
	keys := make([]string, 0, len(a.Container.Env))
	for k := range a.Container.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+a.Container.Env[k])
	}
	return append(env, j.Env...)
}

// SkeletonDirs are the mount points the host image's root needs; the
// root itself stays read-only. bin, lib, lib64 and sbin are symlinks into
// usr (merged /usr).
func SkeletonDirs(a *Agent) []string {
	dirs := []string{"usr", "etc", "tmp", "proc", "sys", "dev", "run", "var/tmp",
		filepath.Join("home", a.Name), WorkspaceDir[1:], "opt/herdctl/bin"}
	for _, t := range a.Container.Tmpfs {
		dirs = append(dirs, t.Path[1:])
	}
	for _, v := range a.Container.Volumes {
		dirs = append(dirs, v.Target[1:])
	}
	return dirs
}

package spec

import (
	"context"
	"fmt"
	"strconv"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/contrib/seccomp"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/policy/claudecli"
)

// Job is what changes from one job to the next; the rest of the spec
// comes from the resolved agent.
type Job struct {
	ID   string   // the job id
	Args []string // the process, from claudecli.Args or the fleet's command
	Env  []string // extra KEY=VALUE for this job (the prompt of a command agent)
	// Workspace is the host path bound at /workspace: the runner's
	// mount of the workspace it opened and checked, never a path an
	// agent can change.
	Workspace string
	// Home is the host path of the agent's home.
	Home string
	// Volumes are the host paths bound for the fleet's volumes, in their
	// order: the runner's mounts of what it opened and checked.
	Volumes []string
	// Root is the job's host image root (HostImageRoot), or "" when the
	// agent runs on an OCI image snapshot.
	Root *HostRoot
}

// Opt is one change to a spec, in containerd's style.
type Opt = oci.SpecOpts

// Build builds the locked-down OCI spec of one job of agent a: no
// capabilities in any set, no_new_privileges, the default seccomp profile
// without io_uring, containerd's masked and read-only paths, a non-root
// user, the limits, and only the mounts the fleet granted.
func Build(ctx context.Context, a *policy.Agent, j Job) (*specs.Spec, error) {
	ctx = namespaces.WithNamespace(ctx, a.Containerd.Namespace)
	opts := []oci.SpecOpts{
		oci.WithProcessArgs(j.Args...),
		oci.WithProcessCwd(policy.WorkspaceDir),
		oci.WithEnv(Env(a, j)),
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
	if j.Root != nil {
		// The host image: the root is a skeleton of symlinks and mount
		// points; nothing in it is writable.
		opts = append(opts, oci.WithRootFSPath(j.Root.Dir), oci.WithRootFSReadonly(), withHostImageMounts(j.Root))
	} else if a.Container.ReadonlyRootfs {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	// Last: the seccomp profile is derived from the (empty) capabilities.
	opts = append(opts, WithDefaultSeccomp())
	return oci.GenerateSpec(ctx, nil, &containers.Container{ID: j.ID}, opts...)
}

// WithNoCapabilities empties all five capability sets.
func WithNoCapabilities() Opt {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		s.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding: []string{}, Effective: []string{}, Permitted: []string{},
			Inheritable: []string{}, Ambient: []string{},
		}
		return nil
	}
}

// deniedSyscalls are taken out of containerd's default profile: io_uring
// bypasses seccomp for the operations it queues and has been a steady
// source of kernel escapes; Claude Code does not use it.
var deniedSyscalls = map[string]bool{"io_uring_setup": true, "io_uring_enter": true, "io_uring_register": true}

// WithDefaultSeccomp applies containerd's default seccomp profile for the
// spec's capabilities, without the io_uring calls.
func WithDefaultSeccomp() Opt {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		p := seccomp.DefaultProfile(s)
		for i := range p.Syscalls {
			names := p.Syscalls[i].Names[:0]
			for _, n := range p.Syscalls[i].Names {
				if !deniedSyscalls[n] {
					names = append(names, n)
				}
			}
			p.Syscalls[i].Names = names
		}
		s.Linux.Seccomp = p
		return nil
	}
}

// WithCPU sets CPU shares and the CFS quota when they are not zero.
func WithCPU(shares, period uint64, quota int64) Opt {
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
// loopback ("none"; "egress", where the runner adds its proxy), or the
// host's ("host", only when the fleet grants it).
func WithNetwork(mode string) Opt {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *specs.Spec) error {
		switch mode {
		case policy.NetworkNone, policy.NetworkEgress:
			return oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace})(ctx, c, ctr, s)
		case policy.NetworkHost:
			return oci.WithHostNamespace(specs.NetworkNamespace)(ctx, c, ctr, s)
		}
		return fmt.Errorf("network %q is not supported", mode)
	}
}

// bind is a bind mount from the host, always nosuid and nodev.
func bind(src, dst string, ro bool) specs.Mount {
	o := []string{"bind", "nosuid", "nodev"}
	if ro {
		o = append(o, "ro")
	} else {
		o = append(o, "rw")
	}
	return specs.Mount{Type: "bind", Source: src, Destination: dst, Options: o}
}

// WithAgentMounts adds the workspace, the home, /tmp, the claude binary,
// extra tmpfs and the fleet's volumes. Everything from the host is nosuid
// and nodev.
func WithAgentMounts(a *policy.Agent, j Job) Opt {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		var m []specs.Mount
		if a.Claude.Path != "" && len(a.Command) == 0 {
			m = append(m, bind(a.Claude.Path, claudecli.Binary, true))
		}
		m = append(m,
			bind(j.Workspace, policy.WorkspaceDir, a.WorkspaceMode == "ro"),
			bind(j.Home, claudecli.HomeIn(a.Name), false),
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
		for i, v := range a.Container.Volumes {
			src := v.Source
			if i < len(j.Volumes) {
				src = j.Volumes[i]
			}
			m = append(m, bind(src, v.Target, v.ReadOnly))
		}
		s.Mounts = append(s.Mounts, m...)
		return nil
	}
}

// Env is the container's environment: herdctl's own variables (the
// egress proxy on the namespace's own loopback), the fleet's docker.env
// and credentials, then the job's.
func Env(a *policy.Agent, j Job) []string {
	proxy := "http://127.0.0.1:" + strconv.Itoa(policy.ProxyPort)
	return append(claudecli.Env(a, j.ID, proxy), j.Env...)
}

package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/herdctl/herdctl/config"
)

// Options are the host facts and directories Resolve works with.
type Options struct {
	Host Host // OSHost if nil
	// StateDir and RuntimeDir are herdctl's own directories (package
	// state's layout): no workspace may hold them.
	StateDir, RuntimeDir string
	// PrivateTmp says /tmp and /var/tmp are not the host's to the daemon
	// (herdctl.service has PrivateTmp=): workspaces there are refused.
	PrivateTmp bool
}

func (o *Options) fill() {
	if o.Host == nil {
		o.Host = OSHost{}
	}
}

// ResolveFleet resolves every agent of the fleet. An agent that fails is
// left out and added to the fleet's broken agents with its errors; the
// others resolve regardless.
func ResolveFleet(f *config.Fleet, opts Options) ([]*Agent, []config.BrokenAgent, error) {
	opts.fill()
	opts.Host = &onceHost{Host: opts.Host}
	broken := append([]config.BrokenAgent(nil), f.Broken...)
	var out []*Agent
	tokens := chatTokens{}
	for _, a := range f.Agents {
		r, err := Resolve(f, a, opts)
		if err == nil {
			err = tokens.claim(a, r)
		}
		if err != nil {
			var errs config.Errors
			if !errors.As(err, &errs) {
				return nil, nil, err
			}
			broken = append(broken, config.BrokenAgent{Entry: a.Where("name"), File: a.File, Name: a.Name, Errors: errs})
			continue
		}
		out = append(out, r)
	}
	return out, broken, nil
}

// Resolve checks one agent against the tiers and the limits and returns
// its complete job description. A non-nil error is a config.Errors.
func Resolve(f *config.Fleet, a *config.AgentConfig, opts Options) (*Agent, error) {
	opts.fill()
	errs := checkTiers(a)
	bad := func(path, format string, args ...any) {
		errs = append(errs, config.Errorf(a.Where(path), format, args...))
	}
	r := &Agent{
		Fleet:               f.Name,
		Name:                a.Name,
		Description:         a.Description,
		File:                a.File,
		DefaultPrompt:       a.DefaultPrompt,
		Command:             a.Command,
		MaxConcurrent:       orInt(a.Instances.MaxConcurrent, DefaultMaxConcurrent),
		Timeout:             orDuration(a.Parsed.Timeout, DefaultTimeout),
		LogBudget:           orInt64(a.Parsed.LogBudget, DefaultLogBudget),
		LogBudgetDaily:      orInt64(a.Parsed.LogBudgetDaily, DefaultLogBudgetDaily),
		FleetLogBudgetDaily: orInt64(f.LogBudgetDaily, DefaultFleetLogDaily),
		Containerd: Containerd{
			Address:   orString(f.Containerd.Address, DefaultContainerd),
			Namespace: orString(f.Containerd.Namespace, DefaultNamespace),
		},
	}
	if r.MaxConcurrent > MaxMaxConcurrent {
		bad("instances.max_concurrent", "%d is more than the %d allowed", r.MaxConcurrent, MaxMaxConcurrent)
	}
	var hookErrs config.Errors
	r.Hooks, hookErrs = resolveHooks(f, a)
	errs = append(errs, hookErrs...)
	r.Budget = Budget{PerDay: a.MaxCostUSDPerDay, PerJob: a.MaxCostUSDPerJob, Action: orString(a.BudgetAction, BudgetSkip)}
	r.Claude = Claude{
		Path:           f.ClaudePath,
		Model:          a.Model,
		MaxTurns:       a.MaxTurns,
		PermissionMode: orString(a.PermissionMode, DefaultPermissionMode),
		SystemPrompt:   a.SystemPrompt,
		AllowedTools:   a.AllowedTools,
		DeniedTools:    a.DeniedTools,
	}
	if r.Claude.Path == "" {
		r.Claude.Path, _ = opts.Host.LookPath("claude")
	}
	if len(a.MCPServers) > 0 {
		b, err := json.Marshal(map[string]any{"mcpServers": a.MCPServers})
		if err != nil {
			bad("mcp_servers", "%v", err)
		}
		r.Claude.MCPConfig = string(b)
	}

	ws, werr := resolveWorkspace(f, a, opts)
	if werr != nil {
		errs = append(errs, werr)
	}
	r.Workspace = ws
	r.WorkspaceMode = orString(a.Docker.WorkspaceMode, "rw")

	r.Schedules, errs = resolveSchedules(a, r, errs)
	var cerrs config.Errors
	r.Container, cerrs = resolveContainer(a, ws, opts)
	errs = append(errs, cerrs...)
	r.Container.Env, r.Container.SecretEnv = sealSecrets(withCredentials(r.Container.Env, f.Env), f.Env)
	if len(r.Container.SecretEnv) > 0 {
		r.Container.EnvFile = f.EnvFile
	}
	var chatErrs config.Errors
	r.Chat, chatErrs = resolveChat(f, a)
	errs = append(errs, chatErrs...)
	errs = append(errs, checkCeilings(a, r)...)
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

func resolveSchedules(a *config.AgentConfig, r *Agent, errs config.Errors) ([]Schedule, config.Errors) {
	names := make([]string, 0, len(a.Schedules))
	for n := range a.Schedules {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Schedule, 0, len(names))
	for _, n := range names {
		s := a.Schedules[n]
		at := func(field string) config.Location { return a.Where("schedules." + n + "." + field) }
		rs := Schedule{
			Name:          n,
			Type:          s.Type,
			Prompt:        orString(s.Prompt, a.DefaultPrompt),
			Enabled:       orBool(s.Enabled, true),
			ResumeSession: orBool(s.ResumeSession, false),
			CatchUp:       orBool(s.CatchUp, true),
			Timeout:       r.Timeout,
		}
		// Package config parsed and checked the syntax.
		ps := a.Parsed.Schedules[n]
		rs.Interval, rs.Cron, rs.Jitter = ps.Interval, ps.Cron, ps.Jitter
		if s.Timeout != "" {
			rs.Timeout = ps.Timeout
			if rs.Timeout < time.Second {
				errs = append(errs, config.Errorf(at("timeout"), "must be at least 1s"))
			}
		}
		if rs.Prompt == "" && len(r.Command) == 0 {
			errs = append(errs, config.Errorf(a.Where("schedules."+n), "no prompt: set prompt here or default_prompt for the agent"))
		}
		out = append(out, rs)
	}
	return out, errs
}

var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var tmpfsOptRe = regexp.MustCompile(`^(size=[0-9]+[kmgKMG]?|mode=[0-7]{3,4}|noexec|exec|ro|rw|nosuid|nodev|uid=[0-9]+|gid=[0-9]+)$`)

func resolveContainer(a *config.AgentConfig, workspace string, opts Options) (Container, config.Errors) {
	var errs config.Errors
	bad := func(path, format string, args ...any) {
		errs = append(errs, config.Errorf(a.Where("docker."+path), format, args...))
	}
	d := a.Docker
	c := Container{
		Image:          orString(d.Image, DefaultImage),
		Network:        orString(d.Network, DefaultNetwork),
		MemoryBytes:    DefaultMemory,
		PidsLimit:      orInt64(d.PidsLimit, DefaultPidsLimit),
		TmpSize:        DefaultTmpSize,
		Env:            d.Env,
		Labels:         d.Labels,
		ReadonlyRootfs: orBool(d.HostConfig.ReadonlyRootfs, false),
		Ephemeral:      orBool(d.Ephemeral, true),
		MaxContainers:  orInt(d.MaxContainers, DefaultMaxContainers),
		DiskBytes:      orInt64(a.Parsed.Disk, DefaultDisk),
		Inodes:         orInt64(d.Inodes, DefaultInodes),
	}
	switch c.Network {
	case NetworkNone, NetworkHost:
		if len(d.Egress)+len(d.EgressPrivate) > 0 {
			bad("egress", "egress and egress_private apply to network = \"egress\" only; this agent's network is %q", c.Network)
		}
	case NetworkEgress:
		c.Egress, c.EgressPrivate, errs = resolveEgress(a, errs)
	default:
		bad("network", "invalid network %q: use %s (loopback only, the default), %s (loopback and a proxy to the fleet's egress list) or %s (the host's network)", c.Network, NetworkNone, NetworkEgress, NetworkHost)
	}
	if strings.ContainsAny(c.Image, " \t\n") {
		bad("image", "%q is not an image reference: use \"host\" or a reference like docker.io/library/debian:12", c.Image)
	}
	if d.Memory != "" {
		c.MemoryBytes = a.Parsed.Memory
		if c.MemoryBytes < MinMemory {
			bad("memory", "%s is below the floor of 64m", d.Memory)
		}
	}
	if d.HostConfig.TmpSize != "" {
		c.TmpSize = a.Parsed.TmpSize
		if c.TmpSize < MinTmpSize {
			bad("host_config.tmp_size", "%s is below the floor of 1m", d.HostConfig.TmpSize)
		}
	}
	if c.PidsLimit < MinPidsLimit || c.PidsLimit > MaxPidsLimit {
		bad("pids_limit", "%d is out of range: allowed %d to %d (Claude Code needs a few dozen)", c.PidsLimit, MinPidsLimit, MaxPidsLimit)
	}
	if d.CPUShares != 0 {
		if d.CPUShares < MinCPUShares || d.CPUShares > MaxCPUShares {
			bad("cpu_shares", "%d is out of range: allowed %d to %d", d.CPUShares, MinCPUShares, MaxCPUShares)
		}
		c.CPUShares = uint64(d.CPUShares)
	}
	if d.CPUPeriod != 0 {
		if d.CPUPeriod < MinCPUPeriod || d.CPUPeriod > MaxCPUPeriod {
			bad("cpu_period", "%d is out of range: allowed %d to %d microseconds", d.CPUPeriod, MinCPUPeriod, MaxCPUPeriod)
		}
		c.CPUPeriod = uint64(d.CPUPeriod)
	}
	if d.CPUQuota != 0 {
		if d.CPUQuota != -1 && d.CPUQuota < MinCPUQuota {
			bad("cpu_quota", "%d is too small: use -1 (no quota) or at least %d microseconds", d.CPUQuota, MinCPUQuota)
		}
		c.CPUQuota = d.CPUQuota
		if c.CPUPeriod == 0 {
			c.CPUPeriod = 100000
		}
	}
	if !c.Ephemeral {
		// Say so rather than ignore it: every job's container is removed
		// when the job ends.
		bad("ephemeral", "false is not supported yet: every job runs in a new container that is removed when the job ends; remove ephemeral = false (state that must last belongs in the workspace or the agent's home)")
	}
	if c.MaxContainers < 1 || c.MaxContainers > MaxMaxContainers {
		bad("max_containers", "%d is out of range: allowed 1 to %d", c.MaxContainers, MaxMaxContainers)
	}
	for i, t := range d.Tmpfs {
		p, o, _ := strings.Cut(t, ":")
		tm := Tmpfs{Path: filepath.Clean(p), Options: []string{"nosuid", "nodev"}}
		if !filepath.IsAbs(p) || tm.Path == "/" || tm.Path == WorkspaceDir {
			bad(fmt.Sprintf("tmpfs[%d]", i), "%q: write an absolute path other than / and /workspace, optionally with options, e.g. \"/cache:size=64m\"", t)
			continue
		}
		if o != "" {
			for _, opt := range strings.Split(o, ",") {
				if !tmpfsOptRe.MatchString(opt) {
					bad(fmt.Sprintf("tmpfs[%d]", i), "option %q is not allowed: use size=, mode=, uid=, gid=, noexec, ro", opt)
				}
				tm.Options = append(tm.Options, opt)
			}
		}
		c.Tmpfs = append(c.Tmpfs, tm)
	}
	for i, v := range d.Volumes {
		vol, msg := parseVolume(v)
		if msg != "" {
			bad(fmt.Sprintf("volumes[%d]", i), "%q: %s", v, msg)
			continue
		}
		c.Volumes = append(c.Volumes, vol)
	}
	if len(d.Ports) > 0 {
		bad("ports", "publishing ports needs a bridge network, which herdctl does not provide yet: remove ports")
	}
	for k := range d.Env {
		if !envNameRe.MatchString(k) {
			bad("env."+k, "invalid variable name")
		}
	}
	for k := range d.Labels {
		if strings.HasPrefix(k, ReservedLabelPrefix) {
			bad("labels", "label %q: the %s prefix is herdctl's own", k, ReservedLabelPrefix)
		}
	}
	if d.User != "" {
		uid, gid, err := parseUser(d.User)
		if err != nil {
			bad("user", "%v", err)
		}
		c.UID, c.GID = uid, gid
	} else if workspace != "" {
		uid, gid, err := opts.Host.Owner(workspace)
		switch {
		case err != nil:
			bad("user", "cannot read the owner of workspace %s: %v", workspace, unwrap(err))
		case uid == 0:
			errs = append(errs, config.Errorf(a.Where("working_directory"), "workspace %s is owned by root, and agents run as the workspace's owner: chown it to the user the agent should run as, or set docker.user = \"UID:GID\" in the fleet file", workspace))
		default:
			c.UID, c.GID, c.UserFromWorkspace = uid, gid, true
		}
	}
	return c, errs
}

func parseVolume(v string) (Volume, string) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Volume{}, "write HOST_PATH:CONTAINER_PATH or HOST_PATH:CONTAINER_PATH:ro"
	}
	vol := Volume{Source: filepath.Clean(parts[0]), Target: filepath.Clean(parts[1])}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			vol.ReadOnly = true
		case "rw":
		default:
			return Volume{}, "the mode must be ro or rw"
		}
	}
	if !filepath.IsAbs(vol.Source) || !filepath.IsAbs(vol.Target) {
		return Volume{}, "both paths must be absolute"
	}
	for _, reserved := range []string{"/", "/proc", "/sys", "/dev", WorkspaceDir, "/tmp", "/etc", "/usr"} {
		if vol.Target == reserved {
			return Volume{}, fmt.Sprintf("%s is managed by herdctl: mount somewhere else", reserved)
		}
	}
	return vol, ""
}

func parseUser(s string) (uint32, uint32, error) {
	u, g, ok := strings.Cut(s, ":")
	uid, err1 := strconv.ParseUint(u, 10, 32)
	gid, err2 := strconv.ParseUint(g, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%q: write numeric UID:GID, e.g. \"1000:1000\"", s)
	}
	return uint32(uid), uint32(gid), nil
}

func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func orString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orInt64(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

func orDuration(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

func orBool(v *bool, def bool) bool {
	if v == nil {
		return def
	}
	return *v
}

// withCredentials copies the Claude credentials from the fleet's env file
// into the container's environment, unless the fleet set them itself.
func withCredentials(env, envFile map[string]string) map[string]string {
	out := make(map[string]string, len(env)+len(CredentialVars))
	for k, v := range env {
		out[k] = v
	}
	for _, k := range CredentialVars {
		if _, set := out[k]; !set {
			if v, ok := envFile[k]; ok {
				out[k] = v
			}
		}
	}
	return out
}

// Fleet is a loaded fleet: its configuration, the agents that resolved,
// and those that did not.
type Fleet struct {
	Config *config.Fleet
	Agents []*Agent
	Broken []config.BrokenAgent
}

// Errs lists the errors of every broken agent.
func (f *Fleet) Errs() config.Errors {
	var out config.Errors
	for _, b := range f.Broken {
		out = append(out, b.Errors...)
	}
	return out
}

// LoadFleet reads the fleet file at path with its drop-ins and every agent
// file they list and resolves every agent: what the daemon does on start
// and reload. A non-nil error is a config.Errors of the fleet's own files
// (then nothing is loaded); broken agents are in Fleet.Broken.
func LoadFleet(path string, lo config.LoadOptions, opts Options) (*Fleet, error) {
	f, err := config.Load(path, lo)
	if err != nil {
		return nil, err
	}
	agents, broken, err := ResolveFleet(f, opts)
	if err != nil {
		return nil, err
	}
	return &Fleet{Config: f, Agents: agents, Broken: broken}, nil
}

// Load is LoadFleet for checking a fleet whole (herdctlctl validate,
// herdctl units): any broken agent is an error too.
func Load(path string, lo config.LoadOptions, opts Options) (*config.Fleet, []*Agent, error) {
	f, err := LoadFleet(path, lo, opts)
	if err != nil {
		return nil, nil, err
	}
	if errs := f.Errs(); len(errs) > 0 {
		return nil, nil, errs
	}
	return f.Config, f.Agents, nil
}

package kube

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/policy/claudecli"
	"github.com/herdctl/herdctl/units"
)

// cronJob is the CronJob of one schedule: no overlap, no retry, the
// schedule's timeout as the Job's deadline.
func (r *renderer) cronJob(p *agentPlan, s schedulePlan, eg *egressPlan) Object {
	a, sc := p.agent, s.schedule
	labels := with(agentLabels(a.Name), LabelSchedule, sc.Name)
	spec := CronJobSpec{
		Schedule:          s.cron,
		TimeZone:          r.opts.TimeZone,
		ConcurrencyPolicy: "Forbid",
		JobTemplate: JobTemplateSpec{
			Metadata: Meta{Labels: labels},
			Spec: JobSpec{
				BackoffLimit: 0,
				Template: PodTemplateSpec{
					Metadata: Meta{Labels: labels},
					Spec:     r.agentPod(p, sc, eg),
				},
			},
		},
		SuccessfulJobsHistoryLimit: 3,
		FailedJobsHistoryLimit:     3,
	}
	if sc.Timeout > 0 {
		spec.JobTemplate.Spec.ActiveDeadlineSeconds = ptr(deadlineSeconds(sc))
	}
	if !sc.CatchUp {
		// A run the controller missed by more than this is skipped, as a
		// timer without Persistent= skips it; with catch_up the latest
		// missed run starts late.
		spec.StartingDeadlineSeconds = ptr(int64(missedAfter))
	}
	return Object{APIVersion: "batch/v1", Kind: "CronJob",
		Metadata: r.meta(CronJobName(a.Name, sc.Name), labels), Spec: spec}
}

// missedAfter is how late, in seconds, a run of a schedule without
// catch_up may still start: the CronJob controller looks every 10s.
const missedAfter = 60

func ptr[T any](v T) *T { return &v }

func (r *renderer) meta(name string, labels map[string]string) Meta {
	return Meta{Name: name, Namespace: r.opts.Namespace, Labels: labels}
}

// restricted is the container's security context: Pod Security
// "restricted" and what herdctl adds on one host (no privilege, no
// capability at all, the default seccomp profile, a read-only root).
func restricted(uid, gid uint32) *SecurityContext {
	return &SecurityContext{
		RunAsNonRoot: true, RunAsUser: int64(uid), RunAsGroup: int64(gid),
		Privileged: false, AllowPrivilegeEscalation: false, ReadOnlyRootFilesystem: true,
		Capabilities:   &Capabilities{Drop: []string{"ALL"}},
		SeccompProfile: &SeccompProfile{Type: "RuntimeDefault"},
	}
}

func podSecurity(uid, gid uint32) *PodSecurityContext {
	return &PodSecurityContext{RunAsNonRoot: true, RunAsUser: int64(uid), RunAsGroup: int64(gid),
		FSGroup: ptr(int64(gid)), SeccompProfile: &SeccompProfile{Type: "RuntimeDefault"}}
}

// agentPod is the pod of one job of schedule s of agent p.
func (r *renderer) agentPod(p *agentPlan, s policy.Schedule, eg *egressPlan) PodSpec {
	a := p.agent
	uid, gid := a.Container.UID, a.Container.GID
	env := r.env(a, eg)
	if len(a.Command) > 0 {
		env = append(env, EnvVar{Name: claudecli.EnvPrompt, Value: escapeRefs(prompt(a, s))})
	}
	c := Container{
		Name:            "job",
		Image:           r.opts.Image,
		ImagePullPolicy: "IfNotPresent",
		Command:         r.command(a, s),
		WorkingDir:      policy.WorkspaceDir,
		Env:             env,
		Resources:       resources(a),
		SecurityContext: restricted(uid, gid),
	}
	home := Volume{Name: "home", EmptyDir: &EmptyDirVolumeSource{}}
	if p.claim {
		home = Volume{Name: "home", PersistentVolumeClaim: &PVCVolumeSource{ClaimName: HomeClaimName(a.Name)}}
	}
	vols := []Volume{{Name: "workspace", EmptyDir: &EmptyDirVolumeSource{}}, home}
	c.VolumeMounts = []VolumeMount{
		{Name: "workspace", MountPath: policy.WorkspaceDir},
		{Name: "home", MountPath: claudecli.HomeIn(a.Name)},
	}
	tmps := a.Container.Tmpfs
	hasTmp := false
	for _, t := range tmps {
		hasTmp = hasTmp || t.Path == "/tmp"
	}
	if !hasTmp {
		tmps = append([]policy.Tmpfs{{Path: "/tmp", Options: []string{"size=" + strconv.FormatInt(a.Container.TmpSize, 10)}}}, tmps...)
	}
	for i, t := range tmps {
		name := "tmp"
		if i > 0 {
			name = "tmpfs-" + strconv.Itoa(i)
		}
		ed := &EmptyDirVolumeSource{Medium: "Memory"}
		for _, o := range t.Options {
			if v, ok := strings.CutPrefix(o, "size="); ok {
				if n, err := config.ParseBytes(v); err == nil && n > 0 {
					ed.SizeLimit = quantity(n)
				}
			}
		}
		vols = append(vols, Volume{Name: name, EmptyDir: ed})
		c.VolumeMounts = append(c.VolumeMounts, VolumeMount{Name: name, MountPath: t.Path})
	}
	c.VolumeMounts, vols = lastMountWins(c.VolumeMounts, vols)
	return PodSpec{
		RestartPolicy:                 "Never",
		AutomountServiceAccountToken:  false,
		EnableServiceLinks:            a.Container.Network == policy.NetworkEgress,
		Hostname:                      hostname(a.Name),
		TerminationGracePeriodSeconds: ptr(int64(units.StopTimeout.Seconds())),
		SecurityContext:               podSecurity(uid, gid),
		Containers:                    []Container{c},
		Volumes:                       vols,
	}
}

// lastMountWins keeps, of the mounts on one path, the last, as on one
// host, where a later mount hides an earlier one (an agent file's tmpfs
// on its home, or "/x" and "/x/." both): Kubernetes refuses a pod with
// two mounts on one path, so such an agent's CronJob failed the apply.
// A volume no mount uses any more is left out.
func lastMountWins(mounts []VolumeMount, vols []Volume) ([]VolumeMount, []Volume) {
	last := map[string]int{}
	for i, m := range mounts {
		last[m.MountPath] = i
	}
	var keptMounts []VolumeMount
	used := map[string]bool{}
	for i, m := range mounts {
		if last[m.MountPath] == i {
			keptMounts = append(keptMounts, m)
			used[m.Name] = true
		}
	}
	var keptVols []Volume
	for _, v := range vols {
		if used[v.Name] {
			keptVols = append(keptVols, v)
		}
	}
	return keptMounts, keptVols
}

// hostname is the agent's name as a pod's hostname (a DNS label), or ""
// when it is none.
func hostname(agent string) string {
	h := strings.ToLower(strings.ReplaceAll(agent, "_", "-"))
	if !dnsLabel.MatchString(h) {
		return ""
	}
	return h
}

// command runs one job through herdctl-runner, which runs Claude Code
// (claudecli.Args, as on one host) and turns its stream-json events into
// the job's log and outcome. Kubernetes expands $(NAME) in a command:
// every $ is written $$ so that no word an agent wrote is expanded.
func (r *renderer) command(a *policy.Agent, s policy.Schedule) []string {
	argv := a.Command
	if len(argv) == 0 {
		argv = claudecli.Args(a, claudecli.Job{Prompt: prompt(a, s), MaxBudgetUSD: a.Budget.PerJob})
	}
	cmd := []string{r.opts.Runner, "pod", "--agent=" + a.Name, "--schedule=" + s.Name,
		"--log-budget=" + strconv.FormatInt(a.LogBudget, 10)}
	if len(a.Command) > 0 {
		cmd = append(cmd, "--command")
	} else if s.ResumeSession {
		cmd = append(cmd, "--resume-session")
	}
	cmd = append(cmd, "--")
	for _, w := range argv {
		cmd = append(cmd, escapeRefs(w))
	}
	return cmd
}

// prompt is a scheduled job's prompt: its schedule's, else the agent's.
func prompt(a *policy.Agent, s policy.Schedule) string {
	if s.Prompt != "" {
		return s.Prompt
	}
	return a.DefaultPrompt
}

// escapeRefs writes s so that Kubernetes' $(NAME) expansion leaves it
// as it is.
func escapeRefs(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// resources are the agent's limits: memory, CPU (cpu_quota/cpu_period)
// and ephemeral storage (docker.disk, for the workspace and home).
func resources(a *policy.Agent) ResourceRequirements {
	lim := map[string]string{
		"memory":            quantity(a.Container.MemoryBytes),
		"ephemeral-storage": quantity(a.Container.DiskBytes),
	}
	if cpus, ok := policy.CPUFraction(a.Container.CPUQuota, int64(a.Container.CPUPeriod)); ok {
		lim["cpu"] = strconv.FormatInt(int64(math.Ceil(cpus*1000)), 10) + "m"
	}
	req := make(map[string]string, len(lim))
	for k, v := range lim {
		req[k] = v
	}
	return ResourceRequirements{Limits: lim, Requests: req}
}

// env is the job's environment: claudecli.Env as on one host, the job's
// name as HERDCTL_JOB, and every secret from the Secret by reference. An
// egress agent reaches the egress Service by the address Kubernetes
// gives it; when the relay holds its credential, it gets the relay's
// address and the placeholder instead.
func (r *renderer) env(a *policy.Agent, eg *egressPlan) []EnvVar {
	seen := *a
	seen.Container.Env = copyMap(a.Container.Env)
	seen.Container.SecretEnv = copyMap(a.Container.SecretEnv)
	var proxy string
	var direct []string
	if a.Container.Network == policy.NetworkEgress {
		ports := eg.ports[a.Name]
		host := "$(" + EgressHostVar + ")"
		proxy = "http://" + host + ":" + strconv.Itoa(int(ports.proxy))
		if policy.UsesRelay(a) {
			direct = []string{host}
			cred := policy.RelayCredential(a.Container)
			for _, k := range []string{policy.EnvAPIKey, policy.EnvOAuthToken, policy.EnvBaseURL} {
				delete(seen.Container.Env, k)
				delete(seen.Container.SecretEnv, k)
			}
			seen.Container.Env[cred] = policy.RelayPlaceholder
			seen.Container.Env[policy.EnvBaseURL] = "http://" + host + ":" + strconv.Itoa(int(ports.relay))
		}
	}
	// Values of our own may hold $(EgressHostVar); the fleet's are
	// escaped first.
	for k, v := range seen.Container.Env {
		if k != policy.EnvBaseURL || !policy.UsesRelay(a) {
			seen.Container.Env[k] = escapeRefs(v)
		}
	}
	var out, helpers []EnvVar
	for _, kv := range claudecli.Env(&seen, "", proxy, direct...) {
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, EnvVar{Name: k, Value: v})
	}
	out = append(out, EnvVar{Name: "HERDCTL_JOB", ValueFrom: &EnvVarSource{FieldRef: &FieldSelector{FieldPath: "metadata.labels['batch.kubernetes.io/job-name']"}}})
	keys := make([]string, 0, len(seen.Container.SecretEnv))
	for k := range seen.Container.SecretEnv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	helped := map[string]bool{}
	for _, k := range keys {
		t := seen.Container.SecretEnv[k]
		if name, whole := wholeRef(t); whole {
			out = append(out, r.secretVar(k, name))
			continue
		}
		v, refs := secretRefs(t)
		for _, n := range refs {
			if !helped[n] {
				helped[n] = true
				helpers = append(helpers, r.secretVar(secretHelper(n), n))
			}
		}
		out = append(out, EnvVar{Name: k, Value: v})
	}
	sort.Slice(helpers, func(i, j int) bool { return helpers[i].Name < helpers[j].Name })
	// A variable can only refer to one defined before it.
	return append(helpers, out...)
}

func (r *renderer) secretVar(name, key string) EnvVar {
	return EnvVar{Name: name, ValueFrom: &EnvVarSource{SecretKeyRef: &KeySelector{Name: r.opts.Secret, Key: key}}}
}

// secretHelper names the variable that holds env file variable n for a
// value made of it and more.
func secretHelper(n string) string { return "HERDCTL_SECRET_" + n }

// wholeRef says whether template t (policy.SecretTemplate) is exactly one
// env file variable, and which.
func wholeRef(t string) (string, bool) {
	if !strings.HasPrefix(t, "${") || !strings.HasSuffix(t, "}") || strings.Count(t, "${") != 1 || strings.Contains(t, "$$") {
		return "", false
	}
	return t[2 : len(t)-1], true
}

// secretRefs writes template t in Kubernetes' form: ${NAME} becomes
// $(HERDCTL_SECRET_NAME), $$ stays $$ (a $ to both), and returns the names.
func secretRefs(t string) (string, []string) {
	var b strings.Builder
	var names []string
	for i := 0; i < len(t); i++ {
		switch {
		case strings.HasPrefix(t[i:], "$$"):
			b.WriteString("$$")
			i++
		case strings.HasPrefix(t[i:], "${"):
			end := strings.IndexByte(t[i:], '}')
			if end < 0 {
				b.WriteString("$$")
				continue
			}
			n := t[i+2 : i+end]
			names = append(names, n)
			b.WriteString("$(" + secretHelper(n) + ")")
			i += end
		case t[i] == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(t[i])
		}
	}
	return b.String(), names
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// quantity writes bytes as a Kubernetes quantity, in the largest binary
// unit that holds it whole: 2Gi, 64Mi, 1000.
func quantity(n int64) string {
	for _, u := range []struct {
		size int64
		unit string
	}{{1 << 40, "Ti"}, {1 << 30, "Gi"}, {1 << 20, "Mi"}, {1 << 10, "Ki"}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.unit
		}
	}
	return strconv.FormatInt(n, 10)
}

// deadlineSeconds is a schedule's timeout as a Job's
// activeDeadlineSeconds (and the egress relay's meter of its pods).
func deadlineSeconds(sc policy.Schedule) int64 { return int64(math.Ceil(sc.Timeout.Seconds())) }

package kube

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/policy/claudecli"
	"github.com/herdctl/herdctl/units"
)

// Options are the export's choices that are not the fleet's.
type Options struct {
	// Namespace holds every object; DefaultNamespace if "".
	Namespace string
	// Image runs every pod; it holds herdctl-runner and Claude Code
	// (packaging/kubernetes/Containerfile). Required.
	Image string
	// Secret is the Secret holding the fleet's env file; DefaultSecret
	// if "".
	Secret string
	// TimeZone is the host's zone as an IANA name, the CronJobs' timeZone
	// ("" leaves it to the controller's zone).
	TimeZone string
	// Runner is herdctl-runner's path in the image; units.DefaultRunner
	// if "".
	Runner string
	// Where says where an agent's field is set, for refusals; the agent's
	// file alone if nil.
	Where func(agent, field string) config.Location
	// EnvFile is the fleet's env file (config.Fleet.Env): a value of it
	// (policy.MinSecretLen or longer, policy's rule for a secret) on a
	// pod's command line, which the manifests hold in clear, is refused.
	EnvFile map[string]string
}

func (o *Options) fill() {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Secret == "" {
		o.Secret = DefaultSecret
	}
	if o.Runner == "" {
		o.Runner = units.DefaultRunner
	}
}

// Export is a rendered fleet.
type Export struct {
	// Objects in the order they are applied: the namespace first, then
	// what pods need, then the CronJobs.
	Objects []Object
	// Notes name, one a line, what the fleet has that the objects do not
	// (no Kubernetes form), sorted.
	Notes []string
}

// Render turns resolved agents into Kubernetes objects. Every agent is
// checked first; an error (config.Errors) lists each refusal.
func Render(agents []*policy.Agent, opts Options) (*Export, error) {
	opts.fill()
	r := &renderer{opts: opts, notes: map[string]bool{}}
	if !dnsLabel.MatchString(opts.Namespace) {
		return nil, fmt.Errorf("namespace %q is not a DNS label (lower case letters, digits and -): choose another with --namespace", opts.Namespace)
	}
	if opts.Image == "" {
		return nil, fmt.Errorf("no image: give the image built from packaging/kubernetes/Containerfile with --image")
	}
	sorted := append([]*policy.Agent(nil), agents...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	// Names are per kind; the egress objects' are taken first.
	names := map[string]string{"NetworkPolicy/" + EgressName: "the egress Deployment's NetworkPolicy"}
	var plans []*agentPlan
	for _, a := range sorted {
		if p := r.plan(a, names); p != nil {
			plans = append(plans, p)
		}
	}
	if len(r.errs) > 0 {
		return nil, r.errs
	}
	egress := r.egressPlan(plans)
	objs := []Object{r.namespace()}
	if egress != nil {
		objs = append(objs, r.egressObjects(egress)...)
	}
	for _, p := range plans {
		if p.claim {
			objs = append(objs, r.homeClaim(p))
		}
	}
	for _, p := range plans {
		objs = append(objs, r.agentPolicy(p, egress))
	}
	for _, p := range plans {
		for _, s := range p.schedules {
			objs = append(objs, r.cronJob(p, s, egress))
		}
	}
	e := &Export{Objects: objs}
	for n := range r.notes {
		e.Notes = append(e.Notes, n)
	}
	sort.Strings(e.Notes)
	return e, nil
}

type renderer struct {
	opts  Options
	errs  config.Errors
	notes map[string]bool
}

func (r *renderer) refuse(a *policy.Agent, field, format string, args ...any) {
	loc := config.Location{File: a.File, Field: field}
	if r.opts.Where != nil {
		loc = r.opts.Where(a.Name, field)
	}
	r.errs = append(r.errs, config.Errorf(loc, format, args...))
}

func (r *renderer) note(format string, args ...any) {
	r.notes[fmt.Sprintf(format, args...)] = true
}

// agentPlan is what the export makes of one agent.
type agentPlan struct {
	agent     *policy.Agent
	schedules []schedulePlan
	// claim says the home is a PersistentVolumeClaim: a session to
	// resume, or chat, must outlive the job.
	claim bool
}

type schedulePlan struct {
	schedule policy.Schedule
	cron     string
}

// plan checks agent a and decides its objects; nil when it has none.
// names maps kind/name to what took it.
func (r *renderer) plan(a *policy.Agent, names map[string]string) *agentPlan {
	n0 := len(r.errs)
	switch a.Container.Network {
	case policy.NetworkHost:
		r.refuse(a, "docker.network", `agent %q has network = "host", which Pod Security "restricted" has no form of (hostNetwork is refused): give it network = "egress" with the hosts it needs in docker.egress, or leave it out of the fleet you export`, a.Name)
	case policy.NetworkNone, policy.NetworkEgress:
	default:
		r.refuse(a, "docker.network", "agent %q: network %q has no Kubernetes form", a.Name, a.Container.Network)
	}
	if a.Container.UID == 0 {
		r.refuse(a, "docker.user", `agent %q runs as root (uid 0), which Pod Security "restricted" refuses: set docker.user in the fleet file, or give its directory an owner of its own`, a.Name)
	}
	if !labelValue.MatchString(a.Name) || len(a.Name) > maxName {
		r.refuse(a, "name", "agent name %q is no Kubernetes label value (at most 63 letters, digits, '-', '_', '.', beginning and ending with a letter or digit): rename the agent", a.Name)
	}
	take := func(kind, owner, field string, max int, parts ...string) {
		n, ok := objectName(max, parts...)
		switch {
		case !ok:
			r.refuse(a, field, "%s would be named %q, which is no Kubernetes name (lower case letters, digits and -, at most %d characters): use a shorter name of letters and digits", owner, n, max)
		case names[kind+"/"+n] != "":
			r.refuse(a, field, "%s and %s would both be the %s %q in Kubernetes, whose names have no upper case and no '_': rename one", owner, names[kind+"/"+n], kind, n)
		default:
			names[kind+"/"+n] = owner
		}
	}
	take("NetworkPolicy", fmt.Sprintf("agent %q", a.Name), "name", maxName, a.Name)
	p := &agentPlan{agent: a, claim: a.Chat != nil}
	schedules := append([]policy.Schedule(nil), a.Schedules...)
	leaks := false
	sort.Slice(schedules, func(i, j int) bool { return schedules[i].Name < schedules[j].Name })
	for _, s := range schedules {
		what := fmt.Sprintf("schedule %q of agent %q", s.Name, a.Name)
		if !s.Enabled {
			r.note("%s is disabled: not exported", what)
			continue
		}
		var cron string
		var ok bool
		switch s.Type {
		case "interval":
			if cron, ok = config.IntervalCron(s.Interval); !ok {
				r.refuse(a, "schedules."+s.Name+".interval", "%s runs every %s, which no cron expression spaces evenly (a CronJob fires on the clock): use an interval that divides an hour or a day (1m, 15m, 2h, 1d, 7d), or type = \"cron\"", what, policy.HumanDuration(s.Interval))
			}
		case "cron":
			if cron, ok = s.Cron.Standard(); !ok {
				r.refuse(a, "schedules."+s.Name+".cron", "%s: cron %q restricts the day of the month with a step (*/N) and the day of the week too, which Kubernetes reads differently (either day instead of both): list the days of the month instead", what, s.Cron.Expr)
			}
		}
		take("CronJob", what, "schedules."+s.Name, maxCronJobName, a.Name, s.Name)
		if s.ResumeSession {
			p.claim = true
		}
		if s.Jitter > 0 {
			r.note("%s: jitter %s has no CronJob form: it starts on the minute", what, policy.HumanDuration(s.Jitter))
		}
		if !leaks {
			leaks = r.checkSecrets(a, s)
		}
		p.schedules = append(p.schedules, schedulePlan{schedule: s, cron: cron})
	}
	if p.claim {
		take("PersistentVolumeClaim", fmt.Sprintf("the home of agent %q", a.Name), "name", maxName, a.Name, "home")
	}
	if len(r.errs) > n0 {
		return nil
	}
	r.agentNotes(a, p)
	if len(p.schedules) == 0 {
		r.note("agent %q has no enabled schedule: nothing is exported for it (a manual job is kubectl create job --from=cronjob/NAME)", a.Name)
		return nil
	}
	return p
}

// checkSecrets refuses agent a when a word of the command line of its
// schedule s holds a value of the env file: the fleet file expands ${VAR}
// anywhere (an MCP server's env or header, a prompt), and the command
// line is in the CronJob, in clear, for anyone who may read CronJobs.
func (r *renderer) checkSecrets(a *policy.Agent, s policy.Schedule) bool {
	argv := a.Command
	if len(argv) == 0 {
		argv = claudecli.Args(a, claudecli.Job{Prompt: prompt(a, s), MaxBudgetUSD: a.Budget.PerJob})
	} else {
		argv = append(append([]string(nil), argv...), prompt(a, s))
	}
	for _, w := range argv {
		t, ok := policy.SecretTemplate(w, r.opts.EnvFile)
		if !ok {
			continue
		}
		_, refs := secretRefs(t)
		var names []string
		for _, n := range refs {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		field := "command"
		for prefix, f := range map[string]string{"--mcp-config=": "mcp_servers", "--append-system-prompt=": "system_prompt", "--model=": "model",
			"--allowedTools=": "allowed_tools", "--disallowedTools=": "denied_tools"} {
			if strings.HasPrefix(w, prefix) {
				field = f
			}
		}
		if w == prompt(a, s) {
			field = "default_prompt"
			if s.Prompt != "" {
				field = "schedules." + s.Name + ".prompt"
			}
		}
		r.refuse(a, field, "agent %q: its command line would hold the value of %s from the env file, and a pod's command line is in the manifests, in clear: pass %s in docker.env instead (the pod reads it from the Secret), and write $${%s} where Claude Code should expand it (an MCP server's env or headers)", a.Name, strings.Join(names, ", "), names[0], names[0])
		return true
	}
	return false
}

// agentNotes names what agent a has that its objects do not.
func (r *renderer) agentNotes(a *policy.Agent, p *agentPlan) {
	if a.Workspace != "" {
		r.note("agent %q: its workspace %s is a directory of the host: the pod gets an empty /workspace (add a volume to the CronJob's pod, or clone into it)", a.Name, a.Workspace)
	}
	for _, v := range a.Container.Volumes {
		r.note("agent %q: volume %s:%s is a directory of the host, which \"restricted\" has no form of: not exported", a.Name, v.Source, v.Target)
	}
	if a.Container.Image != policy.HostImage {
		r.note("agent %q: image %s is not used: every pod runs --image, which holds herdctl-runner and Claude Code", a.Name, a.Container.Image)
	}
	if !a.Container.Ephemeral {
		r.note("agent %q: ephemeral = false has no form: each job gets a new pod", a.Name)
	}
	if a.Chat != nil {
		r.note("agent %q: chat is not exported: the chat bridge starts jobs through the daemon's D-Bus API; its home is a PersistentVolumeClaim so that the sessions outlive their pods", a.Name)
	}
	if len(a.Hooks.OnError)+len(a.Hooks.OnSuccess)+len(a.Hooks.AfterRun) > 0 {
		r.note("agent %q: hooks are not exported: the daemon runs them after a job ends, a step a Kubernetes Job does not have", a.Name)
	}
	if a.Budget.PerDay > 0 {
		r.note("agent %q: max_cost_usd_per_day is not exported: it needs the day's count the runner keeps on one host (each job still gets max_cost_usd_per_job)", a.Name)
	}
	if len(p.schedules) > 1 {
		r.note("agent %q: max_concurrent = %d bounds its schedules together on one host; each CronJob forbids only its own overlap", a.Name, a.MaxConcurrent)
	}
	r.note("pids_limit, inodes and log_budget have no pod form: set the kubelet's podPidsLimit, and bound the logs with the cluster's log rotation")
}

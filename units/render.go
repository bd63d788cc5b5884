package units

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/herdctl/herdctl/chat"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

// DefaultRunner is where the package installs the job runner.
const DefaultRunner = "/usr/libexec/herdctl/herdctl-runner"

// Options change how units are rendered.
type Options struct {
	// Runner is the job runner job units execute; DefaultRunner if "".
	Runner string
	// FirstElapse is, by timer name, when an interval timer first fires
	// after it starts (OnActiveSec=), so that a schedule keeps its rhythm
	// across restarts and reboots; a timer not in it first fires one
	// interval after it starts. SameTimer ignores this line.
	FirstElapse map[string]time.Duration
}

func (o Options) runner() string {
	if o.Runner == "" {
		return DefaultRunner
	}
	return o.Runner
}

// Unit is one rendered unit file.
type Unit struct {
	Name    string
	Content string
}

// JobService is the job unit of one schedule (or of a manual trigger) as
// data: RenderService writes it as a unit file, and the daemon turns the
// same values into the properties of a transient unit.
type JobService struct {
	Name        string
	Description string
	Agent       string
	Schedule    string
	ExecStart   []string
	Environment []string // KEY=VALUE; never a secret (unit files are world-readable)
	RuntimeMax  time.Duration
	StopTimeout time.Duration
	// EnvFile is the fleet's env file, loaded as the job's credential
	// (state.CredentialEnvFile) when the agent's environment holds its
	// secrets; "" otherwise.
	EnvFile string
}

// JobIdentifier is the SYSLOG_IDENTIFIER of what a job's runner prints.
const JobIdentifier = "herdctl-job"

// JournalSocket is the socket unit of the jobs' journald namespace
// (state.JournalNamespace), which every job unit requires.
const JournalSocket = "systemd-journald@" + state.JournalNamespace + ".socket"

// LogRateLimitBurst is the journal entries a job unit may log per second.
const LogRateLimitBurst = 1000000

// StopTimeout is how long a job may take to stop (the runner kills its
// task and records the outcome) before systemd kills it.
const StopTimeout = 30 * time.Second

// NewJobService describes the job unit of an agent's schedule. manual is
// nil for scheduled jobs (the runner makes their records); a manual
// trigger passes its job, whose id and session to resume the runner gets.
func NewJobService(a *policy.Agent, s policy.Schedule, manual *state.Job, opts Options) JobService {
	args := []string{opts.runner(), "run", "--agent=" + a.Name}
	if s.Name != "" {
		args = append(args, "--schedule="+s.Name)
	}
	name := ServiceName(a.Name, s.Name)
	desc := fmt.Sprintf("herdctl job %s/%s", a.Name, s.Name)
	if s.Name == "" {
		desc = "herdctl job " + a.Name
	}
	if manual != nil {
		args = append(args, "--job="+manual.ID, "--trigger="+state.TriggerManual)
		if state.IsSessionID(manual.Resume) {
			args = append(args, "--resume="+manual.Resume)
		}
		if chat.IsStageName(manual.Inbox) {
			args = append(args, "--inbox="+manual.Inbox)
		}
		name = ManualServiceName(a.Name, manual.ID)
		desc += " (manual " + manual.ID + ")"
	}
	return JobService{
		Name:        name,
		Description: desc,
		Agent:       a.Name,
		Schedule:    s.Name,
		ExecStart:   args,
		Environment: []string{"HERDCTL_UNIT=" + name},
		RuntimeMax:  s.Timeout,
		StopTimeout: StopTimeout,
		EnvFile:     a.Container.EnvFile,
	}
}

// RenderService writes a job service unit. The job runs the herdctl runner,
// which runs the agent in its container; no secret is ever in the unit
// (unit files are world-readable): the runner reads the agent's snapshot
// from a root-only file.
func RenderService(j JobService) string { return renderUnit(j.directives()) }

// renderUnit writes directives as a unit file: the generated marker,
// then each section's directives under its header, in their order.
func renderUnit(ds []directive) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", GeneratedMarker)
	section := ""
	for _, d := range ds {
		if d.section != section {
			if section != "" {
				b.WriteString("\n")
			}
			section = d.section
			fmt.Fprintf(&b, "[%s]\n", section)
		}
		fmt.Fprintf(&b, "%s=%s\n", d.key, d.value)
	}
	return b.String()
}

// RenderTimer writes the timer of one schedule. An interval timer first
// fires first after it starts (one interval when first is 0), then one
// interval after each job's start.
func RenderTimer(a *policy.Agent, s policy.Schedule, first time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n[Unit]\n", GeneratedMarker)
	fmt.Fprintf(&b, "Description=herdctl schedule %s/%s (%s)\n", a.Name, s.Name, describe(s))
	b.WriteString("Documentation=man:herdctl(8)\n")
	// Stopping herdctl stops its timers; running jobs are not touched.
	fmt.Fprintf(&b, "PartOf=%s\n", DaemonUnit)
	fmt.Fprintf(&b, "X-Herdctl-Agent=%s\nX-Herdctl-Schedule=%s\n", a.Name, s.Name)
	b.WriteString("\n[Timer]\n")
	fmt.Fprintf(&b, "Unit=%s\n", ServiceName(a.Name, s.Name))
	switch s.Type {
	case "interval":
		if first <= 0 {
			first = s.Interval
		}
		fmt.Fprintf(&b, "%s%s\nOnUnitActiveSec=%s\n", firstElapseKey, span(first), span(s.Interval))
	case "cron":
		for _, cal := range OnCalendar(s.Cron) {
			fmt.Fprintf(&b, "OnCalendar=%s\n", cal)
		}
		if s.CatchUp {
			b.WriteString("Persistent=true\n")
		}
	}
	b.WriteString("AccuracySec=1s\n")
	if s.Jitter > 0 {
		fmt.Fprintf(&b, "RandomizedDelaySec=%s\n", span(s.Jitter))
	}
	return b.String()
}

// firstElapseKey starts the line of a timer that says when it first
// fires after it starts.
const firstElapseKey = "OnActiveSec="

// SameTimer says whether two renderings of a timer differ at most in when
// it first fires: the schedule is the same, and a running timer need not
// restart (its first elapse is behind it or already counting).
func SameTimer(a, b string) bool {
	return withoutFirstElapse(a) == withoutFirstElapse(b)
}

func withoutFirstElapse(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if !strings.HasPrefix(line, firstElapseKey) {
			b.WriteString(line)
		}
	}
	return b.String()
}

func describe(s policy.Schedule) string {
	if s.Type == "interval" {
		return "every " + span(s.Interval)
	}
	return "cron " + s.Cron.Expr
}

// RenderAgent renders the timer and service of each enabled schedule.
func RenderAgent(a *policy.Agent, opts Options) []Unit {
	var out []Unit
	for _, s := range a.Schedules {
		if !s.Enabled {
			continue
		}
		out = append(out,
			Unit{Name: TimerName(a.Name, s.Name), Content: RenderTimer(a, s, opts.FirstElapse[TimerName(a.Name, s.Name)])},
			Unit{Name: ServiceName(a.Name, s.Name), Content: RenderService(NewJobService(a, s, nil, opts))},
		)
	}
	return out
}

// RenderFleet renders every agent's units and the target that wants all
// the timers, sorted by name.
func RenderFleet(agents []*policy.Agent, opts Options) []Unit {
	var out []Unit
	var timers []string
	for _, a := range agents {
		for _, u := range RenderAgent(a, opts) {
			out = append(out, u)
			if strings.HasSuffix(u.Name, ".timer") {
				timers = append(timers, u.Name)
			}
		}
	}
	out = append(out, Unit{Name: TimersTarget, Content: RenderTimersTarget(timers)})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// RenderTimersTarget writes the target that wants every timer, so that one
// start job starts all that are not running. It stops with herdctl.service.
func RenderTimersTarget(timers []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n[Unit]\n", GeneratedMarker)
	b.WriteString("Description=herdctl's schedules\n")
	b.WriteString("Documentation=man:herdctl(8)\n")
	// Without default dependencies: a target is otherwise ordered after
	// every unit it names, herdctl.service included, whose start waits
	// for this target: a deadlock.
	b.WriteString("DefaultDependencies=no\nConflicts=shutdown.target\nBefore=shutdown.target\n")
	fmt.Fprintf(&b, "PartOf=%s\n", DaemonUnit)
	sorted := append([]string(nil), timers...)
	sort.Strings(sorted)
	for _, t := range sorted {
		fmt.Fprintf(&b, "Wants=%s\n", t)
	}
	return b.String()
}

// span writes a duration as a systemd time span, in the largest unit that
// divides it exactly ("3d", "15min", "90s").
func span(d time.Duration) string {
	if d <= 0 {
		return "infinity"
	}
	s := int64(d / time.Second)
	switch {
	case s%86400 == 0:
		return fmt.Sprintf("%dd", s/86400)
	case s%3600 == 0:
		return fmt.Sprintf("%dh", s/3600)
	case s%60 == 0:
		return fmt.Sprintf("%dmin", s/60)
	default:
		return fmt.Sprintf("%ds", s)
	}
}

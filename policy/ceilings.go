package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/herdctl/herdctl/config"
)

// checkCeilings refuses every limit the agent file set above what the
// fleet allows: the fleet's own value (its defaults or this agent's
// overrides) when it sets one, else the built-in ceiling. An agent that
// rewrites its own file can lower its limits, never raise them. Refused,
// not clamped: the agent is left out with the reason, so that what runs
// is always what a file says.
func checkCeilings(a *config.AgentConfig, r *Agent) config.Errors {
	var errs config.Errors
	fleet, fp := &a.Fleet, &a.FleetParsed
	over := func(path, got, ceiling, fleetPath string, fleetSet bool) {
		src := fmt.Sprintf("herdctl's built-in ceiling %s (the fleet sets none: set %s in the fleet file to allow more)", ceiling, fleetPath)
		if fleetSet {
			src = fmt.Sprintf("the fleet's ceiling %s (%s, in its defaults or this agent's overrides)", ceiling, fleetPath)
		}
		errs = append(errs, config.Errorf(a.Where(path), "%s is above %s: an agent file may only lower it", got, src))
	}
	checkInt := func(path string, got, fleetVal, builtin int64, format func(int64) string) {
		if !a.FromAgentFile(path) {
			return
		}
		ceiling := builtin
		if b, ok := BuiltinCeiling(path); ok {
			ceiling = b
		}
		if fleetVal > 0 {
			ceiling = fleetVal
		}
		if got > ceiling {
			over(path, format(got), format(ceiling), fleetKey(path), fleetVal > 0)
		}
	}
	bytes, count := func(v int64) string { return HumanBytes(v) }, func(v int64) string { return strconv.FormatInt(v, 10) }
	dur := func(v int64) string { return HumanDuration(time.Duration(v)) }

	checkInt("docker.memory", r.Container.MemoryBytes, fp.Memory, 0, bytes)
	checkInt("docker.pids_limit", r.Container.PidsLimit, fleet.Docker.PidsLimit, 0, count)
	checkInt("docker.cpu_shares", int64(r.Container.CPUShares), fleet.Docker.CPUShares, 0, count)
	checkInt("docker.max_containers", int64(r.Container.MaxContainers), int64(fleet.Docker.MaxContainers), 0, count)
	checkInt("docker.disk", r.Container.DiskBytes, fp.Disk, 0, bytes)
	checkInt("docker.inodes", r.Container.Inodes, fleet.Docker.Inodes, 0, count)
	checkInt("instances.max_concurrent", int64(r.MaxConcurrent), int64(fleet.Instances.MaxConcurrent), 0, count)
	checkInt("log_budget", r.LogBudget, fp.LogBudget, 0, bytes)
	checkInt("log_budget_daily", r.LogBudgetDaily, fp.LogBudgetDaily, 0, bytes)
	if fleet.MaxTurns > 0 {
		checkInt("max_turns", int64(r.Claude.MaxTurns), int64(fleet.MaxTurns), 0, count)
		if a.FromAgentFile("max_turns") && r.Claude.MaxTurns == 0 {
			over("max_turns", "no limit", count(int64(fleet.MaxTurns)), fleetKey("max_turns"), true)
		}
	}
	// Budgets: the fleet's are ceilings; an agent file may only lower
	// them, and may not trade the fleet's cancel for skip.
	usd := func(v float64) string { return fmt.Sprintf("$%.2f", v) }
	for _, c := range []struct {
		path       string
		got, fleet float64
	}{{"max_cost_usd_per_day", r.Budget.PerDay, fleet.MaxCostUSDPerDay}, {"max_cost_usd_per_job", r.Budget.PerJob, fleet.MaxCostUSDPerJob}} {
		switch {
		case c.fleet <= 0 || !a.FromAgentFile(c.path):
		case c.got == 0:
			over(c.path, "no limit", usd(c.fleet), fleetKey(c.path), true)
		case c.got > c.fleet:
			over(c.path, usd(c.got), usd(c.fleet), fleetKey(c.path), true)
		}
	}
	if a.FromAgentFile("budget_action") && fleet.BudgetAction == BudgetCancel && r.Budget.Action != BudgetCancel {
		errs = append(errs, config.Errorf(a.Where("budget_action"), "%q is weaker than the fleet's \"cancel\" (%s): an agent file may only tighten it", r.Budget.Action, fleetKey("budget_action")))
	}
	// Timeouts: the agent's own and every schedule's.
	checkInt("timeout", int64(r.Timeout), int64(fp.Timeout), int64(CeilingTimeout), dur)
	for _, s := range r.Schedules {
		if a.FromAgentFile("schedules." + s.Name + ".timeout") {
			ceiling, set := int64(CeilingTimeout), fp.Timeout > 0
			if set {
				ceiling = int64(fp.Timeout)
			}
			if int64(s.Timeout) > ceiling {
				over("schedules."+s.Name+".timeout", dur(int64(s.Timeout)), dur(ceiling), fleetKey("timeout"), set)
			}
		}
	}
	// CPU: the share of a CPU quota/period allows; no quota is all.
	if a.FromAgentFile("docker.cpu_quota") || a.FromAgentFile("docker.cpu_period") {
		if limit, ok := CPUFraction(fleet.Docker.CPUQuota, fleet.Docker.CPUPeriod); ok {
			got, limited := CPUFraction(r.Container.CPUQuota, int64(r.Container.CPUPeriod))
			path := "docker.cpu_quota"
			if !a.FromAgentFile(path) {
				path = "docker.cpu_period"
			}
			if !limited || got > limit+1e-9 {
				g := "no CPU limit"
				if limited {
					g = fmt.Sprintf("%.2f CPUs", got)
				}
				over(path, g, fmt.Sprintf("%.2f CPUs", limit), "cpu_quota and cpu_period in [defaults.docker]", true)
			}
		}
	}
	// Extra tmpfs: each within the tmp ceiling (the fleet's tmp_size or
	// the built-in one); a size left out is that ceiling, never the
	// kernel's half of RAM.
	if a.FromAgentFile("docker.tmpfs") {
		ceiling := int64(CeilingTmpSize)
		if fp.TmpSize > 0 {
			ceiling = fp.TmpSize
		}
		if len(r.Container.Tmpfs) > MaxTmpfs {
			errs = append(errs, config.Errorf(a.Where("docker.tmpfs"), "%d tmpfs mounts: at most %d are allowed", len(r.Container.Tmpfs), MaxTmpfs))
		}
		for i := range r.Container.Tmpfs {
			t := &r.Container.Tmpfs[i]
			size := int64(-1)
			for _, o := range t.Options {
				if v, ok := strings.CutPrefix(o, "size="); ok {
					size, _ = config.ParseBytes(v)
				}
			}
			if size < 0 {
				t.Options = append(t.Options, "size="+strconv.FormatInt(ceiling, 10))
				continue
			}
			if size == 0 || size > ceiling {
				got := HumanBytes(size)
				if size == 0 {
					got = "size=0 (no limit)"
				}
				over(fmt.Sprintf("docker.tmpfs[%d]", i), got, HumanBytes(ceiling), "tmp_size in [defaults.docker.host_config]", fp.TmpSize > 0)
			}
		}
	}
	if len(r.Container.Labels) > MaxLabels {
		errs = append(errs, config.Errorf(a.Where("docker.labels"), "%d labels: at most %d are allowed", len(r.Container.Labels), MaxLabels))
	}
	for k, v := range r.Container.Labels {
		if len(k) > 128 || len(v) > 1024 {
			errs = append(errs, config.Errorf(a.Where("docker.labels"), "label %.40q is too long: keys up to 128 bytes, values up to 1024", k))
		}
	}
	return errs
}

// fleetKey names where the fleet sets the value at path: "docker.memory"
// is memory in [defaults.docker].
func fleetKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i > 0 && !strings.HasPrefix(path, "schedules.") {
		return fmt.Sprintf("%s in [defaults.%s]", path[i+1:], path[:i])
	}
	return path + " in [defaults]"
}

// HumanDuration writes a duration the way the configuration does: 72h, 15m.
func HumanDuration(d time.Duration) string {
	for _, u := range []struct {
		n    time.Duration
		unit string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if d >= u.n && d%u.n == 0 {
			return strconv.FormatInt(int64(d/u.n), 10) + u.unit
		}
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// CPUFraction is quota/period in CPUs (a period of 0 is the kernel's
// default, 100ms); false when there is no limit.
func CPUFraction(quota, period int64) (float64, bool) {
	if quota <= 0 {
		return 0, false
	}
	if period <= 0 {
		period = 100000
	}
	return float64(quota) / float64(period), true
}

// HumanBytes writes a size the way the configuration does: 2g, 512m.
func HumanBytes(v int64) string {
	for _, u := range []struct {
		n    int64
		unit string
	}{{1 << 40, "t"}, {1 << 30, "g"}, {1 << 20, "m"}, {1 << 10, "k"}} {
		if v >= u.n && v%u.n == 0 {
			return strconv.FormatInt(v/u.n, 10) + u.unit
		}
	}
	return strconv.FormatInt(v, 10)
}

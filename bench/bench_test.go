// Package bench holds herdctl's benchmarks (make bench): P1-P7 of
// docs/performance.md, each against its floor, in a systemd-nspawn
// machine with herdctl.service.
package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// TestBench measures herdctl against its floor in the nspawn machine
// (real systemd and journald): make bench. It reports; it never fails on
// a figure. Results go to bench/results.json and docs/performance.table.md.
func TestBench(t *testing.T) {
	if os.Getenv("HERDCTL_BENCH") == "" {
		t.Skip("benchmarks: set HERDCTL_BENCH=1 (make bench)")
	}
	// The packaged binaries, installed by apt, as shipped.
	m := testbed.PackagedMachine(t, benchFleet(10, 1, ""), benchAgents(10, 1))
	b := &bench{m: m, t: t}
	// HERDCTL_BENCH=1 runs every figure; HERDCTL_BENCH=P5,P7 only those.
	only := os.Getenv("HERDCTL_BENCH")
	for _, f := range []struct {
		ids string
		run func()
	}{{"P1", b.p1}, {"P2", b.p2}, {"P5", b.p5}, {"P6", b.p6}, {"P3 P4 P8 P9", b.p3p4}, {"P7", b.p7}, {"P10", b.p10}, {"P11", b.p11}, {"P12", b.p12}} {
		if only == "1" || slices.ContainsFunc(strings.Split(only, ","), func(id string) bool { return slices.Contains(strings.Fields(f.ids), id) }) {
			f.run()
		}
	}
	if only == "1" {
		b.write()
	}
}

type figure struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Floor  string  `json:"floor,omitempty"`
	Ratio  float64 `json:"ratio,omitempty"`
	Goal   string  `json:"goal"`
	Met    bool    `json:"met"`
	Detail string  `json:"detail,omitempty"`
}

type bench struct {
	m       *testbed.Machine
	t       *testing.T
	figures []figure
}

func (b *bench) add(f figure) {
	b.t.Logf("%s %s: %.2f %s %s (goal %s, met %v) %s", f.ID, f.Name, f.Value, f.Unit, f.Floor, f.Goal, f.Met, f.Detail)
	b.figures = append(b.figures, f)
}

// benchFleet is a fleet of n generated agents with k daily schedules each,
// plus the bench's own agents, and extra appended.
func benchFleet(n, k int, extra string) string {
	var s strings.Builder
	// The printer's 100k lines need more of the journal than a job gets
	// by default (P5 measures journald, not herdctl's budget).
	s.WriteString("version = 1\n[fleet]\nname = \"bench\"\nlog_budget_daily = \"8g\"\n[defaults.docker]\nuser = \"1000:1000\"\n")
	for _, a := range []struct{ name, cmd, extra string }{
		{"trivial", `["/usr/bin/true"]`, ""},
		{"sleepy", `["/bin/sleep", "5"]`, "  [agents.overrides.instances]\n  max_concurrent = 20\n"},
		{"printer", `["/usr/bin/perl", "/workspace/print.pl"]`, "  log_budget = \"1g\"\n  log_budget_daily = \"4g\"\n"},
		{"ticker", `["/usr/bin/true"]`, ""},
		// P10: the same downloads through the egress proxy and directly.
		{"egressprobe", `["/bin/sh", "/workspace/probe.sh"]`, "  [agents.overrides.docker]\n  network = \"egress\"\n  egress = [\"origin.bench.test:47300\"]\n  egress_private = [\"127.0.0.0/8\"]\n"},
		{"directprobe", `["/bin/sh", "/workspace/probe.sh"]`, "  [agents.overrides.docker]\n  network = \"host\"\n"},
	} {
		fmt.Fprintf(&s, "[[agents]]\npath = \"/srv/herdctl/%s/agent.toml\"\n  [agents.overrides]\n  command = %s\n%s", a.name, a.cmd, a.extra)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&s, "[[agents]]\npath = \"/srv/herdctl/gen/a%04d/agent.toml\"\n", i)
	}
	return s.String() + extra
}

// benchAgents writes the agent files of benchFleet.
func benchAgents(n, k int) map[string]string {
	files := map[string]string{
		"/srv/herdctl/trivial/agent.toml":     "name = \"trivial\"\n",
		"/srv/herdctl/sleepy/agent.toml":      "name = \"sleepy\"\n",
		"/srv/herdctl/printer/agent.toml":     "name = \"printer\"\n",
		"/srv/herdctl/ticker/agent.toml":      "name = \"ticker\"\n",
		"/srv/herdctl/egressprobe/agent.toml": "name = \"egressprobe\"\n",
		"/srv/herdctl/directprobe/agent.toml": "name = \"directprobe\"\n",
		"/srv/herdctl/egressprobe/probe.sh":   probeScript,
		"/srv/herdctl/directprobe/probe.sh":   probeScript,
		// 100k stream-json lines, 100 to ~700 bytes, and every 10000th
		// line 1 MiB.
		"/srv/herdctl/printer/print.pl": `$| = 0; for my $i (1 .. 100000) { my $pad = ($i % 10000 == 0) ? "x" x (1 << 20) : "y" x (100 + ($i * 7919) % 600); print "{\"type\":\"bench\",\"n\":$i,\"pad\":\"$pad\"}\n" }` + "\n",
	}
	for i := 0; i < n; i++ {
		var s strings.Builder
		fmt.Fprintf(&s, "name = \"a%04d\"\n", i)
		for j := 0; j < k; j++ {
			fmt.Fprintf(&s, "[schedules.s%d]\ntype = \"cron\"\ncron = \"%d %d * * *\"\nprompt = \"p\"\n", j, (i+j)%60, (i*7+j)%24)
		}
		files[fmt.Sprintf("/srv/herdctl/gen/a%04d/agent.toml", i)] = s.String()
	}
	return files
}

// times runs cmd n times inside the machine and returns each run's wall
// time in milliseconds, measured inside the machine.
func (b *bench) times(n int, cmd string) []float64 {
	out := b.m.Sh(fmt.Sprintf(`for i in $(seq %d); do s=$(date +%%s%%N); %s >/dev/null 2>&1 || echo FAIL; e=$(date +%%s%%N); echo $(( (e - s) / 1000 )); done`, n, cmd))
	var ms []float64
	for _, l := range strings.Fields(out) {
		if l == "FAIL" {
			b.t.Errorf("%s failed", cmd)
			continue
		}
		us, _ := strconv.ParseFloat(l, 64)
		ms = append(ms, us/1000)
	}
	return ms
}

func median(v []float64) float64 { return quantile(v, 0.5) }

func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(q*float64(len(s)-1) + 0.5)
	return s[i]
}

// p1: a trivial job through herdctlctl trigger --wait against ctr run
// --rm of the same skeleton root with the host's /usr, in the same
// machine, interleaved.
func (b *bench) p1() {
	b.m.Sh(`mkdir -p /var/tmp/skel/usr /var/tmp/skel/etc /var/tmp/skel/tmp /var/tmp/skel/proc /var/tmp/skel/sys /var/tmp/skel/dev && for l in bin lib lib64 sbin; do ln -sfn usr/$l /var/tmp/skel/$l; done`)
	const n = 15
	var floor, herd, direct []float64
	b.times(2, "herdctlctl trigger --wait trivial") // warm up
	for i := 0; i < n; i++ {
		floor = append(floor, b.times(1, fmt.Sprintf("ctr -n bench run --rm --seccomp --rootfs --mount type=bind,src=/usr,dst=/usr,options=rbind:ro /var/tmp/skel f%d /usr/bin/true", i))...)
		herd = append(herd, b.times(1, "herdctlctl trigger --wait trivial")...)
		// The alternative design: the runner started directly, with no
		// D-Bus call and no systemd unit per job.
		direct = append(direct, b.times(1, "/usr/libexec/herdctl/herdctl-runner run --agent trivial")...)
	}
	f, h, d := median(floor), median(herd), median(direct)
	b.add(figure{ID: "P1", Name: "herdctlctl trigger --wait of /usr/bin/true", Value: h, Unit: "ms",
		Floor: fmt.Sprintf("ctr run --rm %.0f ms", f), Ratio: h / f, Goal: "≤ 1.3×", Met: h/f <= 1.3,
		Detail: fmt.Sprintf("medians of %d, interleaved; the runner alone (herdctl-runner run, no D-Bus, no unit) %.0f ms = %.2f×", n, d, d/f)})
}

// p2: how late a timer-fired job starts, over 20 firings of a 2 s
// interval: each start against the previous one plus the interval.
func (b *bench) p2() {
	b.m.WriteFile("/srv/herdctl/ticker/agent.toml", "name = \"ticker\"\n[schedules.tick]\ntype = \"interval\"\ninterval = \"2s\"\n", 0o644)
	b.m.Run("herdctlctl", "reload")
	var js []api.Job
	b.m.Eventually(90*time.Second, "21 ticker jobs", func() bool {
		b.m.CtlJSON(&js, "jobs", "--json", "--agent=ticker", "--limit=0")
		return len(js) >= 21
	})
	b.m.WriteFile("/srv/herdctl/ticker/agent.toml", "name = \"ticker\"\n", 0o644)
	b.m.Run("herdctlctl", "reload")
	slices.SortFunc(js, func(a, c api.Job) int { return a.Started.Compare(c.Started) })
	var late []float64
	for i := 1; i < 21; i++ {
		late = append(late, float64(js[i].Started.Sub(js[i-1].Started)-2*time.Second)/float64(time.Millisecond))
	}
	mx := slices.Max(late)
	b.add(figure{ID: "P2", Name: "lateness of a timer-fired job start (2 s interval, 20 firings)", Value: median(late), Unit: "ms",
		Floor: "0", Goal: "≤ 1 s", Met: mx <= 1000, Detail: fmt.Sprintf("median; max %.0f ms", mx)})
}

// p5: 100k stream-json lines, to the journal: once with journald as the
// machine has it, once with journald's global rate limit off.
func (b *bench) p5() {
	count := func() (float64, api.Job) {
		out := b.m.Run("herdctlctl", "trigger", "--wait", "--json", "printer")
		var j api.Job
		if err := json.NewDecoder(strings.NewReader(out[strings.Index(out, "{"):])).Decode(&j); err != nil {
			b.t.Fatalf("printer job: %v\n%s", err, out)
		}
		time.Sleep(time.Second)
		n, _ := strconv.ParseFloat(strings.TrimSpace(b.m.Sh("journalctl --namespace="+state.JournalNamespace+" --no-pager -o cat HERDCTL_JOB="+j.ID+" HERDCTL_EVENT=bench | wc -l")), 64)
		return n, j
	}
	got, j := count()
	xattr, _ := b.m.Try("sh", "-c", "journalctl --no-pager -o cat _PID=1 | grep -ci xattr")
	b.m.WriteFile("/etc/systemd/journald.conf.d/bench.conf", "[Journal]\nRateLimitIntervalSec=0\n", 0o644)
	b.m.Run("systemctl", "restart", "systemd-journald")
	unlimited, _ := count()
	b.m.Run("rm", "/etc/systemd/journald.conf.d/bench.conf")
	b.m.Run("systemctl", "restart", "systemd-journald")
	b.add(figure{ID: "P5", Name: "stream-json lines in journald / lines printed (100k, up to 1 MiB)", Value: 100 * got / 100000, Unit: "%",
		Goal: "100%", Met: got == 100000,
		Detail: fmt.Sprintf("%.0f of 100000 (job %s in %d ms, %d bytes over the journal budget); with journald's RateLimitIntervalSec=0: %.0f of 100000; systemd logged %s xattr errors",
			got, j.Status, j.DurationMS, j.OutputDropped, unlimited, strings.TrimSpace(xattr))})
}

// p6: 20 concurrent jobs; the memory each adds (its runner and its shim).
func (b *bench) p6() {
	b.m.Sh(`for i in $(seq 20); do herdctlctl trigger sleepy >/dev/null; done`)
	time.Sleep(2500 * time.Millisecond)
	// PSS: the binaries' pages, shared by every runner (and every shim),
	// are counted once in all, not once per process.
	rss := b.m.Sh(`r=0; s=0; nr=0; ns=0
for p in /proc/[0-9]*; do c=$(cat $p/comm 2>/dev/null); kb=$(awk '/^Pss:/ {print $2}' $p/smaps_rollup 2>/dev/null); [ -n "$kb" ] || continue
  case "$c" in herdctl-runner) r=$((r+kb)); nr=$((nr+1)) ;; containerd-shim*) s=$((s+kb)); ns=$((ns+1)) ;; esac; done
echo $r $nr $s $ns`)
	var runnerKB, nr, shimKB, ns float64
	fmt.Sscan(rss, &runnerKB, &nr, &shimKB, &ns)
	var js []api.Job
	b.m.Eventually(60*time.Second, "20 sleepy jobs done", func() bool {
		b.m.CtlJSON(&js, "jobs", "--json", "--agent=sleepy", "--limit=0")
		done := 0
		for _, j := range js {
			if api.Finished(j.Status) {
				done++
			}
		}
		return done == 20
	})
	ok := 0
	for _, j := range js {
		if j.Status == api.StatusCompleted {
			ok++
		}
	}
	per := (runnerKB + shimKB) / 20 / 1024
	b.add(figure{ID: "P6", Name: "20 concurrent jobs (sleep 5): memory added per job (PSS of its runner and shim)", Value: per, Unit: "MiB",
		Goal: "20/20, ≤ 15 MiB", Met: ok == 20 && per <= 15,
		Detail: fmt.Sprintf("%d/20 completed; PSS of the runners %.1f MiB (%.0f procs), of the shims %.1f MiB (%.0f procs)", ok, runnerKB/1024, nr, shimKB/1024, ns)})
}

// p7: listing jobs with 10k records.
func (b *bench) p7() {
	now := time.Now()
	b.writeRecords(10000, func(i int) api.Job {
		fin := now.Add(-time.Duration(i) * time.Minute)
		code := 0
		return api.Job{ID: fmt.Sprintf("20250101-%06d-%06x", i, i), Agent: fmt.Sprintf("a%04d", i%10), Schedule: "s0", Trigger: state.TriggerSchedule,
			Prompt: strings.Repeat("p", 200), Started: fin.Add(-time.Minute), Finished: &fin, DurationMS: 60000,
			Status: api.StatusCompleted, ExitCode: &code, ExitReason: "exited 0", Turns: 4, CostUSD: 0.02}
	})
	b.m.Run("systemctl", "restart", "herdctl")
	b.times(3, "herdctlctl jobs --limit 50")
	human := b.times(100, "herdctlctl jobs --limit 50")
	js := b.times(100, "herdctlctl jobs --limit 50 --json")
	// The floor: one D-Bus round trip to the daemon (Peer.Ping, which
	// does no work) from a small C client.
	floor := b.times(100, "busctl --system call "+api.BusName+" "+api.ObjectPath+" org.freedesktop.DBus.Peer Ping")
	all := append(slices.Clone(human), js...)
	p99, f99 := quantile(all, 0.99), quantile(floor, 0.99)
	b.add(figure{ID: "P7", Name: "herdctlctl jobs --limit 50 (and --json) with 10k records", Value: p99, Unit: "ms p99",
		Floor: fmt.Sprintf("busctl call Peer.Ping %.1f ms p99", f99), Ratio: p99 / f99,
		Goal: "p99 ≤ 50 ms", Met: p99 <= 50,
		Detail: fmt.Sprintf("human p50 %.1f / p99 %.1f ms, --json p50 %.1f / p99 %.1f ms, 100 runs each; busctl p50 %.1f ms", median(human), quantile(human, 0.99), median(js), quantile(js, 0.99), median(floor))})
}

// p11: herdctlctl cost over 100k job records (20 agents, 100 days),
// against herdctlctl agents, the same binary's smallest call to the
// daemon.
func (b *bench) p11() {
	now := time.Now()
	const n = 100_000
	b.writeRecords(n, func(i int) api.Job {
		start := now.Add(-time.Duration(i) * 100 * 24 * time.Hour / n)
		fin := start.Add(time.Minute)
		return api.Job{ID: fmt.Sprintf("20240101-%06d-%06x", i%1000000, i), Agent: fmt.Sprintf("a%04d", i%20), Schedule: "s0", Trigger: state.TriggerSchedule,
			Started: start, Finished: &fin, DurationMS: 60000, Status: api.StatusCompleted, Turns: 4,
			InputTokens: 12000, OutputTokens: 800, CostUSD: 0.02}
	})
	b.m.Run("systemctl", "restart", "herdctl")
	b.times(3, "herdctlctl cost --since 0")
	cost := b.times(50, "herdctlctl cost --since 0")
	floor := b.times(50, "herdctlctl agents")
	v, f := median(cost), median(floor)
	b.add(figure{ID: "P11", Name: "herdctlctl cost --since 0 with 100k job records", Value: v, Unit: "ms p50",
		Floor: fmt.Sprintf("herdctlctl agents %.1f ms", f), Ratio: v / f, Goal: "≤ 100 ms", Met: v <= 100,
		Detail: fmt.Sprintf("p99 %.1f ms; 50 runs each", quantile(cost, 0.99))})
}

// writeRecords writes n synthetic job records into the machine's state,
// as the runner does (herdctl is restarted to read them).
func (b *bench) writeRecords(n int, job func(i int) api.Job) {
	dir := b.m.Path("/var/lib/herdctl/jobs")
	for i := range n {
		j := job(i)
		buf, _ := json.Marshal(j)
		if err := os.WriteFile(filepath.Join(dir, j.ID+".json"), buf, state.RecordMode); err != nil {
			b.t.Fatal(err)
		}
	}
}

// daemonRSS is the idle daemon's resident memory in MiB, and the part of
// it that is its own (anonymous: heap, stacks) rather than the binary's
// pages.
func (b *bench) daemonRSS() (rss, anon float64) {
	time.Sleep(3 * time.Second)
	out := b.m.Sh(`awk '/^(VmRSS|RssAnon):/ {print $2}' /proc/$(systemctl show -p MainPID --value herdctl)/status`)
	fmt.Sscan(out, &rss, &anon)
	return rss / 1024, anon / 1024
}

// daemonReloads counts systemd's daemon-reloads since cursor.
func (b *bench) daemonReloads(cursor string) int {
	// "Reloading." alone: a service's reload job logs "Reloading NAME...".
	out, _ := b.m.Try("sh", "-c", "journalctl --no-pager -o cat _PID=1 --after-cursor='"+cursor+"' | grep -cE '^Reloading\\.?$'")
	n, _ := strconv.Atoi(strings.TrimSpace(out))
	return n
}

func (b *bench) cursor() string {
	out := b.m.Run("journalctl", "--no-pager", "-n", "1", "--show-cursor", "-o", "cat")
	_, c, _ := strings.Cut(out, "-- cursor: ")
	return strings.TrimSpace(c)
}

func (b *bench) setFleet(n, k int) {
	for p, c := range benchAgents(n, k) {
		b.m.WriteFile(p, c, 0o644)
	}
	b.m.WriteFile("/etc/herdctl/herdctl.toml", benchFleet(n, k, ""), 0o644)
}

// p3p4: the idle daemon's memory with 10, 100 and 1000 agents and back;
// reloads at 1000 agents × 2 schedules against systemd's own cost (P4);
// whether a reload is live when systemctl reload returns (P8); what the
// daemon pays while unrelated timers start (P9).
func (b *bench) p3p4() {
	rss, anon := map[int]float64{}, map[int]float64{}
	for _, n := range []int{10, 100, 1000} {
		b.setFleet(n, 1)
		b.m.Run("systemctl", "restart", "herdctl")
		rss[n], anon[n] = b.daemonRSS()
	}

	// P4, the floor of the large reload: the same units written by a
	// shell, one daemon-reload, every timer started in one transaction.
	b.setFleet(1000, 2)
	b.m.Sh(`systemctl stop herdctl && rm -f /run/systemd/system/herdctl-* && systemctl daemon-reload &&
rm -rf /var/tmp/floor && herdctl units --out /var/tmp/floor >/dev/null`)
	floorFull := b.times(1, `cp /var/tmp/floor/* /run/systemd/system/ && systemctl daemon-reload && systemctl start herdctl-timers.target`)
	floorTimers := b.activeTimers()
	b.m.Sh(`systemctl stop herdctl-timers.target 'herdctl-*.timer'; rm -f /run/systemd/system/herdctl-*; systemctl daemon-reload`)
	// herdctl: from the bench's own 4 agents to 1000 more with 2
	// schedules each, through systemctl reload (synchronous).
	b.setFleet(0, 1)
	b.m.Run("systemctl", "start", "herdctl")
	b.setFleet(1000, 2)
	c := b.cursor()
	full := b.times(1, "systemctl reload herdctl")
	fullReloads := b.daemonReloads(c)
	timers := b.activeTimers()
	// One agent's schedule changes among 1000, against one bare
	// daemon-reload with the same units loaded; alternated.
	bare := median(b.times(3, "systemctl daemon-reload"))
	var one []float64
	live := 0
	const rounds = 6
	c = b.cursor()
	for i := 0; i < rounds; i++ {
		h := 7 + i%2
		b.m.WriteFile("/srv/herdctl/gen/a0500/agent.toml", fmt.Sprintf("name = \"a0500\"\n[schedules.s0]\ntype = \"interval\"\ninterval = \"%dh\"\nprompt = \"p\"\n", h), 0o644)
		// P8: the new schedule is in systemd when reload returns.
		out := b.m.Sh(`s=$(date +%s%N); systemctl reload herdctl; e=$(date +%s%N); echo $(( (e - s) / 1000 )); systemctl show -p TimersMonotonic --value herdctl-a0500-s0.timer`)
		var us float64
		fmt.Sscan(out, &us)
		one = append(one, us/1000)
		if strings.Contains(out, fmt.Sprintf("OnUnitActiveUSec=%dh", h)) {
			live++
		}
	}
	oneReloads := b.daemonReloads(c)
	rssBig, anonBig := b.daemonRSS()
	b.setFleet(10, 1)
	b.m.Run("systemctl", "reload", "herdctl")
	rssBack, anonBack := b.daemonRSS()

	b.add(figure{ID: "P3", Name: "daemon RSS idle with 100 agents (packaged binary)", Value: rss[100], Unit: "MiB", Goal: "≤ 20 MiB at 100", Met: rss[100] <= 20,
		Detail: fmt.Sprintf("RSS (of it anonymous): 10 agents %.1f (%.1f) MiB, 100 agents %.1f (%.1f), 1000 agents %.1f (%.1f), 1000 × 2 schedules %.1f (%.1f), back at 10 by reload %.1f (%.1f); the rest of RSS is the binary's pages",
			rss[10], anon[10], rss[100], anon[100], rss[1000], anon[1000], rssBig, anonBig, rssBack, anonBack)})
	oneMed := median(one)
	b.add(figure{ID: "P4a", Name: "reload from 4 agents to 1004 (2000 more timers)", Value: full[0] / 1000, Unit: "s",
		Floor: fmt.Sprintf("cp units + daemon-reload + start the timers in one transaction %.2f s", floorFull[0]/1000), Ratio: full[0] / floorFull[0],
		Goal: "≤ 1.3× floor, one daemon-reload", Met: full[0] <= 1.3*floorFull[0] && fullReloads == 1,
		Detail: fmt.Sprintf("%d daemon-reload; %d timers active after (floor: %d)", fullReloads, timers, floorTimers)})
	b.add(figure{ID: "P4b", Name: "reload with one agent's schedule changed among 1004", Value: oneMed / 1000, Unit: "s",
		Floor: fmt.Sprintf("systemctl daemon-reload %.2f s", bare/1000), Ratio: oneMed / bare,
		Goal: "≤ 1.3× floor, one daemon-reload each", Met: oneMed <= 1.3*bare && oneReloads == rounds,
		Detail: fmt.Sprintf("median of %d (min %.2f, max %.2f s); %d daemon-reloads for %d reloads", rounds, slices.Min(one)/1000, slices.Max(one)/1000, oneReloads, rounds)})
	b.add(figure{ID: "P8", Name: "systemctl reload herdctl returns with the new fleet live", Value: float64(live), Unit: fmt.Sprintf("of %d", rounds),
		Goal: "all", Met: live == rounds, Detail: "the changed timer's schedule, read from systemd right after systemctl reload returned"})
	b.p9()
}

// activeTimers counts herdctl's active timers.
func (b *bench) activeTimers() int {
	return strings.Count(b.m.Run("systemctl", "list-units", "--no-legend", "--state=active", "herdctl-*.timer"), ".timer")
}

// p9: the daemon's CPU time while 2000 timers that are not herdctl's are
// started (each a systemd job that ends with a JobRemoved signal).
func (b *bench) p9() {
	b.m.Sh(`cd /run/systemd/system && for i in $(seq 2000); do
printf '[Unit]\nDescription=unrelated %d\n[Timer]\nOnActiveSec=1h\nUnit=unrelated-%d.service\n' $i $i > unrelated-$i.timer
printf '[Service]\nExecStart=/bin/true\n' > unrelated-$i.service
done; { echo '[Unit]'; for i in $(seq 2000); do echo "Wants=unrelated-$i.timer"; done; } > unrelated.target; systemctl daemon-reload`)
	cpu := func() float64 {
		var ut, st float64
		fields := strings.Fields(b.m.Sh(`cat /proc/$(systemctl show -p MainPID --value herdctl)/stat`))
		fmt.Sscan(fields[13], &ut)
		fmt.Sscan(fields[14], &st)
		return (ut + st) / 100 // clock ticks
	}
	time.Sleep(2 * time.Second)
	before := cpu()
	took := b.times(1, "systemctl start unrelated.target")
	time.Sleep(2 * time.Second)
	after := cpu()
	n := strings.Count(b.m.Run("systemctl", "list-units", "--no-legend", "--state=active", "unrelated-*.timer"), ".timer")
	b.m.Sh(`systemctl stop unrelated.target 'unrelated-*.timer'; rm -f /run/systemd/system/unrelated*; systemctl daemon-reload`)
	b.add(figure{ID: "P9", Name: "daemon CPU while 2000 unrelated timers start", Value: after - before, Unit: "s",
		Goal: "≤ 0.02 s", Met: after-before <= 0.02,
		Detail: fmt.Sprintf("%d timers started in %.1f s; CPU time of herdctl's main process over that and 2 s after (clock ticks of 10 ms)", n, took[0]/1000)})
}

func (b *bench) write() {
	machine := fmt.Sprintf("%d cores (%s), %s; systemd %s; in a systemd-nspawn machine over an overlay of the host",
		runtime.NumCPU(), cpuModel(), strings.TrimSpace(b.m.Run("uname", "-sr")), strings.Fields(b.m.Run("systemctl", "--version"))[1])
	res := map[string]any{"machine": machine, "date": time.Now().UTC().Format(time.RFC3339), "figures": b.figures}
	buf, _ := json.MarshalIndent(res, "", "  ")
	os.WriteFile("results.json", append(buf, '\n'), 0o644)
	var s strings.Builder
	fmt.Fprintf(&s, "# herdctl performance\n\nGenerated by `make bench` (bench/bench_test.go) on %s.\n\nMachine: %s.\n\n", time.Now().UTC().Format("2006-01-02"), machine)
	s.WriteString("| # | figure | value | floor | ratio | goal | met | detail |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, f := range b.figures {
		ratio := ""
		if f.Ratio != 0 {
			ratio = fmt.Sprintf("%.2f×", f.Ratio)
		}
		met := "yes"
		if !f.Met {
			met = "**no**"
		}
		fmt.Fprintf(&s, "| %s | %s | %.2f %s | %s | %s | %s | %s | %s |\n", f.ID, f.Name, f.Value, f.Unit, f.Floor, ratio, f.Goal, met, f.Detail)
	}
	b.t.Logf("\n%s", s.String())
	os.WriteFile("../docs/performance.table.md", []byte(s.String()), 0o644)
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}

// probeScript times 30 small and 5 large downloads from the bench's
// origin; HERDCTL_PROMPT says how to reach it (through the proxy by name,
// or straight to the address).
const probeScript = `set -u
for i in $(seq 30); do curl -s $HERDCTL_PROMPT -o /dev/null -w 'SMALL %{time_starttransfer}\n' http://origin.bench.test:47300/small; done
for i in $(seq 5); do curl -s $HERDCTL_PROMPT -o /dev/null -w 'BIG %{speed_download}\n' http://origin.bench.test:47300/big; done
`

// p10: time to first byte and throughput through the egress proxy against
// the same downloads on the host's network, from jobs of the packaged
// herdctl.
func (b *bench) p10() {
	b.m.Sh("grep -q origin.bench.test /etc/hosts || echo '127.0.0.1 origin.bench.test' >> /etc/hosts")
	ln, err := testbed.ListenInNetns(b.m.PID, "127.0.0.1:47300")
	if err != nil {
		b.t.Fatal(err)
	}
	big := make([]byte, 256<<20)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Write(big)
			return
		}
		w.Write([]byte("x"))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	var why []string
	run := func(agent, how string) (ttfb, speed []float64) {
		out := b.m.Run("herdctlctl", "trigger", "--wait", "--json", "--prompt", how, agent)
		var j api.Job
		if err := json.NewDecoder(strings.NewReader(out[strings.Index(out, "{"):])).Decode(&j); err != nil {
			b.t.Fatalf("%s: %v\n%s", agent, err, out)
		}
		log := b.m.Run("journalctl", "--namespace="+state.JournalNamespace, "--no-pager", "-o", "cat", "HERDCTL_JOB="+j.ID)
		why = append(why, fmt.Sprintf("%s: job %s %s %s; its journal ends:\n%s", agent, j.ID, j.Status, j.ExitReason, tail(log, 15)))
		for _, l := range strings.Split(log, "\n") {
			var v float64
			if _, err := fmt.Sscanf(l, "output: SMALL %f", &v); err == nil {
				ttfb = append(ttfb, v*1000)
			}
			if _, err := fmt.Sscanf(l, "output: BIG %f", &v); err == nil {
				speed = append(speed, v/(1<<20))
			}
		}
		return ttfb, speed
	}
	// Through a CONNECT tunnel (curl -p), as https and Claude Code go;
	// as an absolute-form http request, which the proxy forwards; and
	// straight from the host's network.
	pt, ps := run("egressprobe", "-p")
	ft, fs := run("egressprobe", "--proxy-header X:y")
	dt, ds := run("directprobe", "--resolve origin.bench.test:47300:127.0.0.1")
	if len(pt) == 0 || len(ft) == 0 || len(dt) == 0 || len(ps) == 0 || len(fs) == 0 || len(ds) == 0 {
		b.t.Errorf("P10: missing samples: %d %d %d %d %d %d\n%s", len(pt), len(ft), len(dt), len(ps), len(fs), len(ds), strings.Join(why, "\n"))
		return
	}
	over := median(pt) - median(dt)
	ratio := median(ps) / median(ds)
	b.add(figure{ID: "P10", Name: "egress proxy (CONNECT): first byte added / throughput vs the host's network", Value: over, Unit: "ms",
		Floor: fmt.Sprintf("direct first byte %.2f ms, %.0f MiB/s", median(dt), median(ds)), Ratio: ratio,
		Goal: "≤ 2 ms added, ≥ 0.8× throughput", Met: over <= 2 && ratio >= 0.8,
		Detail: fmt.Sprintf("medians of %d small and %d 256 MiB downloads with curl in a job, all on loopback: through a tunnel %.2f ms and %.0f MiB/s; forwarded as plain http %.2f ms (+%.2f) and %.0f MiB/s (%.2f×)",
			len(pt), len(ps), median(pt), median(ps), median(ft), median(ft)-median(dt), median(fs), median(fs)/median(ds))})
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

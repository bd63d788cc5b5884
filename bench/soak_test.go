package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// soakCounts are the soak's jobs and reloads: 10,000 and 1,000, or
// HERDCTL_SOAK_JOBS and HERDCTL_SOAK_RELOADS (a shorter run while
// developing; the figures say how many ran).
func soakCounts() (jobs, reloads int) {
	jobs, reloads = 10000, 1000
	if n, err := strconv.Atoi(os.Getenv("HERDCTL_SOAK_JOBS")); err == nil && n > 0 {
		jobs = n
	}
	if n, err := strconv.Atoi(os.Getenv("HERDCTL_SOAK_RELOADS")); err == nil && n > 0 {
		reloads = n
	}
	return jobs, reloads
}

// soakChunk is how many jobs or reloads one command in the machine runs.
const soakChunk = 250

// daemonFigures are what the daemon says of itself on SIGUSR1 (its
// "runtime" entry: goroutines, open_files, heap_bytes) and its RSS.
type daemonFigures struct {
	rss                 float64 // MiB
	goroutines, files   int
	heap                float64 // MiB
	stateBytes, records int64
}

func (b *bench) daemonFigures() daemonFigures {
	var f daemonFigures
	f.rss, _ = b.daemonRSS()
	b.m.Run("systemctl", "kill", "-s", "USR1", "--kill-whom=main", "herdctl")
	time.Sleep(time.Second)
	line := strings.TrimSpace(b.m.Sh("journalctl -u herdctl --no-pager -o cat | grep '^runtime ' | tail -1"))
	for _, kv := range strings.Fields(line) {
		k, v, _ := strings.Cut(kv, "=")
		n, _ := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
		switch k {
		case "goroutines":
			f.goroutines = int(n)
		case "open_files":
			f.files = int(n)
		case "heap_bytes":
			f.heap = float64(n) / (1 << 20)
		}
	}
	// What the jobs' state takes on disk (allocated blocks): records and
	// hook results, the per-job files herdctl keeps.
	fmt.Sscan(b.m.Sh("du -s --block-size=1 /var/lib/herdctl/jobs /var/lib/herdctl/hooks 2>/dev/null | awk '{s+=$1} END {print s+0}'"), &f.stateBytes)
	fmt.Sscan(b.m.Sh("ls /var/lib/herdctl/jobs | grep -c '\\.json$' || true"), &f.records)
	return f
}

// p12: the soak. Jobs one after another, then reloads that each change
// an agent's file, on the packaged daemon: its RSS, open files and
// goroutines before and after, and the state each job leaves. Each job is
// triggered with --queue: trigger --wait returns once the job's record
// says it ended, which can be a moment before its unit is inactive, and
// without --queue the next trigger is then refused as over
// max_concurrent.
func (b *bench) p12() {
	jobs, reloads := soakCounts()
	b.times(20, "herdctlctl trigger --wait --queue trivial") // warm up: the daemon's steady state
	before := b.daemonFigures()
	start := time.Now()
	// In chunks: one command in the machine may take 3 minutes at most.
	var out string
	for done := 0; done < jobs; done += soakChunk {
		out += b.m.Sh(fmt.Sprintf(`for i in $(seq %d); do o=$(herdctlctl trigger --wait --queue trivial 2>&1) || echo "FAIL $o" | tail -1; done`, min(soakChunk, jobs-done)))
	}
	failed := strings.Count(out, "FAIL")
	if failed > 0 {
		b.t.Logf("failed jobs:\n%s", tail(out, 2000))
	}
	jobTime := time.Since(start)
	start = time.Now()
	out = ""
	for done := 0; done < reloads; done += soakChunk {
		out += b.m.Sh(fmt.Sprintf(`for i in $(seq %d %d); do printf 'name = "a0000"\ndescription = "soak %%s"\n' $i > /srv/herdctl/gen/a0000/agent.toml; herdctlctl reload --quiet >/dev/null 2>&1 || echo FAIL; done`, done+1, min(done+soakChunk, reloads)))
	}
	reloadTime := time.Since(start)
	after := b.daemonFigures()

	ran := fmt.Sprintf("%d jobs in %.0f s (%d failed), %d reloads in %.0f s (%d failed)", jobs, jobTime.Seconds(), failed, reloads, reloadTime.Seconds(), strings.Count(out, "FAIL"))
	growth := after.rss - before.rss
	b.add(figure{ID: "P12a", Name: "soak: daemon RSS growth", Value: growth, Unit: "MiB", Goal: "≤ 4 MiB", Met: growth <= 4,
		Detail: fmt.Sprintf("%.1f → %.1f MiB (Go heap %.1f → %.1f MiB); %s", before.rss, after.rss, before.heap, after.heap, ran)})
	b.add(figure{ID: "P12b", Name: "soak: daemon open files", Value: float64(after.files), Unit: "after", Goal: "flat", Met: after.files <= before.files,
		Detail: fmt.Sprintf("%d before, %d after", before.files, after.files)})
	b.add(figure{ID: "P12c", Name: "soak: daemon goroutines", Value: float64(after.goroutines), Unit: "after", Goal: "flat", Met: after.goroutines <= before.goroutines,
		Detail: fmt.Sprintf("%d before, %d after", before.goroutines, after.goroutines)})
	perJob := float64(after.stateBytes-before.stateBytes) / float64(max(after.records-before.records, 1)) / 1024
	b.add(figure{ID: "P12d", Name: "soak: state per job on disk (record and hook results, allocated)", Value: perJob, Unit: "KiB", Goal: "≤ 16 KiB", Met: perJob <= 16,
		Detail: fmt.Sprintf("%d → %d records, %.1f → %.1f MiB", before.records, after.records, float64(before.stateBytes)/(1<<20), float64(after.stateBytes)/(1<<20))})
}

package daemon

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

// TestIndexHeapPerJob loads records like the soak's (bench P12: manual
// jobs of /usr/bin/true) into a daemon and reports the heap the index
// keeps per job. HERDCTL_INDEX_JOBS sets how many (10,000 by default).
//
//	go test -count=1 -v -run '^TestIndexHeapPerJob$' ./service/daemon
func TestIndexHeapPerJob(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10,000 records")
	}
	n := 10000
	if s := os.Getenv("HERDCTL_INDEX_JOBS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	l := state.Layout{StateDir: t.TempDir() + "/state", RuntimeDir: t.TempDir()}
	recs := state.Records{Layout: l}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		began := start.Add(time.Duration(i) * 1500 * time.Millisecond)
		end := began.Add(900 * time.Millisecond)
		code := 0
		id := fmt.Sprintf("%s-%06x", began.Format("20060102-150405"), i)
		j := &api.Job{ID: id, Agent: "soak", Trigger: state.TriggerManual, Unit: units.ManualServiceName("soak", id),
			Invocation: fmt.Sprintf("%032x", i), Started: began, Finished: &end, DurationMS: 900,
			Status: state.StatusCompleted, ExitCode: &code}
		if err := recs.Write(j); err != nil {
			t.Fatal(err)
		}
	}
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	d := &Daemon{Layout: l, Log: zap.NewNop()}
	before := heap()
	if err := d.loadJobs(); err != nil {
		t.Fatal(err)
	}
	after := heap()
	runtime.KeepAlive(d)
	per := float64(int64(after)-int64(before)) / float64(n)
	t.Logf("%d jobs: heap %d → %d bytes: %.0f bytes per job", n, before, after, per)
}

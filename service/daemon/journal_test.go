package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// fakeJournalctl is a journalctl that writes its arguments to a file and
// prints n entries of size bytes each, their fields in no set order, as
// journalctl -o json writes them.
func fakeJournalctl(t *testing.T, n, size int) (path, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	path, argsFile = filepath.Join(dir, "journalctl"), filepath.Join(dir, "args")
	script := fmt.Sprintf(`#!/bin/sh
printf '%%s\n' "$@" > %s
pad=$(head -c %d /dev/zero | tr '\0' x)
i=1
while [ $i -le %d ]; do
  printf '{ "MESSAGE" : "%%s", "__CURSOR" : "s=1;i=%%d", "__REALTIME_TIMESTAMP" : "1765000000000000" }\n' "$pad" $i
  i=$((i+1))
done
`, argsFile, size, n)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, argsFile
}

// TestReadJournal: the daemon reads a job's (by unique prefix) or a known
// agent's entries with journalctl, in pages of bounded size; anything
// else is refused before journalctl runs.
func TestReadJournal(t *testing.T) {
	r := newDaemonRig(t)
	r.start()
	const id = "20260101-000000-aaaaaa"
	state.Records{Layout: r.d.Layout}.Write(&api.Job{ID: id, Agent: "alpha", Status: state.StatusCompleted, Started: time.Now()})
	r.d.jobChanged(id)
	ctx := context.Background()

	var argsFile string
	r.d.Journalctl, argsFile = fakeJournalctl(t, 3, 10)
	args := func() string {
		b, _ := os.ReadFile(argsFile)
		return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", " ")
	}

	p, err := r.d.ReadJournal(ctx, api.JournalQuery{Job: "20260101"})
	if err != nil || len(p.Entries) != 3 || p.Cursor != "s=1;i=3" || p.More {
		t.Fatalf("a job by prefix: %+v, %v", p, err)
	}
	// Only root's entries: anyone can log HERDCTL_JOB=ID.
	if got := args(); got != "--namespace=+herdctl --no-pager --all -o json --quiet HERDCTL_JOB="+id+" _UID=0" {
		t.Errorf("journalctl %s", got)
	}
	if _, err := r.d.ReadJournal(ctx, api.JournalQuery{Agent: "alpha", AfterCursor: "s=1;i=3"}); err != nil {
		t.Fatal(err)
	}
	if got := args(); got != "--namespace=+herdctl --no-pager --all -o json --quiet --after-cursor=s=1;i=3 HERDCTL_AGENT=alpha _UID=0" {
		t.Errorf("journalctl %s", got)
	}
	if _, err := r.d.ReadJournal(ctx, api.JournalQuery{Agent: "beta", Lines: 5}); err != nil || !strings.HasSuffix(args(), "--lines=5 HERDCTL_AGENT=beta _UID=0") {
		t.Errorf("the last 5: journalctl %s, %v", args(), err)
	}

	os.Remove(argsFile)
	for _, q := range []api.JournalQuery{
		{Agent: "gamma"}, {Agent: "-f"}, {Job: "2027"}, {Job: "--since=2000"}, {}, {Job: id, Agent: "alpha"},
		{Agent: "alpha", AfterCursor: "x --merge"}, {Agent: "alpha", AfterCursor: "-f"}, {Agent: "alpha", Lines: -1},
	} {
		_, err := r.d.ReadJournal(ctx, q)
		if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInvalidArgs) {
			t.Errorf("%+v: %v", q, err)
		}
	}
	if _, err := os.Stat(argsFile); err == nil {
		t.Errorf("journalctl ran for a refused query: %s", args())
	}

	// 300 entries of 10 KiB: the first page stops short of 1 MiB.
	r.d.Journalctl, _ = fakeJournalctl(t, 300, 10<<10)
	p, err = r.d.ReadJournal(ctx, api.JournalQuery{Job: id})
	if err != nil || !p.More || len(p.Entries) == 0 || len(p.Entries) >= 300 || len(strings.Join(p.Entries, "")) > journalPageBytes {
		t.Errorf("a big journal: %d entries, more %v, %v", len(p.Entries), p.More, err)
	} else if want := fmt.Sprintf("s=1;i=%d", len(p.Entries)); p.Cursor != want {
		t.Errorf("cursor %s, want %s", p.Cursor, want)
	}

	// One entry of 40 MiB (an agent's line of backslashes, escaped by
	// journalctl): a reply that big would make the bus drop the daemon.
	// It comes as a stub that says so, and keeps its cursor.
	r.d.Journalctl, _ = fakeJournalctl(t, 2, 40<<20)
	p, err = r.d.ReadJournal(ctx, api.JournalQuery{Job: id})
	if err != nil || len(p.Entries) != 2 || len(strings.Join(p.Entries, "")) > journalPageBytes || p.Cursor != "s=1;i=2" ||
		!strings.Contains(p.Entries[0], "left out") || !strings.Contains(p.Entries[0], `"__CURSOR":"s=1;i=1"`) || !strings.Contains(p.Entries[0], `"__REALTIME_TIMESTAMP":"1765000000000000"`) {
		t.Errorf("huge entries: %d entries, %d bytes, cursor %s, %v\n%.300s", len(p.Entries), len(strings.Join(p.Entries, "")), p.Cursor, err, strings.Join(p.Entries, "\n"))
	}
}

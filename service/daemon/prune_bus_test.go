package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/service/api"
)

// TestPruneFitsTheBus (the red team's chat/prune R1): an agent's uid
// writes its home at any moment, so it can leave a hundred thousand old
// transcripts under project directories with 250-byte names. Prune's
// answer must still pass the bus (a reply over its limit makes the bus
// drop the daemon for every client, and herdctl-prune.timer asks for it
// daily): the paths listed are bounded and the rest counted.
func TestPruneFitsTheBus(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 100k files")
	}
	r := newBusRig(t, false, "")
	old := time.Now().Add(-400 * 24 * time.Hour)
	projects := r.d.Layout.TranscriptsDir("alpha")
	const dirs, per = 400, 250
	for i := range dirs {
		d := filepath.Join(projects, fmt.Sprintf("%03d", i)+strings.Repeat("-", 247))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for k := range per {
			p := filepath.Join(d, fmt.Sprintf("%08d-0000-4000-8000-%012d.jsonl", i, k))
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, old, old)
		}
	}
	for _, dry := range []bool{true, false} {
		res, err := r.client.Prune(context.Background(), api.PruneOptions{DryRun: dry})
		if err != nil {
			t.Fatalf("prune (dry run %v) of %d old transcripts: %v", dry, dirs*per, err)
		}
		if n := res.TranscriptCount(); n != dirs*per {
			t.Errorf("dry run %v: %d transcripts counted, want %d", dry, n, dirs*per)
		}
		if _, err := r.client.Status(context.Background()); err != nil {
			t.Fatalf("the daemon is gone from the bus after a prune (dry run %v): %v", dry, err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(projects, "*", "*.jsonl"))
	if len(left) != 0 {
		t.Errorf("%d transcripts left", len(left))
	}
}

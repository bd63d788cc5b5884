package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/state"
)

func runPruneTranscripts(args []string) error {
	fs := cli.NewFlagSet("prune-transcripts", "herdctl prune-transcripts --before TIME --keep FILE --out FILE",
		`Remove the Claude Code transcripts in the agents' homes last written
before TIME (RFC 3339) whose session is not listed in FILE (one session id
a line), never following a link an agent made: what the daemon's
herdctl-prune-transcripts unit runs for herdctlctl prune, never by hand.
Writes what it removed as JSON to the --out file.`)
	before := fs.String("before", "", "remove what was last written before this time (RFC 3339)")
	keep := fs.String("keep", "", "the file listing the sessions to keep")
	out := fs.String("out", "", "where to write what was removed (JSON)")
	l := state.Default()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	cutoff, err := time.Parse(time.RFC3339Nano, *before)
	if err != nil || *keep == "" || *out == "" {
		return cli.Exitf(cli.ExitUsage, "prune-transcripts needs --before TIME (RFC 3339), --keep FILE and --out FILE")
	}
	b, err := state.ReadFileCapped(*keep, 64<<20)
	if err != nil {
		return fmt.Errorf("the sessions to keep: %w", err)
	}
	sessions := map[string]bool{}
	for _, id := range strings.Fields(string(b)) {
		sessions[id] = true
	}
	res := l.PruneAllTranscripts(cutoff, sessions, false)
	j, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return state.WriteFileAtomic(*out, j, 0o600)
}

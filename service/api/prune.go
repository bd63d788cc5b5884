package api

import (
	"context"
	"time"
)

// MethodPrune removes what is older than the retention (root and group
// herdctl).
const MethodPrune = "Prune"

// PruneOptions are Prune's arguments.
type PruneOptions struct {
	// OlderThan replaces the fleet's retention ([fleet] retention) when
	// not 0.
	OlderThan time.Duration `json:"older_than_usec,omitempty"`
	// DryRun lists what would go and removes nothing.
	DryRun bool `json:"dry_run,omitempty"`
}

// PruneResult is what Prune removed, or would remove (DryRun).
type PruneResult struct {
	DryRun bool `json:"dry_run,omitempty"`
	// Cutoff is the end of what was pruned: everything that ended before
	// it went, nothing running or queued.
	Cutoff time.Time `json:"cutoff"`
	// Jobs are the ended jobs whose records (with their prompts and
	// results) and hook results went.
	Jobs []string `json:"jobs"`
	// DayFiles are the daily cost and log pools of days before the cutoff.
	DayFiles []string `json:"day_files"`
	// Transcripts are Claude Code session transcripts in the agents'
	// homes, last written before the cutoff, of no kept job's session.
	// At most state.MaxPruneListed are listed; TranscriptsOmitted
	// counts the others.
	Transcripts        []string `json:"transcripts"`
	TranscriptsOmitted int      `json:"transcripts_omitted,omitempty"`
	// Bytes is what all of it took on disk.
	Bytes int64 `json:"bytes"`
	// Errors are what could not be removed, and why.
	Errors []string `json:"errors,omitempty"`
}

// TranscriptCount is how many transcripts went, listed or not.
func (r *PruneResult) TranscriptCount() int { return len(r.Transcripts) + r.TranscriptsOmitted }

// Prune calls Prune.
func (c *Client) Prune(ctx context.Context, o PruneOptions) (*PruneResult, error) {
	var r PruneResult
	return &r, c.get(ctx, MethodPrune, &r, Encode(o))
}

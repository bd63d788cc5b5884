package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

// keepRetention remembers the fleet's [fleet] retention for Prune.
func (d *Daemon) keepRetention(r time.Duration) {
	d.mu.Lock()
	d.retention = r
	d.mu.Unlock()
}

// Retention is how long the daemon keeps what jobs leave: the fleet's
// [fleet] retention, or policy.DefaultRetention.
func (d *Daemon) Retention() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.retention > 0 {
		return d.retention
	}
	return policy.DefaultRetention
}

// Prune removes what ended before now minus the retention (o.OlderThan
// when set): the records of ended jobs (with their prompts and results)
// and their hook results, the daily cost and log pools of earlier days,
// and the Claude Code transcripts in the agents' homes that no kept
// job's session needs. A queued or running job is never touched, nor the
// session an agent resumes next. With o.DryRun it only says what would
// go. The caller is authorized by the D-Bus layer.
func (d *Daemon) Prune(ctx context.Context, o api.PruneOptions) (*api.PruneResult, error) {
	keep := o.OlderThan
	if keep == 0 {
		keep = d.Retention()
	}
	if keep < config.MinRetention {
		// As herdctlctl prune and [fleet] retention: a caller on the
		// bus (any member of group herdctl) gets no shorter age either.
		return nil, errorf(ErrInvalidArgs, "older than %s is shorter than a day: give 1d or more, e.g. 30d", keep)
	}
	d.apply.Lock() // no job is triggered or queued meanwhile
	defer d.apply.Unlock()
	res := &api.PruneResult{DryRun: o.DryRun, Cutoff: d.now().Add(-keep), Jobs: []string{}, DayFiles: []string{}, Transcripts: []string{}}

	d.mu.Lock()
	var gone []string
	sessions := map[string]bool{}
	x := &d.index
	for i := range x.entries {
		j := &x.entries[i]
		if api.Finished(x.status(j)) && j.end().Before(res.Cutoff) {
			gone = append(gone, j.id())
			continue
		}
		sessions[x.session(j)], sessions[x.resume(j)] = true, true
	}
	d.mu.Unlock()
	sort.Strings(gone)

	for _, id := range gone {
		if ctx.Err() != nil {
			break
		}
		res.Bytes += d.Layout.JobStateSize(id)
		if !o.DryRun {
			if err := d.Layout.RemoveJob(id); err != nil {
				res.Errors = append(res.Errors, fmt.Sprintf("job %s: %v", id, err))
				continue
			}
		}
		res.Jobs = append(res.Jobs, id)
	}
	if !o.DryRun {
		d.mu.Lock()
		d.index.remove(res.Jobs)
		d.mu.Unlock()
		d.forgetHooks(res.Jobs)
	}

	for _, p := range d.Layout.DayFiles() {
		day, ok := state.DayFileDay(p)
		if !ok || !day.AddDate(0, 0, 1).Before(res.Cutoff) {
			continue
		}
		if fi, err := os.Lstat(p); err == nil {
			res.Bytes += fi.Size()
		}
		if !o.DryRun {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				res.Errors = append(res.Errors, err.Error())
				continue
			}
		}
		res.DayFiles = append(res.DayFiles, p)
	}

	// Every agent with a state directory, in the fleet or not: a removed
	// agent's transcripts age out too. The session each resumes next
	// stays.
	delete(sessions, "")
	tp, err := d.pruneTranscripts(ctx, res.Cutoff, sessions, o.DryRun)
	if err != nil {
		res.Errors = append(res.Errors, "transcripts: "+err.Error())
	}
	res.Transcripts = append(res.Transcripts, tp.Removed...)
	res.TranscriptsOmitted = tp.Omitted
	res.Bytes += tp.Bytes
	res.Errors = append(res.Errors, tp.Errors...)
	if !o.DryRun && (len(res.Jobs) > 0 || len(res.DayFiles) > 0 || res.TranscriptCount() > 0) {
		d.Log.Info("pruned", zap.Int("jobs", len(res.Jobs)), zap.Int("day_files", len(res.DayFiles)),
			zap.Int("transcripts", res.TranscriptCount()), zap.Int64("bytes", res.Bytes), zap.Time("cutoff", res.Cutoff))
	}
	return res, ctx.Err()
}

// pruneTranscripts prunes the agents' transcripts (state.PruneAllTranscripts).
// The daemon itself may only read the agents' homes (its sandbox keeps
// CAP_DAC_READ_SEARCH alone), so a dry run looks in process and a real one
// runs herdctl prune-transcripts in a transient unit of its own
// (units.TranscriptPruneProperties), which may remove the agents' files
// and nothing else; with no systemd to ask (d.Hooks nil: tests) it runs in
// process.
func (d *Daemon) pruneTranscripts(ctx context.Context, cutoff time.Time, keep map[string]bool, dryRun bool) (state.TranscriptPrune, error) {
	if dryRun || d.Hooks == nil {
		return d.Layout.PruneAllTranscripts(cutoff, keep, dryRun), nil
	}
	var none state.TranscriptPrune
	dir := d.Layout.PruneRunDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return none, err
	}
	defer os.RemoveAll(dir)
	ids := make([]string, 0, len(keep))
	for id := range keep {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if err := state.WriteFileAtomic(d.Layout.PruneKeepFile(), []byte(strings.Join(ids, "\n")+"\n"), 0o600); err != nil {
		return none, err
	}
	argv := []string{d.hookProgram(), "prune-transcripts", "--before=" + cutoff.UTC().Format(time.RFC3339Nano),
		"--keep=" + d.Layout.PruneKeepFile(), "--out=" + d.Layout.PruneResultFile()}
	result, err := d.Hooks.RunTransient(ctx, units.TranscriptPruneUnit, units.TranscriptPruneProperties(argv, d.Layout))
	if err != nil {
		return none, err
	}
	if result != "done" {
		d.Hooks.ResetFailed(ctx, units.TranscriptPruneUnit)
		return none, fmt.Errorf("%s: %s (journalctl -u %s)", units.TranscriptPruneUnit, result, units.TranscriptPruneUnit)
	}
	b, err := state.ReadFileCapped(d.Layout.PruneResultFile(), 64<<20)
	if err != nil {
		return none, err
	}
	var out state.TranscriptPrune
	if err := json.Unmarshal(b, &out); err != nil {
		return none, fmt.Errorf("%s: %w", d.Layout.PruneResultFile(), err)
	}
	return out, nil
}

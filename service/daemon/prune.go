package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/herdctl/herdctl/internal/safepath"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
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
	if keep < 0 {
		return nil, errorf(ErrInvalidArgs, "older than %s: give a positive age, e.g. 30d", keep)
	}
	d.apply.Lock() // no job is triggered or queued meanwhile
	defer d.apply.Unlock()
	res := &api.PruneResult{DryRun: o.DryRun, Cutoff: d.now().Add(-keep), Jobs: []string{}, DayFiles: []string{}, Transcripts: []string{}}

	d.mu.Lock()
	var gone []string
	sessions := map[string]bool{}
	for id, j := range d.jobs {
		if api.Finished(j.Status) && jobEnd(j).Before(res.Cutoff) {
			gone = append(gone, id)
			continue
		}
		sessions[j.SessionID], sessions[j.Resume] = true, true
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
			d.mu.Lock()
			delete(d.jobs, id)
			d.mu.Unlock()
		}
		res.Jobs = append(res.Jobs, id)
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
	entries, _ := os.ReadDir(d.Layout.AgentsDir())
	for _, e := range entries {
		if e.IsDir() {
			sessions[d.Layout.ReadLastSession(e.Name()).ID] = true
		}
	}
	for _, e := range entries {
		if !e.IsDir() || ctx.Err() != nil {
			continue
		}
		paths, n, errs := pruneTranscripts(d.Layout.TranscriptsDir(e.Name()), res.Cutoff, sessions, o.DryRun)
		res.Transcripts = append(res.Transcripts, paths...)
		res.Bytes += n
		res.Errors = append(res.Errors, errs...)
	}
	if !o.DryRun && (len(res.Jobs) > 0 || len(res.DayFiles) > 0 || len(res.Transcripts) > 0) {
		d.Log.Info("pruned", zap.Int("jobs", len(res.Jobs)), zap.Int("day_files", len(res.DayFiles)),
			zap.Int("transcripts", len(res.Transcripts)), zap.Int64("bytes", res.Bytes), zap.Time("cutoff", res.Cutoff))
	}
	return res, ctx.Err()
}

// pruneTranscripts removes, in dir (an agent's
// ~/.claude/projects, which the agent's uid writes), every
// projects/<directory>/<session>.jsonl last written before cutoff whose
// session is not in keep. Nothing is followed: both directories are
// opened without symbolic links (safepath), and each file is looked at
// and removed relative to its directory's descriptor, never by a path
// the agent could swap.
func pruneTranscripts(dir string, cutoff time.Time, keep map[string]bool, dryRun bool) (removed []string, bytes int64, errs []string) {
	projects, err := openDir(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err.Error())
		}
		return nil, 0, errs
	}
	names, _ := projects.Readdirnames(-1)
	projects.Close()
	sort.Strings(names)
	for _, project := range names {
		pdir := filepath.Join(dir, project)
		f, err := openDir(pdir)
		if err != nil {
			continue // not a directory, or a link: not Claude Code's
		}
		files, _ := f.Readdirnames(-1)
		sort.Strings(files)
		for _, name := range files {
			session, ok := strings.CutSuffix(name, ".jsonl")
			if !ok || !state.IsSessionID(session) || keep[session] {
				continue
			}
			var st unix.Stat_t
			if unix.Fstatat(int(f.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
				continue
			}
			if !time.Unix(st.Mtim.Unix()).Before(cutoff) {
				continue
			}
			if !dryRun {
				if err := unix.Unlinkat(int(f.Fd()), name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
					errs = append(errs, fmt.Sprintf("%s: %v", filepath.Join(pdir, name), err))
					continue
				}
			}
			removed = append(removed, filepath.Join(pdir, name))
			bytes += st.Size
		}
		f.Close()
	}
	return removed, bytes, errs
}

// openDir opens a directory an agent may control for listing, without
// following a symbolic link anywhere on its path.
func openDir(path string) (*os.File, error) {
	h, err := safepath.OpenDir(path)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return safepath.Reopen(h, unix.O_RDONLY|unix.O_DIRECTORY)
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/service/api"
)

// pruneOptions are prune's flags.
type pruneOptions struct {
	olderThan   string
	dryRun      bool
	json, quiet bool
}

func pruneFlags() (*flag.FlagSet, *pruneOptions) {
	fs := newFlagSet("prune", "herdctlctl prune [--older-than DURATION] [--dry-run] [--quiet] [--json]",
		`Remove what herdctl keeps of jobs that ended longer ago than the fleet's
retention ([fleet] retention, default 90d) or --older-than: their records
(with prompts and results) and hook results, the daily cost and log pools
of earlier days, and the Claude Code transcripts in the agents' homes of
sessions no kept job ran in. Running and queued jobs are never touched,
nor the session an agent resumes next. Prints what it removed. The
package's herdctl-prune.timer runs it once a day. Needs root or group
herdctl.

Example:
  sudo herdctlctl prune --dry-run
  sudo herdctlctl prune --older-than 30d`)
	var o pruneOptions
	fs.StringVar(&o.olderThan, "older-than", "", "prune what ended before this long ago (e.g. 30d) instead of the fleet's retention")
	fs.BoolVar(&o.dryRun, "dry-run", false, "say what would go; remove nothing")
	fs.BoolVar(&o.quiet, "quiet", false, "print only the summary line")
	fs.BoolVar(&o.json, "json", false, "print as JSON")
	return fs, &o
}

func runPrune(c *ctl, args []string) error {
	fs, o := pruneFlags()
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Exitf(cli.ExitUsage, "prune takes no arguments; see herdctlctl prune --help")
	}
	var po api.PruneOptions
	po.DryRun = o.dryRun
	if o.olderThan != "" {
		d, err := config.ParseDuration(o.olderThan)
		if err != nil {
			return cli.Exitf(cli.ExitUsage, "--older-than: %v", err)
		}
		if d < config.MinRetention {
			return cli.Exitf(cli.ExitUsage, "--older-than %s is shorter than a day: give 1d or more", o.olderThan)
		}
		po.OlderThan = d
	}
	cl, err := dial()
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	return daemonError(func() error {
		r, err := cl.Prune(ctx, po)
		if err != nil {
			return err
		}
		return c.output(o.json, r, func(w io.Writer) error { return printPrune(w, time.Now(), r, o.quiet) })
	}())
}

// printPrune writes what prune removed: a line per item, then a summary.
func printPrune(w io.Writer, now time.Time, r *api.PruneResult, quiet bool) error {
	verb := "removed"
	if r.DryRun {
		verb = "would remove"
	}
	if !quiet {
		for _, id := range r.Jobs {
			fmt.Fprintf(w, "%s job %s\n", verb, id)
		}
		for _, p := range r.DayFiles {
			fmt.Fprintf(w, "%s day file %s\n", verb, safe(p))
		}
		for _, p := range r.Transcripts {
			fmt.Fprintf(w, "%s transcript %s\n", verb, safe(p))
		}
		if r.TranscriptsOmitted > 0 {
			fmt.Fprintf(w, "%s %d more transcripts, not listed\n", verb, r.TranscriptsOmitted)
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "could not remove: %s\n", safe(e))
	}
	_, err := fmt.Fprintf(w, "%s %d jobs, %d day files, %d transcripts (%s) that ended before %s\n", verb,
		len(r.Jobs), len(r.DayFiles), r.TranscriptCount(), humanBytes(r.Bytes), clock(r.Cutoff, now))
	return err
}

// humanBytes is a size in KiB or MiB, one decimal.
func humanBytes(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

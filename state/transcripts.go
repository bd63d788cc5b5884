package state

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/herdctl/herdctl/internal/safepath"
)

// TranscriptPrune is what pruning the agents' transcripts removed, or
// would remove.
type TranscriptPrune struct {
	// Removed lists at most MaxPruneListed of the transcripts removed;
	// Omitted counts the others.
	Removed []string `json:"removed"`
	Omitted int      `json:"omitted,omitempty"`
	Bytes   int64    `json:"bytes"`
	// Errors lists at most MaxPruneListed failures, and then says that
	// there were more.
	Errors []string `json:"errors,omitempty"`
}

// MaxPruneListed bounds the paths (and the errors) a prune lists: the
// agents name the directories and files in their homes, as many and as
// long as they like, and the list is an answer on the bus, which drops
// the daemon for a reply over its limit. The rest are counted.
const MaxPruneListed = 1000

func (t *TranscriptPrune) removed(path string, size int64) {
	t.Bytes += size
	if len(t.Removed) < MaxPruneListed {
		t.Removed = append(t.Removed, path)
		return
	}
	t.Omitted++
}

func (t *TranscriptPrune) failed(e string) {
	switch n := len(t.Errors); {
	case n < MaxPruneListed:
		t.Errors = append(t.Errors, e)
	case n == MaxPruneListed:
		t.Errors = append(t.Errors, "and more errors not listed")
	}
}

// PruneAllTranscripts prunes the transcripts of every agent with a state
// directory (those removed from the fleet too) with PruneTranscripts.
// keep gets each agent's next session (ReadLastSession) added.
func (l Layout) PruneAllTranscripts(cutoff time.Time, keep map[string]bool, dryRun bool) TranscriptPrune {
	var out TranscriptPrune
	entries, _ := os.ReadDir(l.AgentsDir())
	for _, e := range entries {
		if e.IsDir() {
			keep[l.ReadLastSession(e.Name()).ID] = true
		}
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		pruneTranscripts(l.TranscriptsDir(e.Name()), cutoff, keep, dryRun, &out)
	}
	return out
}

// PruneTranscripts removes, in dir (an agent's
// ~/.claude/projects, which the agent's uid writes), every
// projects/<directory>/<session>.jsonl last written before cutoff whose
// session is not in keep. Nothing is followed: both directories are
// opened without symbolic links (safepath), and each file is looked at
// and removed relative to its directory's descriptor, never by a path
// the agent could swap.
func PruneTranscripts(dir string, cutoff time.Time, keep map[string]bool, dryRun bool) TranscriptPrune {
	var out TranscriptPrune
	pruneTranscripts(dir, cutoff, keep, dryRun, &out)
	return out
}

func pruneTranscripts(dir string, cutoff time.Time, keep map[string]bool, dryRun bool, out *TranscriptPrune) {
	projects, err := openAgentDir(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			out.failed(err.Error())
		}
		return
	}
	names, _ := projects.Readdirnames(-1)
	sort.Strings(names)
	var dirs []string
	for _, name := range names {
		// Only real directories: Claude Code makes no links here, and a
		// link to another place is never followed, whoever owns it.
		var st unix.Stat_t
		if unix.Fstatat(int(projects.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			dirs = append(dirs, name)
		}
	}
	projects.Close()
	for _, project := range dirs {
		pdir := filepath.Join(dir, project)
		f, err := openAgentDir(pdir)
		if err != nil {
			continue // not a directory, or a link: not Claude Code's
		}
		files, _ := f.Readdirnames(-1)
		sort.Strings(files)
		for _, name := range files {
			if IsSessionID(name) && !keep[name] {
				pruneSessionDir(f, pdir, name, cutoff, dryRun, out)
				continue
			}
			session, ok := strings.CutSuffix(name, ".jsonl")
			if !ok || !IsSessionID(session) || keep[session] {
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
					out.failed(fmt.Sprintf("%s: %v", filepath.Join(pdir, name), err))
					continue
				}
			}
			out.removed(filepath.Join(pdir, name), st.Size)
		}
		f.Close()
	}
}

// A session's directory beside its transcript holds its subagents'
// transcripts (<session>/subagents/agent-*.jsonl). The agent's uid can
// make it as deep and as wide as it likes: pruning looks at most
// maxSessionDepth levels and maxSessionEntries names into one, and
// leaves alone one that goes beyond.
const (
	maxSessionDepth   = 4
	maxSessionEntries = 10000
)

// pruneSessionDir removes the directory name in project (a session's,
// not kept) when nothing in it was written since cutoff. Like the
// transcripts, it is walked by descriptors, without following a link:
// a link in it loses its own name, whatever it points to.
func pruneSessionDir(project *os.File, pdir, name string, cutoff time.Time, dryRun bool, out *TranscriptPrune) {
	var st unix.Stat_t
	if unix.Fstatat(int(project.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return
	}
	var w sessionWalk
	if !w.old(int(project.Fd()), name, cutoff, maxSessionDepth) {
		return
	}
	if !dryRun {
		if err := removeTree(int(project.Fd()), name, maxSessionDepth); err != nil {
			out.failed(fmt.Sprintf("%s: %v", filepath.Join(pdir, name), err))
			return
		}
	}
	out.removed(filepath.Join(pdir, name)+"/", w.bytes)
}

// sessionWalk adds up a session directory's entries and bytes.
type sessionWalk struct {
	entries int
	bytes   int64
}

// old reports whether the directory name in parent, and everything in
// it, was last written before cutoff, within the depth and entry bounds.
func (w *sessionWalk) old(parent int, name string, cutoff time.Time, depth int) bool {
	fd, err := unix.Openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	d := os.NewFile(uintptr(fd), name)
	defer d.Close()
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || !time.Unix(st.Mtim.Unix()).Before(cutoff) {
		return false
	}
	names, err := d.Readdirnames(maxSessionEntries + 1 - w.entries)
	if err != nil && err != io.EOF {
		return false
	}
	w.entries += len(names)
	if w.entries > maxSessionEntries {
		return false
	}
	for _, n := range names {
		if unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || !time.Unix(st.Mtim.Unix()).Before(cutoff) {
			return false
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if depth == 0 || !w.old(fd, n, cutoff, depth-1) {
				return false
			}
			continue
		}
		w.bytes += st.Size
	}
	return true
}

// removeTree removes the directory name in parent and what is in it, at
// most depth levels down, never following a link.
func removeTree(parent int, name string, depth int) error {
	fd, err := unix.Openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(fd), name)
	names, _ := d.Readdirnames(maxSessionEntries)
	for _, n := range names {
		var st unix.Stat_t
		if unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
			continue
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if depth > 0 {
				removeTree(fd, n, depth-1)
			}
			continue
		}
		unix.Unlinkat(fd, n, 0)
	}
	d.Close()
	if err := unix.Unlinkat(parent, name, unix.AT_REMOVEDIR); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}

// openDir opens a directory an agent may control for listing, without
// following a symbolic link anywhere on its path.
func openAgentDir(path string) (*os.File, error) {
	h, err := safepath.OpenDir(path)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return safepath.Reopen(h, unix.O_RDONLY|unix.O_DIRECTORY)
}

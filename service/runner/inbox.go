package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/herdctl/herdctl/chat"
	"github.com/herdctl/herdctl/internal/safepath"
	"github.com/herdctl/herdctl/policy"
)

// copyInbox copies the chat attachments herdctl-chat staged in stage
// into the workspace (mounted at workspace) under chat.InboxDir, owned
// by the agent's uid, before the job starts.
//
// The stage is the bridge's: each file is read without following a link,
// a regular file owned by the stage directory's owner (or root), at most
// chat.MaxAttachmentBytes, at most chat.MaxAttachments of them, named as
// chat.AttachmentName leaves a name. The workspace is the agent's, which
// may have put anything at inbox/ (a link to /etc, a fifo): inbox/ is
// opened through the workspace's descriptor without following a link
// and must be a directory of the agent's, and every file is created new
// in it (O_CREAT|O_EXCL|O_NOFOLLOW, after removing what had its name)
// and then given to the agent. The files must fit in what the agent's
// disk limit leaves free in dirs.
func copyInbox(stage, workspace string, a *policy.Agent, dirs []string) error {
	files, err := readStage(stage)
	if err != nil {
		return err
	}
	var total int64
	for _, f := range files {
		total += int64(len(f.data))
	}
	u, err := measure(dirs, a.Container.DiskBytes, a.Container.Inodes)
	if err != nil {
		return err
	}
	if u.bytes+total > a.Container.DiskBytes || u.inodes+int64(len(files))+1 > a.Container.Inodes {
		return fmt.Errorf("%d bytes in %d files would take the workspace and home over the agent's disk limit (%d bytes used of %d): nothing was copied",
			total, len(files), u.bytes, a.Container.DiskBytes)
	}
	ws, err := safepath.OpenDir(workspace)
	if err != nil {
		return err
	}
	defer ws.Close()
	uid, gid := int(a.Container.UID), int(a.Container.GID)
	if err := unix.Mkdirat(ws.Fd(), chat.InboxDir, 0o755); err == nil {
		if err := unix.Fchownat(ws.Fd(), chat.InboxDir, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("giving %s/ to the agent: %w", chat.InboxDir, err)
		}
	} else if !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("making %s/ in the workspace: %w", chat.InboxDir, err)
	}
	dfd, err := unix.Openat(ws.Fd(), chat.InboxDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("the workspace's %s is not a directory (a link, a file?): move it away: %w", chat.InboxDir, err)
	}
	defer unix.Close(dfd)
	var st unix.Stat_t
	if err := unix.Fstat(dfd, &st); err != nil {
		return err
	}
	if int(st.Uid) != uid {
		return fmt.Errorf("the workspace's %s belongs to uid %d, not the agent's %d: chown it or move it away", chat.InboxDir, st.Uid, uid)
	}
	if st.Mode&0o700 != 0o700 {
		// Made here under the runner's umask, or the agent's own choice:
		// the agent may always use it.
		if err := unix.Fchmod(dfd, st.Mode&0o7777|0o700); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := writeNew(dfd, f.name, f.data, uid, gid); err != nil {
			return fmt.Errorf("%s/%s: %w", chat.InboxDir, f.name, err)
		}
	}
	return nil
}

type stagedFile struct {
	name string
	data []byte
}

// readStage reads the staged files, smallest name first.
func readStage(stage string) ([]stagedFile, error) {
	h, err := safepath.OpenDir(stage)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	ents, err := os.ReadDir(h.ProcPath())
	if err != nil {
		return nil, err
	}
	if len(ents) > chat.MaxAttachments {
		return nil, fmt.Errorf("%d files staged; at most %d are allowed", len(ents), chat.MaxAttachments)
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	var out []stagedFile
	for _, e := range ents {
		name := e.Name()
		if chat.AttachmentName(name) != name {
			return nil, fmt.Errorf("a staged file's name %q is not one herdctl-chat makes", name)
		}
		b, err := safepath.ReadFile(filepath.Join(h.Path, name), chat.MaxAttachmentBytes, safepath.ReadOptions{DirOwnerOrRoot: true})
		if err != nil {
			return nil, err
		}
		out = append(out, stagedFile{name, b})
	}
	return out, nil
}

// writeNew creates name in directory dfd as a new file of the agent's
// holding data. Whatever had the name is removed first (a file of the
// agent's, or a link: unlinkat never follows one); a directory there is
// an error.
func writeNew(dfd int, name string, data []byte, uid, gid int) error {
	for try := 0; ; try++ {
		fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if errors.Is(err, unix.EEXIST) && try < 3 {
			if err := unix.Unlinkat(dfd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("something the agent put there cannot be replaced: %w", err)
			}
			continue
		}
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(fd), name)
		defer f.Close()
		// 0644 whatever the runner's umask: the agent's file, for it.
		if err := unix.Fchown(fd, uid, gid); err != nil {
			return err
		}
		if err := unix.Fchmod(fd, 0o644); err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			return err
		}
		return f.Close()
	}
}

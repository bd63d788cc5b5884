package safepath

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Handle is a resolved path: an O_PATH descriptor of what it names, the
// canonical path reached and the fstat of that descriptor. Use what was
// resolved through the descriptor ([Handle.Fd], [Handle.ProcPath],
// [Reopen]), never through Path: an agent can rename or replace any
// component of Path the moment after, but not what the descriptor refers
// to. Keep the Handle reachable and open for as long as its descriptor is
// in use.
type Handle struct {
	// Path is the canonical path reached when resolving, every symbolic
	// link followed replaced by its target: it contains no symbolic link.
	// It is for messages and logs; it may be stale already.
	Path string
	// Stat is the fstat of the descriptor, taken when resolving: the
	// owner, mode, type, device and inode of what the descriptor refers to.
	Stat unix.Stat_t

	file *os.File // O_PATH
}

// Close closes the descriptor. Closing a closed Handle does nothing.
func (h *Handle) Close() error {
	if h.file == nil {
		return nil
	}
	err := h.file.Close()
	h.file = nil
	return err
}

// Fd returns the O_PATH descriptor, or -1 when the Handle is closed. It is
// good for the *at system calls (as a directory) and fstat, not for reading.
func (h *Handle) Fd() int {
	if h.file == nil {
		return -1
	}
	return int(h.file.Fd())
}

// ProcPath returns "/proc/self/fd/N" for the descriptor: a path that
// reaches exactly what was resolved, for bind-mounting it or reopening it.
func (h *Handle) ProcPath() string { return procFdPath(h.Fd()) }

// UID returns the owner of what was resolved.
func (h *Handle) UID() uint32 { return h.Stat.Uid }

// GID returns the group of what was resolved.
func (h *Handle) GID() uint32 { return h.Stat.Gid }

// IsDir reports whether what was resolved is a directory.
func (h *Handle) IsDir() bool { return isType(&h.Stat, unix.S_IFDIR) }

// IsRegular reports whether what was resolved is a regular file.
func (h *Handle) IsRegular() bool { return isType(&h.Stat, unix.S_IFREG) }

// Reopen opens what h refers to with flags (O_RDONLY, or
// O_RDONLY|O_DIRECTORY to list a directory) through [Handle.ProcPath], so
// the path is not resolved again. The magic link is followed on purpose,
// so O_NOFOLLOW is dropped from flags; O_CREAT is refused. Only a
// directory or a regular file is reopened (a named pipe could block, a
// device could act on being opened), and the result is checked to be the
// very file h refers to.
func Reopen(h *Handle, flags int) (*os.File, error) {
	if h.file == nil {
		return nil, &Error{Path: h.Path, Msg: "cannot be reopened: its handle is closed", Err: os.ErrClosed}
	}
	if flags&unix.O_CREAT != 0 || flags&unix.O_TMPFILE == unix.O_TMPFILE { // O_TMPFILE includes O_DIRECTORY
		return nil, &Error{Path: h.Path, Msg: "cannot be reopened with O_CREAT or O_TMPFILE", Err: unix.EINVAL}
	}
	if !h.IsDir() && !h.IsRegular() {
		return nil, &Error{Path: h.Path, Msg: "is " + fileType(h.Stat.Mode) +
			", not a regular file or a directory: it is not reopened", Err: ErrNotRegular}
	}
	f, _, err := reopen(h.Fd(), &h.Stat, flags&^unix.O_NOFOLLOW)
	runtime.KeepAlive(h) // its *os.File must not be finalized while its fd is in use
	if err != nil {
		return nil, &Error{Path: h.Path, Msg: err.Error(), Err: err}
	}
	return os.NewFile(uintptr(f), h.Path), nil
}

// errReopenedOther reports that /proc/self/fd/N led somewhere else than
// the descriptor: /proc is not what it should be.
var errReopenedOther = errors.New("reopening through /proc/self/fd reached another file: is /proc a real procfs?")

// reopen opens fd's file through /proc/self/fd with flags and checks that
// the result is the file want describes. It returns the new descriptor and
// its fstat.
func reopen(fd int, want *unix.Stat_t, flags int) (int, unix.Stat_t, error) {
	var st unix.Stat_t
	nfd, err := openat(unix.AT_FDCWD, procFdPath(fd), flags)
	if err != nil {
		return -1, st, fmt.Errorf("cannot be reopened through %s: %w", procFdPath(fd), err)
	}
	if err := fstat(nfd, &st); err != nil {
		unix.Close(nfd)
		return -1, st, fmt.Errorf("cannot be reopened: fstat: %w", err)
	}
	if !sameFile(&st, want) {
		unix.Close(nfd)
		return -1, st, errReopenedOther
	}
	return nfd, st, nil
}

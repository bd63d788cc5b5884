package safepath

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Sentinels wrapped by an [*Error], for callers that branch with errors.Is.
// A missing component wraps unix.ENOENT (so fs.ErrNotExist matches), a
// component that must be a directory and is not wraps unix.ENOTDIR, and too
// many symbolic links wrap unix.ELOOP.
var (
	// ErrInvalidPath reports a path that is not absolute and clean.
	ErrInvalidPath = errors.New("path is not absolute and clean")
	// ErrUnsafeSymlink reports a symbolic link that another user could
	// have made or could change, and that was therefore not followed.
	ErrUnsafeSymlink = errors.New("symbolic link another user could change")
	// ErrNotRegular reports a file that had to be a regular file (or, for
	// Reopen, a regular file or a directory) and is not.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge reports a file larger than the caller's cap.
	ErrTooLarge = errors.New("file too large")
	// ErrOwner reports a file owned by a user the caller did not accept.
	ErrOwner = errors.New("file has an unexpected owner")
)

// Error is the error every function of this package returns.
type Error struct {
	// Path is the path the caller asked for.
	Path string
	// At is the path, as resolved so far, of the component that failed;
	// it differs from Path when a symbolic link was followed or when an
	// earlier component failed.
	At string
	// Msg says what is wrong with At and what to do, for an operator.
	Msg string
	// Err is a sentinel of this package or a unix.Errno.
	Err error
}

func (e *Error) Error() string {
	if e.At == "" || e.At == e.Path {
		return e.Path + ": " + e.Msg
	}
	return e.Path + ": " + e.At + " " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// errnoMsg words a failed openat or fstat of at for an operator.
func errnoMsg(err error) string {
	switch {
	case errors.Is(err, unix.ENOENT):
		return "does not exist"
	case errors.Is(err, unix.ENOTDIR):
		return "is not a directory"
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return "cannot be opened: " + err.Error() + " (is the daemon running without CAP_DAC_READ_SEARCH?)"
	default:
		return "cannot be opened: " + err.Error()
	}
}

// fileType names the type in mode (a st_mode) the way an operator says it.
func fileType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "a regular file"
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFLNK:
		return "a symbolic link"
	case unix.S_IFIFO:
		return "a named pipe"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFCHR:
		return "a character device"
	case unix.S_IFBLK:
		return "a block device"
	default:
		return "a file of unknown type"
	}
}

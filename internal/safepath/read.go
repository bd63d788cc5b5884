package safepath

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ReadOptions says whose file [ReadFile] accepts. The zero value accepts
// any owner.
type ReadOptions struct {
	// Owners, when not empty, lists the uids that may own the file.
	Owners []uint32
	// DirOwnerOrRoot accepts only a file owned by root or by the owner of
	// the directory holding it (as fstat'ed through the descriptor held),
	// so that a hard link to another agent's file, placed in an agent's
	// directory, is refused. A hard link to a root-owned file is still
	// accepted: fs.protected_hardlinks=1 (the default) is what stops an
	// agent from making one to a file it cannot read.
	DirOwnerOrRoot bool
}

// ReadFile reads the file at path, which another user may control, and
// returns at most maxSize bytes.
//
// The directory is resolved as by [Resolve]. The file itself is opened
// with O_PATH|O_NOFOLLOW and fstat'ed first, and opened for reading (with
// O_NONBLOCK, through its descriptor) only when it is a regular file
// within the cap and owned as opts asks: a final symbolic link is refused
// whatever it points to, and a named pipe, a socket, a device or a
// directory is refused without ever being opened, so it cannot block the
// caller or act on being opened. A file that grows past maxSize while it
// is read is refused too.
func ReadFile(path string, maxSize int64, opts ReadOptions) ([]byte, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if maxSize < 0 {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("cannot be read with a negative size cap (%d)", maxSize), Err: unix.EINVAL}
	}
	if path == "/" {
		return nil, &Error{Path: path, Msg: "is a directory, not a file", Err: ErrNotRegular}
	}
	parent, err := resolve(filepath.Dir(path), path)
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	if !parent.IsDir() {
		return nil, &Error{Path: path, At: parent.Path, Msg: "is " + fileType(parent.Stat.Mode) + ", not a directory", Err: unix.ENOTDIR}
	}
	at := join(parent.Path, filepath.Base(path))
	fail := func(msg string, err error) error {
		return &Error{Path: path, At: at, Msg: msg, Err: err}
	}

	pfd, err := openat(parent.Fd(), filepath.Base(path), unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return nil, fail(errnoMsg(err), err)
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := fstat(pfd, &st); err != nil {
		return nil, fail(errnoMsg(err), err)
	}
	if msg, err := opts.check(&st, &parent.Stat, maxSize); err != nil {
		return nil, fail(msg, err)
	}

	fd, st, err := reopen(pfd, &st, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY)
	if err != nil {
		return nil, fail(err.Error(), err)
	}
	defer unix.Close(fd)
	// It may have grown since; the owner and type cannot have changed.
	if msg, err := opts.check(&st, &parent.Stat, maxSize); err != nil {
		return nil, fail(msg, err)
	}
	data, grew, err := readCapped(fd, st.Size, maxSize)
	if err != nil {
		return nil, fail("cannot be read: "+err.Error(), err)
	}
	if grew {
		return nil, fail(fmt.Sprintf("grew larger than %d bytes while being read: make it smaller, and do not write it while herdctl reads it", maxSize), ErrTooLarge)
	}
	return data, nil
}

// check applies the rules of ReadFile to st, the file's fstat, in the
// directory dir.
func (o ReadOptions) check(st, dir *unix.Stat_t, maxSize int64) (string, error) {
	if isType(st, unix.S_IFLNK) {
		return "is a symbolic link: a file here is read only when it is a regular file, never through a link; replace the link with the file itself", ErrNotRegular
	}
	if !isType(st, unix.S_IFREG) {
		return "is not a regular file (" + fileType(st.Mode) + "): replace it with a regular file", ErrNotRegular
	}
	if st.Size > maxSize {
		return fmt.Sprintf("is larger than %d bytes (it has %d): make it smaller", maxSize, st.Size), ErrTooLarge
	}
	if len(o.Owners) > 0 && !slices.Contains(o.Owners, st.Uid) {
		names := make([]string, len(o.Owners))
		for i, uid := range o.Owners {
			names[i] = uidName(uid)
		}
		return fmt.Sprintf("is owned by uid %d, not by %s: a hard link to another user's file?",
			st.Uid, strings.Join(names, " or ")), ErrOwner
	}
	if o.DirOwnerOrRoot && st.Uid != 0 && st.Uid != dir.Uid {
		if dir.Uid == 0 {
			return fmt.Sprintf("is owned by uid %d, not by root, who owns the directory: a hard link to another user's file?", st.Uid), ErrOwner
		}
		return fmt.Sprintf("is owned by uid %d, not by root or the directory's owner %d: a hard link to another user's file?",
			st.Uid, dir.Uid), ErrOwner
	}
	return "", nil
}

func uidName(uid uint32) string {
	if uid == 0 {
		return "root"
	}
	return "uid " + strconv.FormatUint(uint64(uid), 10)
}

// readCapped reads fd to its end, or until it has read more than maxSize
// bytes, in which case it returns grew and no data. size is the file's
// size when it was fstat'ed, to read it in one go.
func readCapped(fd int, size, maxSize int64) (data []byte, grew bool, err error) {
	limit := maxSize // the most that is read: one byte more than allowed
	if limit < math.MaxInt64 {
		limit++
	}
	buf := make([]byte, 0, min(size+1, limit))
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(int64(max(len(buf), 4096)), limit-int64(len(buf)))))
		}
		n, err := read(fd, buf[len(buf):int(min(int64(cap(buf)), limit))])
		if err != nil {
			return nil, false, err
		}
		if n == 0 {
			return buf, false, nil
		}
		buf = buf[:len(buf)+n]
	}
	return nil, true, nil
}

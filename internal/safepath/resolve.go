package safepath

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// MaxSymlinks is how many symbolic links one resolution follows at most,
// counting every link of every chain; one more is reported as a loop.
const MaxSymlinks = 32

// Resolve resolves path, which must be absolute and clean, from "/" one
// component at a time and returns a [Handle] holding an O_PATH descriptor
// of what it names.
//
// A symbolic link is followed only when root owns it, root owns the
// directory holding it and that directory is not writable by group or
// others (a sticky bit does not help), and only until resolution has
// passed through a directory that is not so: from there on, every
// symbolic link is refused with [ErrUnsafeSymlink], whoever owns it.
// An absolute target restarts from "/", a relative one continues from the
// link's directory, and a ".." in a target goes back to the directory
// actually held, never by name. At most [MaxSymlinks] links are followed.
//
// Nothing is opened for reading: a named pipe or a device at the end is
// returned as such, for the caller to check.
func Resolve(path string) (*Handle, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	return resolve(path, path)
}

// OpenDir is [Resolve] for a path that must name a directory.
func OpenDir(path string) (*Handle, error) {
	h, err := Resolve(path)
	if err != nil {
		return nil, err
	}
	if !h.IsDir() {
		h.Close()
		return nil, &Error{Path: path, At: h.Path, Msg: "is " + fileType(h.Stat.Mode) + ", not a directory", Err: unix.ENOTDIR}
	}
	return h, nil
}

// checkPath refuses a path that is not absolute and clean. Lexical
// cleaning is not what the kernel does with "..", so a path that cleaning
// would change is refused rather than cleaned.
func checkPath(path string) error {
	fail := func(msg string) error {
		return &Error{Path: path, Msg: msg, Err: ErrInvalidPath}
	}
	switch {
	case path == "":
		return &Error{Path: `""`, Msg: "is empty: give an absolute path", Err: ErrInvalidPath}
	case strings.IndexByte(path, 0) >= 0:
		return fail("contains a NUL byte")
	case !filepath.IsAbs(path):
		return fail("is relative: give an absolute path")
	case strings.Contains(path+"/", "/../"):
		return fail(`has a ".." component, which is not resolved here: give the path without it`)
	case filepath.Clean(path) != path:
		return fail(fmt.Sprintf("is not in clean form: write it as %q", filepath.Clean(path)))
	}
	return nil
}

// trustedDir reports whether only root can change the entries of the
// directory that st describes. A POSIX ACL granting write to someone shows
// in the group bits (they are the ACL mask), so it makes the directory
// untrusted too.
func trustedDir(st *unix.Stat_t) bool {
	return st.Uid == 0 && st.Mode&0o022 == 0
}

// step is a component resolved and held.
type step struct {
	fd   int
	path string // canonical: no symbolic link in it
	stat unix.Stat_t
}

// walker is the state of one resolution.
type walker struct {
	asked string // the path the caller asked for, for errors
	stack []step // the components held; stack[0] is "/"
	// untrusted is the first directory passed through that another user
	// can write; no symbolic link is followed once it is set.
	untrusted *step
	links     int
}

// resolve resolves path and reports errors against asked, which is path
// or, for ReadFile, the file in it.
func resolve(path, asked string) (*Handle, error) {
	w := &walker{asked: asked}
	defer w.closeAll()

	fd, err := openat(unix.AT_FDCWD, "/", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, w.fail("/", errnoMsg(err), err)
	}
	if err := w.push(fd, "/"); err != nil {
		return nil, err
	}

	todo := components(path)
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		cur := w.top()
		if !isType(&cur.stat, unix.S_IFDIR) {
			return nil, w.fail(cur.path, "is "+fileType(cur.stat.Mode)+", not a directory", unix.ENOTDIR)
		}
		if name == ".." { // only from a trusted symbolic link's target
			w.pop()
			continue
		}
		at := join(cur.path, name)
		fd, err := openat(cur.fd, name, unix.O_PATH|unix.O_NOFOLLOW)
		if err != nil {
			return nil, w.fail(at, errnoMsg(err), err)
		}
		var st unix.Stat_t
		if err := fstat(fd, &st); err != nil {
			unix.Close(fd)
			return nil, w.fail(at, errnoMsg(err), err)
		}
		if !isType(&st, unix.S_IFLNK) {
			w.pushStat(fd, at, &st)
			continue
		}
		target, err := w.follow(fd, at, &st, cur)
		unix.Close(fd)
		if err != nil {
			return nil, err
		}
		if filepath.IsAbs(target) {
			w.popToRoot()
		}
		todo = append(components(target), todo...)
	}

	last := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	return &Handle{file: os.NewFile(uintptr(last.fd), last.path), Path: last.path, Stat: last.stat}, nil
}

// follow decides whether the symbolic link fd at at, in the directory
// parent, may be followed and returns its target.
func (w *walker) follow(fd int, at string, st *unix.Stat_t, parent step) (string, error) {
	const fix = ": replace it with the directory or file it points to"
	if u := w.untrusted; u != nil {
		where := fmt.Sprintf("in a directory another user can write (%s is owned by uid %d, mode %04o)",
			u.path, u.stat.Uid, u.stat.Mode&0o7777)
		if u.path != parent.path {
			where = fmt.Sprintf("reached through %s, a directory another user can write (owned by uid %d, mode %04o)",
				u.path, u.stat.Uid, u.stat.Mode&0o7777)
		}
		return "", w.fail(at, "is a symbolic link "+where+
			"; no symbolic link is followed past such a directory"+fix, ErrUnsafeSymlink)
	}
	if st.Uid != 0 {
		return "", w.fail(at, fmt.Sprintf("is a symbolic link owned by uid %d, not root;"+
			" only root's symbolic links in root's directories are followed%s", st.Uid, fix), ErrUnsafeSymlink)
	}
	if w.links >= MaxSymlinks {
		return "", w.fail(at, fmt.Sprintf("is a symbolic link, and %d have already been followed"+
			" resolving this path: a symbolic link loop?", MaxSymlinks), unix.ELOOP)
	}
	w.links++
	target, err := readlink(fd)
	if err != nil {
		return "", w.fail(at, "is a symbolic link that cannot be read: "+err.Error(), err)
	}
	if target == "" {
		return "", w.fail(at, "is a symbolic link with an empty target", unix.ENOENT)
	}
	return target, nil
}

// push fstats fd, the component at at, and holds it.
func (w *walker) push(fd int, at string) error {
	var st unix.Stat_t
	if err := fstat(fd, &st); err != nil {
		unix.Close(fd)
		return w.fail(at, errnoMsg(err), err)
	}
	w.pushStat(fd, at, &st)
	return nil
}

// pushStat holds fd, the component at at, whose fstat is st, and notes
// the first directory another user can write.
func (w *walker) pushStat(fd int, at string, st *unix.Stat_t) {
	w.stack = append(w.stack, step{fd: fd, path: at, stat: *st})
	if w.untrusted == nil && isType(st, unix.S_IFDIR) && !trustedDir(st) {
		s := w.stack[len(w.stack)-1]
		w.untrusted = &s
	}
}

func (w *walker) top() step { return w.stack[len(w.stack)-1] }

// pop goes back to the parent held; ".." of "/" is "/". Once set,
// untrusted stays set: going back up does not undo having passed through
// a directory another user can write.
func (w *walker) pop() {
	if len(w.stack) > 1 {
		unix.Close(w.top().fd)
		w.stack = w.stack[:len(w.stack)-1]
	}
}

func (w *walker) popToRoot() {
	for len(w.stack) > 1 {
		w.pop()
	}
}

func (w *walker) closeAll() {
	for _, s := range w.stack {
		unix.Close(s.fd)
	}
	w.stack = nil
}

func (w *walker) fail(at, msg string, err error) error {
	return &Error{Path: w.asked, At: at, Msg: msg, Err: err}
}

// components splits path into the names to resolve, dropping empty names
// and ".", which the kernel ignores too.
func components(path string) []string {
	parts := strings.Split(path, "/")
	names := parts[:0]
	for _, p := range parts {
		if p != "" && p != "." {
			names = append(names, p)
		}
	}
	return names
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

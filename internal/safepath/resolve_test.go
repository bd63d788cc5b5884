package safepath

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestResolve(t *testing.T) {
	// Every case gets its own tree with these in it.
	common := []node{
		dir("a", 0, 0o755),
		dir("a/b", 0, 0o755),
		dir("a/b/c", 0, 0o755),
		file("a/b/c/f", 0, "hello"),
		dir("u", 1000, 0o755),
		file("u/f", 1000, "agent"),
	}
	cases := []struct {
		name string
		tree []node
		path string // relative to the base unless absolute
		want string // the canonical path, relative to the base unless absolute; "" for an error
		err  error
		msg  string
	}{
		{name: "root-owned directories resolve", path: "a/b/c", want: "a/b/c"},
		{name: "a file resolves", path: "a/b/c/f", want: "a/b/c/f"},
		{name: "root resolves", path: "/", want: "/"},
		{
			name: "root symlink with an absolute target is followed",
			tree: []node{link("l", 0, "$BASE/a/b")},
			path: "l/c/f", want: "a/b/c/f",
		},
		{
			name: "root symlink with a relative target is followed",
			tree: []node{link("a/l", 0, "b/c")},
			path: "a/l/f", want: "a/b/c/f",
		},
		{
			name: "a final root symlink is followed",
			tree: []node{link("a/l", 0, "b/c/f")},
			path: "a/l", want: "a/b/c/f",
		},
		{
			name: "dot-dot in a target goes back to the directory held",
			tree: []node{link("a/b/c/up", 0, "../../b")},
			path: "a/b/c/up/c", want: "a/b/c",
		},
		{
			name: "dot-dot after a symlinked directory is physical, not lexical",
			tree: []node{link("l", 0, "a/b"), link("a/b/parent", 0, "..")},
			path: "l/parent", want: "a",
		},
		{
			name: "dot-dot stops at the root",
			tree: []node{link("a/top", 0, "../../../../../../../../..")},
			path: "a/top/var/lib", want: "/var/lib",
		},
		{
			name: "a root symlink to the root is followed and the path is canonical",
			tree: []node{link("root", 0, "/")},
			path: "root/var/lib", want: "/var/lib",
		},
		{
			name: "32 symlinks are followed",
			tree: chain("l", MaxSymlinks, "a"),
			path: "l1/b", want: "a/b",
		},
		{
			name: "a plain path through a directory another user owns resolves",
			path: "u/f", want: "u/f",
		},
		{
			name: "a symlink owned by another user is refused, even to a harmless place",
			tree: []node{link("l", 1000, "$BASE/a")},
			path: "l/b", err: ErrUnsafeSymlink,
			msg: "$BASE/l is a symbolic link owned by uid 1000, not root",
		},
		{
			name: "a root symlink in a directory another user owns is refused",
			tree: []node{link("u/l", 0, "$BASE/a")},
			path: "u/l", err: ErrUnsafeSymlink,
			msg: "is a symbolic link in a directory another user can write ($BASE/u is owned by uid 1000, mode 0755)",
		},
		{
			name: "a root symlink below a directory another user owns is refused",
			tree: []node{dir("u/r", 0, 0o755), link("u/r/l", 0, "$BASE/a")},
			path: "u/r/l/b", err: ErrUnsafeSymlink,
			msg: "$BASE/u/r/l is a symbolic link reached through $BASE/u, a directory another user can write (owned by uid 1000, mode 0755)",
		},
		{
			name: "a root symlink in a world-writable root directory is refused",
			tree: []node{dir("w", 0, 0o777), link("w/l", 0, "$BASE/a")},
			path: "w/l", err: ErrUnsafeSymlink, msg: "mode 0777",
		},
		{
			name: "a root symlink in a sticky world-writable root directory is refused",
			tree: []node{dir("w", 0, 0o1777), link("w/l", 0, "$BASE/a")},
			path: "w/l", err: ErrUnsafeSymlink, msg: "mode 1777",
		},
		{
			name: "a root symlink in a group-writable root directory is refused",
			tree: []node{dir("w", 0, 0o775), link("w/l", 0, "$BASE/a")},
			path: "w/l", err: ErrUnsafeSymlink, msg: "mode 0775",
		},
		{
			name: "a root symlink in a root directory whose ACL lets another user write is refused",
			tree: []node{aclDir("acl", 0, 0o755, 1000), link("acl/l", 0, "$BASE/a")},
			path: "acl/l", err: ErrUnsafeSymlink, msg: "($BASE/acl is owned by uid 0, mode 0775)",
		},
		{
			name: "no symlink is followed after a symlink led into a directory another user owns",
			tree: []node{link("l", 0, "u"), link("u/l2", 0, "$BASE/a")},
			path: "l/l2", err: ErrUnsafeSymlink, msg: "$BASE/u/l2 is a symbolic link in a directory another user can write",
		},
		{
			name: "going back up with dot-dot does not make resolution trusted again",
			tree: []node{link("a/l", 0, "../b"), dir("b", 0, 0o755), link("t", 0, "u/../a/l")},
			path: "t", err: ErrUnsafeSymlink, msg: "$BASE/a/l is a symbolic link reached through $BASE/u",
		},
		{
			name: "a symlink loop is refused",
			tree: []node{link("l1", 0, "l2"), link("l2", 0, "l1")},
			path: "l1", err: unix.ELOOP, msg: "have already been followed resolving this path: a symbolic link loop?",
		},
		{
			name: "a symlink to itself is refused",
			tree: []node{link("l", 0, "$BASE/l")},
			path: "l/x", err: unix.ELOOP, msg: "a symbolic link loop?",
		},
		{
			name: "33 symlinks are refused",
			tree: chain("l", MaxSymlinks+1, "a"),
			path: "l1", err: unix.ELOOP, msg: "$BASE/l33 is a symbolic link, and 32 have already been followed",
		},
		{
			name: "symlinks are counted over the whole path",
			tree: append(chain("x", 17, "a"), chain("a/y", 16, "b")...),
			path: "x1/y1", err: unix.ELOOP,
		},
		{
			name: "a missing component is reported as not existing",
			path: "a/nope/c", err: fs.ErrNotExist, msg: "$BASE/a/nope/c: $BASE/a/nope does not exist",
		},
		{
			name: "a dangling root symlink is reported as not existing",
			tree: []node{link("l", 0, "$BASE/nope")},
			path: "l", err: fs.ErrNotExist, msg: "$BASE/l: $BASE/nope does not exist",
		},
		{
			name: "a file in the middle is not a directory",
			path: "a/b/c/f/g", err: unix.ENOTDIR, msg: "$BASE/a/b/c/f is a regular file, not a directory",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := rootTree(t, slices.Concat(common, tc.tree)...)
			h, err := Resolve(abs(base, tc.path))
			if tc.want == "" {
				if h != nil {
					t.Errorf("got a handle of %s", h.Path)
				}
				checkErr(t, base, err, tc.err, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			checkHandle(t, h, abs(base, tc.want))
		})
	}
}

// checkHandle checks h against want, with the kernel as the oracle: what
// /proc/self/fd/N links to and what stat says of want.
func checkHandle(t *testing.T, h *Handle, want string) {
	t.Helper()
	if h.Path != want {
		t.Errorf("Path = %s, want %s", h.Path, want)
	}
	if got, err := os.Readlink(h.ProcPath()); err != nil || got != want {
		t.Errorf("%s links to %q (%v), want %s", h.ProcPath(), got, err, want)
	}
	var st unix.Stat_t
	if err := unix.Lstat(want, &st); err != nil {
		t.Fatal(err)
	}
	if !sameFile(&h.Stat, &st) || h.Stat.Mode != st.Mode || h.UID() != st.Uid || h.GID() != st.Gid {
		t.Errorf("Stat = dev %d ino %d mode %o uid %d gid %d, want dev %d ino %d mode %o uid %d gid %d",
			h.Stat.Dev, h.Stat.Ino, h.Stat.Mode, h.UID(), h.GID(), st.Dev, st.Ino, st.Mode, st.Uid, st.Gid)
	}
	if h.IsDir() != isType(&st, unix.S_IFDIR) || h.IsRegular() != isType(&st, unix.S_IFREG) {
		t.Errorf("IsDir %v IsRegular %v, for mode %o", h.IsDir(), h.IsRegular(), st.Mode)
	}
}

func TestResolveRefusesPathsNotAbsoluteAndClean(t *testing.T) {
	for _, tc := range []struct{ name, path, msg string }{
		{"empty", "", "is empty"},
		{"relative", "var/lib", "is relative"},
		{"dot", ".", "is relative"},
		{"dot-dot in the middle", "/var/../etc", `has a ".." component`},
		{"dot-dot at the end", "/var/lib/..", `has a ".." component`},
		{"dot-dot of the root", "/..", `has a ".." component`},
		{"dot component", "/var/./lib", `is not in clean form: write it as "/var/lib"`},
		{"double slash", "/var//lib", "is not in clean form"},
		{"trailing slash", "/var/lib/", "is not in clean form"},
		{"NUL byte", "/var/lib\x00/x", "contains a NUL byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Resolve(tc.path)
			if h != nil {
				t.Errorf("got a handle of %s", h.Path)
			}
			checkErr(t, "", err, ErrInvalidPath, tc.msg)
			_, err = ReadFile(tc.path, 10, ReadOptions{})
			checkErr(t, "", err, ErrInvalidPath, tc.msg)
		})
	}
}

func TestOpenDir(t *testing.T) {
	base := rootTree(t,
		dir("d", 0, 0o755), file("d/f", 0, "x"), link("l", 0, "d"), fifo("p", 0))
	for _, tc := range []struct {
		name, path, want, msg string
	}{
		{name: "a directory", path: "d", want: "d"},
		{name: "a root symlink to a directory", path: "l", want: "d"},
		{name: "a file is refused", path: "d/f", msg: "$BASE/d/f: is a regular file, not a directory"},
		{name: "a named pipe is refused", path: "p", msg: "$BASE/p: is a named pipe, not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := OpenDir(abs(base, tc.path))
			if tc.want == "" {
				checkErr(t, base, err, unix.ENOTDIR, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			checkHandle(t, h, abs(base, tc.want))
		})
	}
}

func TestHandleClose(t *testing.T) {
	base := rootTree(t)
	h, err := OpenDir(base)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h.ProcPath(), "/proc/self/fd/") || h.Fd() < 0 {
		t.Errorf("ProcPath %s, Fd %d", h.ProcPath(), h.Fd())
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	if h.Fd() != -1 {
		t.Errorf("Fd after Close = %d, want -1", h.Fd())
	}
	if _, err := Reopen(h, unix.O_RDONLY); err == nil {
		t.Error("Reopen of a closed handle succeeded")
	}
}

func TestReopen(t *testing.T) {
	base := rootTree(t,
		dir("u", 1000, 0o755), dir("u/d", 1000, 0o755), file("u/d/f", 1000, "agent's"),
		link("u/swap", 1000, "/"), fifo("u/p", 1000))

	t.Run("lists the directory resolved, though it was swapped for a symlink since", func(t *testing.T) {
		h, err := OpenDir(filepath.Join(base, "u/d"))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if err := unix.Renameat2(unix.AT_FDCWD, filepath.Join(base, "u/d"), unix.AT_FDCWD, filepath.Join(base, "u/swap"), unix.RENAME_EXCHANGE); err != nil {
			t.Fatal(err)
		}
		defer unix.Renameat2(unix.AT_FDCWD, filepath.Join(base, "u/d"), unix.AT_FDCWD, filepath.Join(base, "u/swap"), unix.RENAME_EXCHANGE)
		f, err := Reopen(h, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		names, err := f.Readdirnames(-1)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names, []string{"f"}) {
			t.Errorf("listed %q, want [f]", names)
		}
	})
	t.Run("reads the file resolved, though it was renamed since", func(t *testing.T) {
		h, err := Resolve(filepath.Join(base, "u/d/f"))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if err := os.Rename(filepath.Join(base, "u/d/f"), filepath.Join(base, "u/d/g")); err != nil {
			t.Fatal(err)
		}
		defer os.Rename(filepath.Join(base, "u/d/g"), filepath.Join(base, "u/d/f"))
		f, err := Reopen(h, unix.O_RDONLY)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		buf := make([]byte, 100)
		n, _ := f.Read(buf)
		if string(buf[:n]) != "agent's" {
			t.Errorf("read %q", buf[:n])
		}
	})
	t.Run("refuses a named pipe", func(t *testing.T) {
		h, err := Resolve(filepath.Join(base, "u/p"))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		within(t, defaultWait, func() {
			_, err = Reopen(h, unix.O_RDONLY)
		})
		checkErr(t, base, err, ErrNotRegular, "is a named pipe, not a regular file or a directory")
	})
	t.Run("refuses O_CREAT", func(t *testing.T) {
		h, err := OpenDir(base)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		_, err = Reopen(h, unix.O_RDONLY|unix.O_CREAT)
		checkErr(t, base, err, unix.EINVAL, "O_CREAT")
	})
}

// BenchmarkResolve resolves /var/lib/herdctl-safepath-test-N/a/b/c: six
// components, all root-owned directories.
func BenchmarkResolve(b *testing.B) {
	base := rootTree(b, dir("a", 0, 0o755), dir("a/b", 0, 0o755), dir("a/b/c", 0, 0o755))
	path := filepath.Join(base, "a/b/c")
	for b.Loop() {
		h, err := Resolve(path)
		if err != nil {
			b.Fatal(err)
		}
		h.Close()
	}
}

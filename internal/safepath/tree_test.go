package safepath

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests build small trees of files owned by root and by other uids
// under /var/lib, whose every ancestor is root's and not writable by
// others, so that "trusted" means something. t.TempDir is under /tmp,
// which is sticky and world-writable and so untrusted: everything below
// it would be.

// defaultWait is how long a call may take before the test says it blocked.
const defaultWait = 2 * time.Second

type kind int

const (
	kDir kind = iota
	kFile
	kLink     // a symbolic link to target
	kHardlink // a hard link to target
	kFifo
	kSocket
)

// node is one entry of a test tree. In path and target, "$BASE" stands
// for the tree's base directory; path is relative to it.
type node struct {
	kind    kind
	path    string
	uid     int
	mode    uint32 // permission bits, with the sticky bit if wanted
	target  string
	content string
	aclUser int // when not 0, a POSIX ACL entry granting this uid rwx
}

func dir(path string, uid int, mode uint32) node {
	return node{kind: kDir, path: path, uid: uid, mode: mode}
}

// aclDir is a directory whose POSIX ACL grants writer rwx.
func aclDir(path string, uid int, mode uint32, writer int) node {
	return node{kind: kDir, path: path, uid: uid, mode: mode, aclUser: writer}
}

func file(path string, uid int, content string) node {
	return node{kind: kFile, path: path, uid: uid, mode: 0o644, content: content}
}

func link(path string, uid int, target string) node {
	return node{kind: kLink, path: path, uid: uid, target: target}
}

func hardlink(path, target string) node { return node{kind: kHardlink, path: path, target: target} }

func fifo(path string, uid int) node { return node{kind: kFifo, path: path, uid: uid, mode: 0o644} }

func socket(path string, uid int) node { return node{kind: kSocket, path: path, uid: uid, mode: 0o644} }

// chain returns n root-owned symbolic links prefix1 -> prefix2 -> … ->
// prefixN -> target, in base.
func chain(prefix string, n int, target string) []node {
	var nodes []node
	for i := 1; i <= n; i++ {
		next := target
		if i < n {
			next = filepath.Base(prefix) + strconv.Itoa(i+1)
		}
		nodes = append(nodes, link(prefix+strconv.Itoa(i), 0, next))
	}
	return nodes
}

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the tests make root-owned trees under /var/lib and chown files to other uids")
	}
}

// rootTree makes a root-owned 0755 directory under /var/lib, removed when
// the test ends, builds nodes in it and returns its path.
func rootTree(t testing.TB, nodes ...node) string {
	t.Helper()
	needRoot(t)
	for _, p := range []string{"/", "/var", "/var/lib"} {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil || !isType(&st, unix.S_IFDIR) || !trustedDir(&st) {
			t.Skipf("%s is not a directory owned by root and writable only by it (%v): the tests need it to be", p, err)
		}
	}
	base, err := os.MkdirTemp("/var/lib", "herdctl-safepath-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	build(t, base, nodes...)
	return base
}

func build(t testing.TB, base string, nodes ...node) {
	t.Helper()
	for _, n := range nodes {
		p := filepath.Join(base, n.path)
		target := strings.ReplaceAll(n.target, "$BASE", base)
		var err error
		switch n.kind {
		case kDir:
			err = os.Mkdir(p, 0o700)
		case kFile:
			err = os.WriteFile(p, []byte(n.content), 0o600)
		case kLink:
			err = os.Symlink(target, p)
		case kHardlink:
			err = os.Link(filepath.Join(base, target), p)
		case kFifo:
			err = unix.Mkfifo(p, 0o600)
		case kSocket:
			err = unix.Mknod(p, unix.S_IFSOCK|0o600, 0)
		}
		if err == nil && n.kind != kHardlink {
			err = os.Lchown(p, n.uid, n.uid)
		}
		// chown clears the set-id bits, so chmod comes after it.
		if err == nil && n.kind != kLink && n.kind != kHardlink {
			err = unix.Chmod(p, n.mode)
		}
		if err == nil && n.aclUser != 0 {
			err = unix.Setxattr(p, "system.posix_acl_access", aclGranting(n.mode, n.aclUser), 0)
		}
		if err != nil {
			t.Fatalf("building the test tree: %v", err)
		}
	}
}

// aclGranting encodes, in the kernel's xattr format, the POSIX ACL
// "user::(mode), user:uid:rwx, group::(mode), mask::rwx, other::(mode)".
func aclGranting(mode uint32, uid int) []byte {
	const undefinedID = 0xffffffff
	entry := func(tag, perm uint16, id uint32) []byte {
		return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, tag), perm), id)
	}
	return slices.Concat(
		binary.LittleEndian.AppendUint32(nil, 2), // version
		entry(0x01, uint16(mode>>6&7), undefinedID),
		entry(0x02, 7, uint32(uid)),
		entry(0x04, uint16(mode>>3&7), undefinedID),
		entry(0x10, 7, undefinedID),
		entry(0x20, uint16(mode&7), undefinedID),
	)
}

// abs makes p, relative to base unless absolute, absolute.
func abs(base, p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return filepath.Join(base, p)
}

// checkErr checks that err is wanted and says msg ($BASE replaced).
func checkErr(t *testing.T, base string, err, want error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one matching %v", want)
	}
	if !errors.Is(err, want) {
		t.Errorf("error %q does not match %v", err, want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("error %q is a %T, not a *safepath.Error", err, err)
	}
	if msg = strings.ReplaceAll(msg, "$BASE", base); !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not say %q", err, msg)
	}
}

// within runs f and fails the test if it has not returned after d: the
// calls under test must never block.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("blocked for more than %v", d)
	}
}

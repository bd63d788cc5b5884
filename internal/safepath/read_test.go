package safepath

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const capZero = math.MinInt64

func TestReadFile(t *testing.T) {
	common := []node{
		dir("r", 0, 0o755),
		file("r/f", 0, "root's"),
		file("r/sixteen", 0, "0123456789abcdef"),
		file("r/seventeen", 0, "0123456789abcdefg"),
		file("r/empty", 0, ""),
		file("r/agent", 1000, "agent's, in root's directory"),
		dir("u", 1000, 0o755),
		file("u/f", 1000, "agent's"),
		file("u/root", 0, "root's, in the agent's directory"),
		file("u/other", 1001, "another agent's"),
		dir("v", 1001, 0o700),
		file("v/secret", 1001, "another agent's secret"),
		hardlink("u/hardlink", "v/secret"),
		fifo("u/fifo", 1000),
		socket("u/socket", 1000),
		dir("u/dir", 1000, 0o755),
		link("u/link", 1000, "f"),
		link("r/link", 0, "f"),
		link("rootlink", 0, "r"),
		link("u/dirlink", 1000, "$BASE/r"),
	}
	dirOwner := ReadOptions{DirOwnerOrRoot: true}
	cases := []struct {
		name string
		path string // relative to the base unless absolute
		max  int64  // the cap; 0 means 1 KiB, capZero means 0
		opts ReadOptions
		want string
		err  error // nil for success
		msg  string
	}{
		{name: "a root file", path: "r/f", want: "root's"},
		{name: "an agent's file in its directory", path: "u/f", opts: dirOwner, want: "agent's"},
		{name: "a root file in an agent's directory", path: "u/root", opts: dirOwner, want: "root's, in the agent's directory"},
		{name: "a file through a root symlink to its directory", path: "rootlink/f", want: "root's"},
		{name: "a file of exactly the cap", path: "r/sixteen", max: 16, want: "0123456789abcdef"},
		{name: "an empty file with a cap of zero", path: "r/empty", max: capZero, want: ""},
		{
			name: "a file one byte over the cap is refused",
			path: "r/seventeen", max: 16, err: ErrTooLarge,
			msg: "$BASE/r/seventeen: is larger than 16 bytes (it has 17): make it smaller",
		},
		{
			name: "another user's file in an agent's directory is refused",
			path: "u/other", opts: dirOwner, err: ErrOwner,
			msg: "is owned by uid 1001, not by root or the directory's owner 1000: a hard link to another user's file?",
		},
		{
			name: "a hard link to another user's file is refused",
			path: "u/hardlink", opts: dirOwner, err: ErrOwner,
			msg: "$BASE/u/hardlink: is owned by uid 1001, not by root or the directory's owner 1000",
		},
		{
			name: "an agent's file in root's directory is refused",
			path: "r/agent", opts: dirOwner, err: ErrOwner,
			msg: "is owned by uid 1000, not by root, who owns the directory",
		},
		{name: "an owner listed is accepted", path: "u/f", opts: ReadOptions{Owners: []uint32{0, 1000}}, want: "agent's"},
		{
			name: "an owner not listed is refused",
			path: "u/other", opts: ReadOptions{Owners: []uint32{0, 1000}}, err: ErrOwner,
			msg: "is owned by uid 1001, not by root or uid 1000: a hard link to another user's file?",
		},
		{
			name: "a named pipe is refused without blocking",
			path: "u/fifo", err: ErrNotRegular, msg: "$BASE/u/fifo: is not a regular file (a named pipe)",
		},
		{name: "a socket is refused", path: "u/socket", err: ErrNotRegular, msg: "is not a regular file (a socket)"},
		{name: "a directory is refused", path: "u/dir", err: ErrNotRegular, msg: "is not a regular file (a directory)"},
		{name: "a device is refused", path: "/dev/null", err: ErrNotRegular, msg: "/dev/null: is not a regular file (a character device)"},
		{name: "the root is refused", path: "/", err: ErrNotRegular, msg: "is a directory"},
		{
			name: "a final symlink is refused, even root's to root's file",
			path: "r/link", err: ErrNotRegular, msg: "$BASE/r/link: is a symbolic link",
		},
		{name: "a final symlink of an agent is refused", path: "u/link", err: ErrNotRegular, msg: "is a symbolic link"},
		{
			name: "a directory reached through an agent's symlink is refused",
			path: "u/dirlink/f", err: ErrUnsafeSymlink, msg: "$BASE/u/dirlink is a symbolic link in a directory another user can write",
		},
		{name: "a missing file", path: "u/nope", err: fs.ErrNotExist, msg: "$BASE/u/nope: does not exist"},
		{name: "a missing directory", path: "u/nope/f", err: fs.ErrNotExist, msg: "$BASE/u/nope/f: $BASE/u/nope does not exist"},
		{name: "a file as a directory", path: "u/f/g", err: unix.ENOTDIR, msg: "$BASE/u/f is a regular file, not a directory"},
		{name: "a negative cap", path: "r/f", max: -1, err: unix.EINVAL, msg: "negative size cap"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := rootTree(t, common...)
			limit := tc.max
			switch limit {
			case 0:
				limit = 1 << 10
			case capZero:
				limit = 0
			}
			var data []byte
			var err error
			within(t, defaultWait, func() {
				data, err = ReadFile(abs(base, tc.path), limit, tc.opts)
			})
			if tc.err != nil {
				if data != nil {
					t.Errorf("got data %q with the error", data)
				}
				checkErr(t, base, err, tc.err, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tc.want {
				t.Errorf("read %q, want %q", data, tc.want)
			}
		})
	}
}

// TestReadFileProc reads files that say they are empty and are not, so
// that only the cap on what is read can stop them.
func TestReadFileProc(t *testing.T) {
	data, err := ReadFile("/proc/self/status", 1<<20, ReadOptions{DirOwnerOrRoot: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("Name:")) {
		t.Errorf("read %q", data)
	}
	data, err = ReadFile("/proc/self/status", 16, ReadOptions{})
	checkErr(t, "", err, ErrTooLarge, "grew larger than 16 bytes while being read")
	if data != nil {
		t.Errorf("got data %q with the error", data)
	}
}

// TestReadFileGrowing reads a file that another goroutine appends to and
// truncates: every read returns at most the cap, or is refused.
func TestReadFileGrowing(t *testing.T) {
	const max = 64 << 10
	base := rootTree(t, dir("u", 1000, 0o755), file("u/log", 1000, ""))
	path := filepath.Join(base, "u/log")
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		chunk := bytes.Repeat([]byte("x"), 4<<10)
		for size := 0; ; size += len(chunk) {
			select {
			case <-stop:
				return
			default:
			}
			if size > 4*max {
				w.Truncate(0)
				size = 0
			}
			w.Write(chunk)
		}
	}()
	defer func() { close(stop); <-done }()

	var ok, tooLarge int
	for deadline := time.Now().Add(500 * time.Millisecond); time.Now().Before(deadline); {
		data, err := ReadFile(path, max, ReadOptions{DirOwnerOrRoot: true})
		switch {
		case err == nil && len(data) <= max:
			ok++
		case errors.Is(err, ErrTooLarge) && data == nil:
			tooLarge++
		default:
			t.Fatalf("read %d bytes with error %v, want at most %d bytes or ErrTooLarge", len(data), err, max)
		}
	}
	t.Logf("%d reads within the cap, %d refused as too large", ok, tooLarge)
}

func TestReadFileCapsTheRead(t *testing.T) {
	// readCapped on its own, with the size it is told wrong on purpose.
	base := rootTree(t, file("f", 0, strings.Repeat("y", 10000)))
	for _, tc := range []struct {
		name       string
		size, max  int64
		wantLen    int
		wantGrowth bool
	}{
		{name: "size right, under the cap", size: 10000, max: 20000, wantLen: 10000},
		{name: "size right, at the cap", size: 10000, max: 10000, wantLen: 10000},
		{name: "size said zero, under the cap", size: 0, max: 20000, wantLen: 10000},
		{name: "size said zero, over the cap", size: 0, max: 9999, wantGrowth: true},
		{name: "size said small, over the cap", size: 10, max: 100, wantGrowth: true},
		{name: "no cap to speak of", size: 0, max: 1<<63 - 1, wantLen: 10000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd, err := unix.Open(filepath.Join(base, "f"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			data, grew, err := readCapped(fd, tc.size, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			if grew != tc.wantGrowth || len(data) != tc.wantLen || slices.ContainsFunc(data, func(b byte) bool { return b != 'y' }) {
				t.Errorf("read %d bytes, grew %v; want %d bytes, grew %v", len(data), grew, tc.wantLen, tc.wantGrowth)
			}
		})
	}
}

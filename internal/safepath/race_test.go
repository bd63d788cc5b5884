package safepath

import (
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// raceFor is how long each race runs; the package's tests stay under ~5 s.
const raceFor = time.Second

// swapper exchanges the entries a and b of dir (with RENAME_EXCHANGE, the
// atomic swap an attacker uses) as fast as it can until the test ends, and
// returns the count of swaps made so far.
func swapper(t *testing.T, dir string, pairs ...[2]string) *atomic.Int64 {
	t.Helper()
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var swaps atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			for _, p := range pairs {
				select {
				case <-stop:
					return
				default:
				}
				if err := unix.Renameat2(dfd, p[0], dfd, p[1], unix.RENAME_EXCHANGE); err != nil {
					t.Errorf("swapping %s and %s: %v", p[0], p[1], err)
					return
				}
				swaps.Add(1)
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
		unix.Close(dfd)
	})
	return &swaps
}

// TestRaceSwapDirectoryWithSymlinkToRoot swaps an agent's directory with
// a symbolic link to "/" while resolving and reading through it: every
// call either fails or reaches the real directory, never "/".
func TestRaceSwapDirectoryWithSymlinkToRoot(t *testing.T) {
	const content = "agent's own passwd\n"
	base := rootTree(t,
		dir("agent", 1000, 0o755),
		dir("agent/d", 1000, 0o755),
		dir("agent/d/etc", 1000, 0o755),
		file("agent/d/etc/passwd", 1000, content),
		// Root's, so that only the rule about directories another user
		// can write refuses it.
		link("agent/swap", 0, "/"),
	)
	d := filepath.Join(base, "agent/d")
	passwd := filepath.Join(d, "etc/passwd")
	var dirSt, passwdSt, rootSt unix.Stat_t
	for p, st := range map[string]*unix.Stat_t{d: &dirSt, passwd: &passwdSt, "/": &rootSt} {
		if err := unix.Stat(p, st); err != nil {
			t.Fatal(err)
		}
	}
	swaps := swapper(t, filepath.Join(base, "agent"), [2]string{"d", "swap"})

	var reached, refused int
	check := func(what string, err error, ok func() string) {
		t.Helper()
		if err != nil {
			if !errors.Is(err, ErrUnsafeSymlink) {
				t.Fatalf("%s: unexpected error: %v", what, err)
			}
			refused++
			return
		}
		if bad := ok(); bad != "" {
			t.Fatalf("%s: %s", what, bad)
		}
		reached++
	}
	for deadline := time.Now().Add(raceFor); time.Now().Before(deadline); {
		h, err := OpenDir(d)
		check("OpenDir", err, func() string {
			defer h.Close()
			if h.Path != d || !sameFile(&h.Stat, &dirSt) || sameFile(&h.Stat, &rootSt) {
				return "reached " + h.Path + ", not the agent's directory"
			}
			return ""
		})
		h, err = Resolve(passwd)
		check("Resolve", err, func() string {
			defer h.Close()
			if h.Path != passwd || !sameFile(&h.Stat, &passwdSt) {
				return "reached " + h.Path + ", not the agent's passwd"
			}
			return ""
		})
		data, err := ReadFile(passwd, 1<<20, ReadOptions{DirOwnerOrRoot: true})
		check("ReadFile", err, func() string {
			if string(data) != content {
				return "read " + string(data[:min(len(data), 40)]) + "…, not the agent's passwd"
			}
			return ""
		})
	}
	n := swaps.Load()
	t.Logf("%d swaps; %d calls reached the agent's directory, %d were refused", n, reached, refused)
	if n < 1000 || reached == 0 || refused == 0 {
		t.Errorf("the race was not run: %d swaps, %d reached, %d refused", n, reached, refused)
	}
}

// TestRaceSwapFileWithSymlinkAndFifo swaps an agent's file with a symbolic
// link to root's secret and with a named pipe while reading it: every read
// either fails or returns the agent's file, and none blocks.
func TestRaceSwapFileWithSymlinkAndFifo(t *testing.T) {
	const content = "agent's file\n"
	base := rootTree(t,
		file("secret", 0, "root's secret\n"),
		dir("agent", 1000, 0o755),
		file("agent/f", 1000, content),
		link("agent/link", 1000, "$BASE/secret"),
		fifo("agent/fifo", 1000),
	)
	path := filepath.Join(base, "agent/f")
	swaps := swapper(t, filepath.Join(base, "agent"), [2]string{"f", "link"}, [2]string{"f", "fifo"})

	var reached, refused int
	within(t, raceFor+defaultWait, func() {
		for deadline := time.Now().Add(raceFor); time.Now().Before(deadline); {
			data, err := ReadFile(path, 1<<20, ReadOptions{DirOwnerOrRoot: true})
			switch {
			case err == nil && string(data) == content:
				reached++
			case errors.Is(err, ErrNotRegular) && data == nil:
				refused++
			default:
				t.Errorf("read %q, error %v", data, err)
				return
			}
		}
	})
	n := swaps.Load()
	t.Logf("%d swaps; %d reads returned the agent's file, %d were refused", n, reached, refused)
	if n < 1000 || reached == 0 || refused == 0 {
		t.Errorf("the race was not run: %d swaps, %d reached, %d refused", n, reached, refused)
	}
}

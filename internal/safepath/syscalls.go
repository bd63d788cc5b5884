package safepath

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// The raw system calls, retried on EINTR (which the Go runtime's signals
// can cause on slow filesystems such as FUSE or NFS).

func openat(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func fstat(fd int, st *unix.Stat_t) error {
	for {
		err := unix.Fstat(fd, st)
		if err != unix.EINTR {
			return err
		}
	}
}

// readlink reads the target of the symbolic link that fd, an
// O_PATH|O_NOFOLLOW descriptor, refers to. Reading through the descriptor
// rather than by name in the parent reads exactly the link that was
// fstat'ed, even if the name has been replaced since.
func readlink(fd int) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(fd, "", buf)
		for err == unix.EINTR {
			n, err = unix.Readlinkat(fd, "", buf)
		}
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

func read(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Read(fd, buf)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// procFdPath is the magic link through which the kernel reopens fd: the
// very file fd refers to, whatever has happened to its name since.
func procFdPath(fd int) string {
	return "/proc/self/fd/" + strconv.Itoa(fd)
}

func isType(st *unix.Stat_t, typ uint32) bool {
	return st.Mode&unix.S_IFMT == typ
}

func sameFile(a, b *unix.Stat_t) bool {
	return a.Dev == b.Dev && a.Ino == b.Ino
}

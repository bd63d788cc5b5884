// Package nsjournal writes to one journald namespace (journalctl
// --namespace=NAME): entries through journald's native protocol to the
// namespace's datagram socket, and a process's stdout and stderr to its
// stream socket, as LogNamespace= would. herdctl's job runner uses it
// instead of LogNamespace= because that setting gives a unit a mount
// namespace of its own, and the runner must stay in the host's: the binds
// it makes for the container have to be seen by containerd and runc.
// go-systemd's journal package knows only the default namespace's socket.
package nsjournal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Dir is the runtime directory of namespace ns's journald, where its
// sockets are (systemd-journald@NS.socket).
func Dir(ns string) string { return "/run/systemd/journal." + ns }

// Writer sends entries to one namespace's journald.
type Writer struct {
	socket string
	once   sync.Once
	conn   *net.UnixConn
	err    error
}

// New is a Writer to the native socket of namespace ns.
func New(ns string) *Writer { return &Writer{socket: filepath.Join(Dir(ns), "socket")} }

// NewAt is a Writer to the native socket at path (tests).
func NewAt(path string) *Writer { return &Writer{socket: path} }

// Available reports whether the namespace's socket is there.
func (w *Writer) Available() bool {
	fi, err := os.Stat(w.socket)
	return err == nil && fi.Mode()&os.ModeSocket != 0
}

// Send writes one entry: MESSAGE, PRIORITY and fields (upper-case journal
// field names; values may hold any bytes, newlines included). An entry
// too large for one datagram goes as a sealed memfd, as journald's
// protocol says.
func (w *Writer) Send(message string, priority int, fields map[string]string) error {
	w.once.Do(func() {
		w.conn, w.err = net.ListenUnixgram("unixgram", &net.UnixAddr{Net: "unixgram"})
	})
	if w.err != nil {
		return fmt.Errorf("journal namespace socket: %w", w.err)
	}
	payload := Encode(message, priority, fields)
	addr := &net.UnixAddr{Name: w.socket, Net: "unixgram"}
	_, _, err := w.conn.WriteMsgUnix(payload, nil, addr)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EMSGSIZE) && !errors.Is(err, unix.ENOBUFS) {
		return fmt.Errorf("writing to %s: %w", w.socket, err)
	}
	fd, err := sealedMemfd(payload)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if _, _, err := w.conn.WriteMsgUnix(nil, unix.UnixRights(fd), addr); err != nil {
		return fmt.Errorf("writing to %s: %w", w.socket, err)
	}
	return nil
}

// Encode is one entry in the native protocol: KEY=VALUE lines, and a
// value holding a newline as KEY, newline, its length (64-bit little
// endian) and the bytes. Fields come in a fixed order.
func Encode(message string, priority int, fields map[string]string) []byte {
	var b bytes.Buffer
	put := func(k, v string) {
		if !strings.Contains(v, "\n") {
			b.WriteString(k + "=" + v + "\n")
			return
		}
		b.WriteString(k + "\n")
		binary.Write(&b, binary.LittleEndian, uint64(len(v)))
		b.WriteString(v + "\n")
	}
	put("MESSAGE", message)
	put("PRIORITY", fmt.Sprint(priority))
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		put(k, fields[k])
	}
	return b.Bytes()
}

func sealedMemfd(payload []byte) (int, error) {
	fd, err := unix.MemfdCreate("journal-entry", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, fmt.Errorf("memfd for a large journal entry: %w", err)
	}
	for len(payload) > 0 {
		n, err := unix.Write(fd, payload)
		if err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("memfd for a large journal entry: %w", err)
		}
		payload = payload[n:]
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE|unix.F_SEAL_SEAL); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("sealing a large journal entry: %w", err)
	}
	return fd, nil
}

// RedirectStdio connects this process's stdout and stderr to namespace
// ns's stream socket under identifier (SYSLOG_IDENTIFIER), at priority
// info, as systemd does for a unit with LogNamespace=: what the process
// prints, and a Go panic, land in that namespace.
func RedirectStdio(ns, identifier string) error {
	c, err := net.Dial("unix", filepath.Join(Dir(ns), "stdout"))
	if err != nil {
		return fmt.Errorf("journal namespace %s: %w", ns, err)
	}
	defer c.Close()
	// identifier, unit id (journald finds the unit from the cgroup),
	// priority, level prefix, forward to syslog, kmsg, console.
	if _, err := fmt.Fprintf(c, "%s\n\n6\n1\n0\n0\n0\n", identifier); err != nil {
		return err
	}
	f, err := c.(*net.UnixConn).File()
	if err != nil {
		return err
	}
	defer f.Close()
	for _, fd := range []int{1, 2} {
		if err := unix.Dup3(int(f.Fd()), fd, 0); err != nil {
			return fmt.Errorf("journal namespace %s: %w", ns, err)
		}
	}
	return nil
}

// Package netns opens listeners and connections inside another process's
// network namespace: the socket is made there and keeps living there,
// while the process that made it uses it from its own namespace. The job
// runner uses it for the egress proxy an agent reaches on its own
// loopback; the tests use it to serve a stand-in inside a test machine,
// and to reach a server there (Cockpit) from a browser on the host.
package netns

import (
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Listen opens a TCP listener on addr inside the network namespace of the
// file nsPath (/proc/PID/ns/net).
func Listen(nsPath, addr string) (net.Listener, error) {
	return inNetns(nsPath, func() (net.Listener, error) { return net.Listen("tcp", addr) })
}

// Dial opens a TCP connection to addr from inside the network namespace
// of the file nsPath.
func Dial(nsPath, addr string) (net.Conn, error) {
	return inNetns(nsPath, func() (net.Conn, error) { return net.Dial("tcp", addr) })
}

// inNetns makes a socket with open on a thread that entered the network
// namespace of nsPath.
func inNetns[T any](nsPath string, open func() (T, error)) (T, error) {
	var zero T
	target, err := os.Open(nsPath)
	if err != nil {
		return zero, err
	}
	defer target.Close()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread that changed namespace is never reused: it ends
		// with this goroutine, still locked, and Go discards it.
		runtime.LockOSThread()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("entering the network namespace %s: %w", nsPath, err)}
			return
		}
		v, err := open()
		ch <- result{v, err}
	}()
	r := <-ch
	return r.v, r.err
}

// Package netns opens listeners inside another process's network
// namespace: the socket is made there and keeps living there, while the
// process that made it serves it from its own namespace. The job runner
// uses it for the egress proxy an agent reaches on its own loopback; the
// tests use it to serve a stand-in inside a test machine.
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
	target, err := os.Open(nsPath)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	type result struct {
		ln  net.Listener
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
		ln, err := net.Listen("tcp", addr)
		ch <- result{ln, err}
	}()
	r := <-ch
	return r.ln, r.err
}

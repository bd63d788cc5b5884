package testbed

import (
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// ListenInNetns opens a TCP listener inside the network namespace of
// process pid (a test machine's), from this process: the socket keeps
// living in that namespace, so a server in the test serves the machine's
// loopback and nothing else.
func ListenInNetns(pid int, addr string) (net.Listener, error) {
	return ListenInNetnsAt(fmt.Sprintf("/proc/%d/ns/net", pid), addr)
}

// ListenInNetnsAt is ListenInNetns for the namespace file nsPath.
func ListenInNetnsAt(nsPath, addr string) (net.Listener, error) {
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
		// with this goroutine, still locked.
		runtime.LockOSThread()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("setns: %w", err)}
			return
		}
		ln, err := net.Listen("tcp", addr)
		ch <- result{ln, err}
	}()
	r := <-ch
	return r.ln, r.err
}

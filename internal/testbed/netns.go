package testbed

import (
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/herdctl/herdctl/internal/netns"
)

// ListenInNetns opens a TCP listener inside the network namespace of
// process pid (a test machine's), from this process: a server in the test
// serves the machine's loopback and nothing else.
func ListenInNetns(pid int, addr string) (net.Listener, error) {
	return netns.Listen(fmt.Sprintf("/proc/%d/ns/net", pid), addr)
}

// ListenInNetnsAt is ListenInNetns for the namespace file nsPath.
func ListenInNetnsAt(nsPath, addr string) (net.Listener, error) { return netns.Listen(nsPath, addr) }

// ForwardIntoNetns serves a port on this host's loopback whose every
// connection is joined to addr inside the network namespace of process
// pid (a test machine's): a browser on the host reaches a server in the
// machine, which sees the connection come from its own loopback. It
// returns the host's address, and stops when the test ends.
func ForwardIntoNetns(t *testing.T, pid int, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	nsPath := fmt.Sprintf("/proc/%d/ns/net", pid)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				in, err := netns.Dial(nsPath, addr)
				if err != nil {
					return
				}
				defer in.Close()
				go func() { io.Copy(in, c); in.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, in)
			}()
		}
	}()
	return ln.Addr().String()
}

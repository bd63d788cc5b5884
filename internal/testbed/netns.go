package testbed

import (
	"fmt"
	"net"

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

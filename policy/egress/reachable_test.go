package egress

import (
	"net/netip"
	"testing"
)

// TestReachableHoldsCheckAddrsLine checks the firewall's form against the
// proxy's own decision, address by address.
func TestReachableHoldsCheckAddrsLine(t *testing.T) {
	p := Policy{}
	in := func(a netip.Addr) bool {
		for _, b := range Reachable() {
			if !b.CIDR.Contains(a) {
				continue
			}
			for _, e := range b.Except {
				if e.Contains(a) {
					return false
				}
			}
			return true
		}
		return false
	}
	for _, s := range []string{"1.1.1.1", "8.8.8.8", "10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1",
		"169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1",
		"2606:4700::1111", "2001:db8::1", "2002::1", "fd00::1", "fe80::1", "::1", "2001::1", "3fff::1"} {
		a := netip.MustParseAddr(s)
		if want := p.CheckAddr(a) == nil; in(a) != want {
			t.Errorf("%s: Reachable says %v, CheckAddr %v", s, in(a), want)
		}
	}
	for _, b := range Reachable() {
		for _, e := range b.Except {
			if !b.CIDR.Contains(e.Addr()) || e.Bits() <= b.CIDR.Bits() {
				t.Errorf("%s is not strictly inside %s", e, b.CIDR)
			}
		}
	}
}

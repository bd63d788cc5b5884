package egress

import (
	"errors"
	"net/netip"
	"slices"
)

// Policy is where one agent may connect.
type Policy struct {
	// Allow lists the names and ports the agent may connect to.
	Allow []Rule
	// Private lists the ranges, refused by default, that the names on
	// Allow may resolve into (egress_private).
	Private []netip.Prefix
}

// CheckName returns nil if a rule allows host on port; a *NotListedError
// if none does; a *RawAddressError if host is an IP address in any
// notation; another error if host is not a valid name. host is normalised
// first, as rules are.
func (p Policy) CheckName(host string, port int) error {
	name, err := normalizeName(host)
	if err != nil {
		if raw, ok := errors.AsType[*RawAddressError](err); ok {
			raw.Port = port
		}
		return err
	}
	var ports []int
	for _, r := range p.Allow {
		if !r.matches(name) {
			continue
		}
		if r.Port == port {
			return nil
		}
		if i, found := slices.BinarySearch(ports, r.Port); !found {
			ports = slices.Insert(ports, i, r.Port)
		}
	}
	return &NotListedError{Host: name, Port: port, Ports: ports}
}

// CheckAddr returns nil if the agent may connect to ip: a public unicast
// address, or an address inside one of p.Private. Otherwise it returns an
// *AddrError saying what ip is. An IPv4-mapped IPv6 address is checked as
// the IPv4 address it carries, and a NAT64 address (64:ff9b::/96) as the
// IPv4 address it embeds. A cloud metadata address (169.254.169.254,
// fd00:ec2::254) is allowed only if p.Private lists it alone, as a /32 or
// /128: a broader range does not open it.
func (p Policy) CheckAddr(ip netip.Addr) error {
	a := ip.Unmap().WithZone("")
	if !a.IsValid() {
		return &AddrError{Addr: ip, Range: "not an address"}
	}
	if nat64.Contains(a) && !p.private(a) {
		b := a.As16()
		v4 := netip.AddrFrom4([4]byte(b[12:]))
		if err := p.CheckAddr(v4); err != nil {
			ae := err.(*AddrError)
			return &AddrError{Addr: ip, Range: "a NAT64 address for " + v4.String() + ", " + ae.Range, Hint: ae.Hint}
		}
		return nil
	}
	if p.private(a) {
		return nil
	}
	if r, ok := classify(a); ok {
		return &AddrError{Addr: ip, Range: r.what, Hint: r.hint}
	}
	return nil
}

// private reports whether a is inside one of p.Private; a metadata address
// only if listed alone.
func (p Policy) private(a netip.Addr) bool {
	for _, r := range p.Private {
		if r.Contains(a) && (!isMetadata(a) || r.Bits() == a.BitLen()) {
			return true
		}
	}
	return false
}

// NewPolicy parses allow rules and private ranges as the fleet writes them.
func NewPolicy(allow, private []string) (Policy, error) {
	var p Policy
	for _, s := range allow {
		r, err := ParseRule(s)
		if err != nil {
			return Policy{}, err
		}
		p.Allow = append(p.Allow, r)
	}
	for _, s := range private {
		pfx, err := ParsePrivate(s)
		if err != nil {
			return Policy{}, err
		}
		p.Private = append(p.Private, pfx)
	}
	return p, nil
}

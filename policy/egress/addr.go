package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// What the owner may do about a refused address, when listing its range
// is a reasonable thing to do.
const hintPrivate = "list its range in egress_private to allow it"

// addrRange is a range refused by default, and what to call it.
type addrRange struct {
	prefix netip.Prefix
	what   string
	hint   string
}

func refuse(prefix, what, hint string) addrRange {
	return addrRange{prefix: netip.MustParsePrefix(prefix), what: what, hint: hint}
}

// refused4 and refused6 are the ranges refused by default, the narrowest
// first so an address gets its most precise name. Outside 2000::/3 every
// IPv6 address is refused (globalUnicast6); the IPv6 entries outside it
// only give a better name.
var (
	refused4 = []addrRange{
		refuse("169.254.169.254/32", "the cloud metadata address (link-local)", ""),
		refuse("100.100.100.200/32", "the Alibaba Cloud metadata address (shared address space)", ""),
		refuse("0.0.0.0/32", "the unspecified address", ""),
		refuse("255.255.255.255/32", "the broadcast address", ""),
		refuse("0.0.0.0/8", `a "this network" address (0.0.0.0/8)`, ""),
		refuse("10.0.0.0/8", "a private address (RFC 1918)", hintPrivate),
		refuse("100.64.0.0/10", "a shared address (carrier-grade NAT, RFC 6598)", hintPrivate),
		refuse("127.0.0.0/8", "a loopback address (the host the proxy runs on)", ""),
		refuse("169.254.0.0/16", "a link-local address", ""),
		refuse("172.16.0.0/12", "a private address (RFC 1918)", hintPrivate),
		refuse("192.0.0.0/24", "an IETF protocol assignment (192.0.0.0/24)", ""),
		refuse("192.0.2.0/24", "a documentation address (TEST-NET-1)", ""),
		refuse("192.88.99.0/24", "a 6to4 relay address", ""),
		refuse("192.168.0.0/16", "a private address (RFC 1918)", hintPrivate),
		refuse("198.18.0.0/15", "a benchmarking address (RFC 2544)", ""),
		refuse("198.51.100.0/24", "a documentation address (TEST-NET-2)", ""),
		refuse("203.0.113.0/24", "a documentation address (TEST-NET-3)", ""),
		refuse("224.0.0.0/4", "a multicast address", ""),
		refuse("240.0.0.0/4", "a reserved address (240.0.0.0/4)", ""),
	}
	refused6 = []addrRange{
		refuse("::/128", "the unspecified address", ""),
		refuse("::1/128", "a loopback address (the host the proxy runs on)", ""),
		refuse("fd00:ec2::254/128", "the cloud metadata address (unique local)", ""),
		refuse("64:ff9b:1::/48", "a local-use NAT64 address (RFC 8215)", hintPrivate),
		refuse("::/96", "an IPv4-compatible address (deprecated)", ""),
		refuse("::/8", "a reserved address (::/8)", ""),
		refuse("100::/64", "a discard-only address (RFC 6666)", ""),
		refuse("2001::/32", "a Teredo address", ""),
		refuse("2001:2::/48", "a benchmarking address (RFC 5180)", ""),
		refuse("2001:db8::/32", "a documentation address", ""),
		refuse("2001::/23", "an IETF protocol assignment (2001::/23)", ""),
		refuse("2002::/16", "a 6to4 address", ""),
		refuse("3fff::/20", "a documentation address", ""),
		refuse("fc00::/7", "a unique local address (ULA)", hintPrivate),
		refuse("fe80::/10", "a link-local address", ""),
		refuse("ff00::/8", "a multicast address", ""),
	}
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	// nat64 is the well-known NAT64 prefix (RFC 6052): the address is
	// the IPv4 address in its last 32 bits, and is checked as that.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
)

// classify says whether a, unmapped and without a zone, is refused by
// default, and as what.
func classify(a netip.Addr) (addrRange, bool) {
	table := refused4
	if a.Is6() {
		table = refused6
	}
	for _, r := range table {
		if r.prefix.Contains(a) {
			return r, true
		}
	}
	if a.Is6() && !globalUnicast6.Contains(a) {
		return addrRange{what: "not a global unicast address (outside 2000::/3)"}, true
	}
	return addrRange{}, false
}

// refusedWhole reports whether every address of p is refused by default:
// the only ranges worth listing in egress_private.
func refusedWhole(p netip.Prefix) bool {
	if p.Addr().Is6() && !p.Overlaps(globalUnicast6) {
		return true
	}
	table := refused4
	if p.Addr().Is6() {
		table = refused6
	}
	for _, r := range table {
		if r.prefix.Bits() <= p.Bits() && r.prefix.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// overlapsRefused reports whether some address of p is refused by default.
func overlapsRefused(p netip.Prefix) bool {
	if p.Addr().Is6() && (p.Bits() < globalUnicast6.Bits() || !globalUnicast6.Contains(p.Addr())) {
		return true
	}
	table := refused4
	if p.Addr().Is6() {
		table = refused6
	}
	for _, r := range table {
		if r.prefix.Overlaps(p) {
			return true
		}
	}
	return false
}

// metadata are the cloud metadata services' addresses. They are allowed
// only when egress_private lists them alone (169.254.169.254/32), never as
// part of a broader range: listing 169.254.0.0/16, 100.64.0.0/10 or
// fc00::/7 for other reasons must not hand agents the host's cloud
// credentials in passing.
var metadata = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"),
	netip.MustParseAddr("100.100.100.200"),
	netip.MustParseAddr("fd00:ec2::254"),
}

func isMetadata(a netip.Addr) bool {
	for _, m := range metadata {
		if a == m {
			return true
		}
	}
	return false
}

// ParsePrivate reads one entry of egress_private: a CIDR range, refused by
// default, that names on the agent's list may resolve into ("10.0.0.0/8",
// "fd12:3456::/48", "10.1.2.3/32" for one host). Ranges with public
// addresses in them are refused: public addresses need no listing, and
// "0.0.0.0/0" would open loopback too. A cloud metadata address is opened
// only by a range of that address alone ("169.254.169.254/32").
func ParsePrivate(s string) (netip.Prefix, error) {
	p, err := parsePrivate(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%s: %w", strconv.Quote(s), err)
	}
	return p, nil
}

func parsePrivate(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
			return netip.Prefix{}, fmt.Errorf("a range needs a prefix length: write %s for this one address", netip.PrefixFrom(a, a.BitLen()))
		}
		return netip.Prefix{}, errors.New("not a CIDR range such as 10.0.0.0/8 or fd12:3456::/48")
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, errors.New("not a CIDR range such as 10.0.0.0/8 or fd12:3456::/48")
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.Prefix{}, fmt.Errorf("write the IPv4 range, %s", netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Masked())
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%s has bits set past its prefix length: write %s for the range, or %s for the one address",
			p, m, netip.PrefixFrom(p.Addr(), p.Addr().BitLen()))
	}
	switch {
	case refusedWhole(p):
	case overlapsRefused(p):
		return netip.Prefix{}, fmt.Errorf("%s also holds public addresses: egress_private lists private ranges only (public addresses need no listing)", p)
	default:
		return netip.Prefix{}, fmt.Errorf("%s is public: public addresses need no listing, only the names that resolve to them", p)
	}
	return p, nil
}

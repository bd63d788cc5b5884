package egress

import "net/netip"

// Block is a range of addresses a connection may go to by default, but
// for the ranges inside it that are refused.
type Block struct {
	CIDR   netip.Prefix
	Except []netip.Prefix
}

// Reachable is where connections may go by default, as a firewall writes
// it: all of IPv4 but the ranges CheckAddr refuses, and IPv6's global
// unicast range (2000::/3) but those refused inside it. The Kubernetes
// export's NetworkPolicy holds the same line as the proxy with it. Each
// Except list is minimal (no range inside another) and sorted.
func Reachable() []Block {
	return []Block{
		{CIDR: netip.MustParsePrefix("0.0.0.0/0"), Except: outermost(refused4, netip.MustParsePrefix("0.0.0.0/0"))},
		{CIDR: globalUnicast6, Except: outermost(refused6, globalUnicast6)},
	}
}

// outermost lists the prefixes of table inside within that no other one
// of them holds, sorted by address.
func outermost(table []addrRange, within netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for i, r := range table {
		p := r.prefix
		if !within.Contains(p.Addr()) || p.Bits() < within.Bits() {
			continue
		}
		inner := false
		for j, o := range table {
			if j != i && o.prefix.Bits() < p.Bits() && o.prefix.Contains(p.Addr()) {
				inner = true
				break
			}
		}
		if !inner {
			out = append(out, p)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Addr().Less(out[j-1].Addr()); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

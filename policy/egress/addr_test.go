package egress

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr string
		want string // a piece of the reason, or "" if allowed
	}{
		// Public addresses pass.
		{"1.1.1.1", ""},
		{"8.8.8.8", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"192.169.0.1", ""},
		{"198.20.0.1", ""},
		{"223.255.255.255", ""},
		{"2606:4700::1111", ""},
		{"2a00:1450:4001::1", ""},
		{"64:ff9b::808:808", ""}, // NAT64 for 8.8.8.8
		{"::ffff:8.8.8.8", ""},

		// Refused IPv4 ranges.
		{"0.0.0.0", "the unspecified address"},
		{"0.1.2.3", `"this network"`},
		{"10.0.0.5", "a private address (RFC 1918); list its range in egress_private"},
		{"172.16.0.1", "RFC 1918"},
		{"172.31.255.255", "RFC 1918"},
		{"192.168.1.1", "RFC 1918"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.127.255.255", "carrier-grade NAT"},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"169.254.169.254", "the cloud metadata address"},
		{"100.100.100.200", "metadata address"},
		{"169.254.1.1", "link-local"},
		{"192.0.0.8", "IETF protocol assignment"},
		{"192.0.2.1", "documentation"},
		{"198.51.100.1", "documentation"},
		{"203.0.113.1", "documentation"},
		{"192.88.99.1", "6to4 relay"},
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.255", "benchmarking"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "the broadcast address"},

		// Refused IPv6 ranges.
		{"::", "the unspecified address"},
		{"::1", "loopback"},
		{"fd00:ec2::254", "the cloud metadata address"},
		{"fc00::1", "unique local address"},
		{"fd12:3456::1", "unique local address (ULA); list its range in egress_private"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"ff02::1", "multicast"},
		{"2001:db8::1", "documentation"},
		{"3fff::1", "documentation"},
		{"2002:7f00:1::1", "6to4"},
		{"2002:0808:0808::1", "6to4"},
		{"2001::1", "Teredo"},
		{"2001:2::1", "benchmarking"},
		{"2001:10::1", "IETF protocol assignment"},
		{"100::1", "discard-only"},
		{"::127.0.0.1", "IPv4-compatible"},
		{"64:ff9b:1::a00:1", "local-use NAT64"},
		{"4000::1", "not a global unicast address"},
		{"::2:1", "IPv4-compatible"},

		// Addresses that carry an IPv4 address are checked as it.
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:10.0.0.5", "RFC 1918"},
		{"::ffff:169.254.169.254", "the cloud metadata address"},
		{"::ffff:0.0.0.0", "the unspecified address"},
		{"64:ff9b::a00:5", "a NAT64 address for 10.0.0.5, a private address (RFC 1918)"},
		{"64:ff9b::7f00:1", "a NAT64 address for 127.0.0.1, a loopback"},
		{"64:ff9b::a9fe:a9fe", "a NAT64 address for 169.254.169.254, the cloud metadata address"},

		{"", "not an address"},
	}
	var p Policy
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			var a netip.Addr
			if tt.addr != "" {
				a = netip.MustParseAddr(tt.addr)
			}
			err := p.CheckAddr(a)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckAddr(%s) = %v, want allowed", tt.addr, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckAddr(%s) allowed it, want %q", tt.addr, tt.want)
			}
			if _, ok := errors.AsType[*AddrError](err); !ok {
				t.Errorf("CheckAddr(%s) = %T, want *AddrError", tt.addr, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckAddr(%s) = %q, want it to say %q", tt.addr, err, tt.want)
			}
		})
	}
}

func TestCheckAddrReason(t *testing.T) {
	err := Policy{}.CheckAddr(netip.MustParseAddr("10.0.0.5"))
	ae, _ := errors.AsType[*AddrError](err)
	ae.Host = "api.example.org"
	const want = "egress: api.example.org resolves to 10.0.0.5, a private address (RFC 1918); list its range in egress_private to allow it"
	if err.Error() != want {
		t.Errorf("reason = %q, want %q", err, want)
	}
	err = Policy{}.CheckAddr(netip.MustParseAddr("169.254.169.254"))
	if !strings.Contains(err.Error(), "169.254.169.254 is the cloud metadata address") || strings.Contains(err.Error(), "egress_private") {
		t.Errorf("reason = %q: should name the metadata address and not suggest opening it", err)
	}
}

func TestCheckAddrPrivate(t *testing.T) {
	broad := Policy{Private: []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16")}}
	if err := broad.CheckAddr(netip.MustParseAddr("169.254.169.254")); err == nil {
		t.Errorf("169.254.0.0/16 opened the metadata address")
	}
	if err := broad.CheckAddr(netip.MustParseAddr("169.254.1.1")); err != nil {
		t.Errorf("169.254.0.0/16 did not open 169.254.1.1: %v", err)
	}

	p := Policy{Private: []netip.Prefix{
		netip.MustParsePrefix("10.1.0.0/16"),
		netip.MustParsePrefix("fd12:3456::/48"),
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("169.254.169.254/32"),
		netip.MustParsePrefix("100.64.0.0/10"),
		netip.MustParsePrefix("fc00::/7"),
	}}
	tests := []struct {
		addr    string
		allowed bool
	}{
		{"10.1.2.3", true},
		{"10.2.0.1", false},
		{"::ffff:10.1.2.3", true}, // IPv4-mapped, inside a listed IPv4 range
		{"::ffff:10.2.0.1", false},
		{"64:ff9b::a01:203", true}, // NAT64 for 10.1.2.3
		{"64:ff9b::a02:1", false},  // NAT64 for 10.2.0.1
		{"fd12:3456::1", true},
		{"fd99::1", true},
		{"fd00:ec2::254", false},      // metadata, inside fc00::/7 but not listed alone
		{"100.100.100.200", false},    // metadata, inside 100.64.0.0/10 but not listed alone
		{"64:ff9b::6464:64c8", false}, // NAT64 for 100.100.100.200
		{"100.100.100.100", true},
		{"127.0.0.1", true},
		{"::ffff:127.0.0.1", true},
		{"::1", false},            // IPv6 loopback is not in 127.0.0.0/8
		{"169.254.169.254", true}, // listed alone
		{"::ffff:169.254.169.254", true},
		{"64:ff9b::a9fe:a9fe", true},
		{"169.254.169.253", false},
		{"192.168.0.1", false},
		{"8.8.8.8", true},
	}
	for _, tt := range tests {
		err := p.CheckAddr(netip.MustParseAddr(tt.addr))
		if (err == nil) != tt.allowed {
			t.Errorf("CheckAddr(%s) = %v, want allowed %v", tt.addr, err, tt.allowed)
		}
	}
}

func TestParsePrivate(t *testing.T) {
	tests := []struct {
		in   string
		want string // the prefix, or a piece of the error
		ok   bool
	}{
		{"10.0.0.0/8", "10.0.0.0/8", true},
		{"10.1.0.0/16", "10.1.0.0/16", true},
		{"10.1.2.3/32", "10.1.2.3/32", true},
		{"172.16.0.0/12", "172.16.0.0/12", true},
		{"192.168.0.0/16", "192.168.0.0/16", true},
		{"100.64.0.0/10", "100.64.0.0/10", true},
		{"127.0.0.0/8", "127.0.0.0/8", true},
		{"fd00::/8", "fd00::/8", true},
		{"fc00::/7", "fc00::/7", true},
		{"fd12:3456::/48", "fd12:3456::/48", true},
		{"169.254.169.254/32", "169.254.169.254/32", true},
		{"169.254.1.0/24", "169.254.1.0/24", true},

		{"10.1.2.3", "write 10.1.2.3/32", false},
		{"fd00::1", "write fd00::1/128", false},
		{"10.1.2.3/8", "write 10.0.0.0/8 for the range, or 10.1.2.3/32", false},
		{"10.0.0.0/33", "not a CIDR range", false},
		{"ten", "not a CIDR range", false},
		{"", "not a CIDR range", false},
		{"0.0.0.0/0", "also holds public addresses", false},
		{"::/0", "also holds public addresses", false},
		{"10.0.0.0/7", "also holds public addresses", false},
		{"8.8.8.0/24", "is public", false},
		{"2606:4700::/32", "is public", false},
		{"169.254.0.0/16", "169.254.0.0/16", true},
		{"fd00:ec2::254/128", "fd00:ec2::254/128", true},
		{"::ffff:10.0.0.0/104", "write the IPv4 range, 10.0.0.0/8", false},
	}
	for _, tt := range tests {
		p, err := ParsePrivate(tt.in)
		switch {
		case tt.ok && err != nil:
			t.Errorf("ParsePrivate(%q): %v", tt.in, err)
		case tt.ok && p.String() != tt.want:
			t.Errorf("ParsePrivate(%q) = %s, want %s", tt.in, p, tt.want)
		case !tt.ok && err == nil:
			t.Errorf("ParsePrivate(%q) = %s, want an error with %q", tt.in, p, tt.want)
		case !tt.ok && !strings.Contains(err.Error(), tt.want):
			t.Errorf("ParsePrivate(%q): %v, want it to say %q", tt.in, err, tt.want)
		}
	}
}

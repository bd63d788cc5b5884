package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// DNS limits (RFC 1035 2.3.4), in the ASCII form, without a trailing dot.
const (
	maxNameLen  = 253
	maxLabelLen = 63
)

// normalizeName turns a host name as an operator or a client wrote it into
// the one form rules are matched in, the resolver is asked for and Host
// carries: ASCII (punycode), lower case, no trailing dot. A name that is an
// IP address in any notation, or ends in a number as only addresses do, is
// refused with *RawAddressError: such a name must never reach a resolver,
// which might read it as an address (getaddrinfo reads "0x7f.1" as
// 127.0.0.1 without asking DNS).
func normalizeName(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty name")
	}
	name := s
	if !isASCII(name) {
		if !utf8.ValidString(name) {
			return "", fmt.Errorf("%s is not valid UTF-8", show(s))
		}
		// Lookup maps what UTS #46 maps (case, full-width forms, the
		// ideographic full stop) and refuses what it disallows, so
		// "ｅｘａｍｐｌｅ。com" and "example.com" are the same name.
		a, err := idna.Lookup.ToASCII(name)
		if err != nil {
			return "", fmt.Errorf("%s is not a valid international name: %s", show(s), idnaReason(err))
		}
		name = a
	}
	name = strings.ToLower(name)
	name = strings.TrimSuffix(name, ".")
	if a, err := netip.ParseAddr(name); err == nil {
		return "", &RawAddressError{Host: s, Addr: a}
	}
	if endsInNumber(name) {
		a, _ := parseInetAton(name)
		return "", &RawAddressError{Host: s, Addr: a}
	}
	if err := checkLDH(name); err != nil {
		return "", fmt.Errorf("%s is not a valid name: %w", show(s), err)
	}
	if strings.Contains(name, "xn--") {
		// An ASCII name with a punycode label must be one Lookup would
		// itself produce, so there is exactly one spelling per name.
		if a, err := idna.Lookup.ToASCII(name); err != nil {
			return "", fmt.Errorf("%s is not a valid international name: %s", show(s), idnaReason(err))
		} else if a != name {
			return "", fmt.Errorf("%s is not a valid international name: its canonical form is %s", show(s), a)
		}
	}
	return name, nil
}

// checkLDH checks an ASCII lower-case name: labels of letters, digits and
// hyphens (not at either end), 1 to 63 long, 253 in all.
func checkLDH(name string) error {
	if len(name) > maxNameLen {
		return fmt.Errorf("it is %d characters long, more than %d", len(name), maxNameLen)
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return errors.New("it has an empty label (two dots in a row, or a dot at the start)")
		}
		if len(label) > maxLabelLen {
			return fmt.Errorf("label %s is %d characters long, more than %d", show(label), len(label), maxLabelLen)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return fmt.Errorf("label %s has %q: names use letters, digits and hyphens", show(label), rune(c))
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("label %s starts or ends with a hyphen", show(label))
		}
	}
	return nil
}

// endsInNumber reports whether the last label of name (lower case, no
// trailing dot) is a decimal or 0x-hex number. No top-level domain is, and
// the WHATWG URL standard parses such a host as an IPv4 address, so any
// such name is an address or an attempt to look like one.
func endsInNumber(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return false
	}
	if hex, ok := strings.CutPrefix(last, "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// parseInetAton reads s as inet_aton(3) and the WHATWG URL standard do:
// one to four dot-separated parts, each decimal, octal (leading 0) or hex
// (leading 0x), the last part filling the bytes that remain. s is lower
// case.
func parseInetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var ip uint32
	for i, p := range parts {
		v, ok := parseAtonPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if v > 0xff {
				return netip.Addr{}, false
			}
			ip |= uint32(v) << (8 * (3 - i))
			continue
		}
		rest := 8 * (4 - i) // bits the last part fills
		if rest < 32 && v >= 1<<rest {
			return netip.Addr{}, false
		}
		ip |= uint32(v)
	}
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), true
}

func parseAtonPart(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case strings.HasPrefix(p, "0x"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true // WHATWG reads "0x" as 0
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	var v uint64
	for i := 0; i < len(p); i++ {
		var d uint64
		switch c := p[i]; {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 0xffffffff {
			return 0, false
		}
	}
	return v, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func idnaReason(err error) string {
	return strings.TrimPrefix(err.Error(), "idna: ")
}

// showMax keeps a reason on one readable line even for a very long name.
const showMax = 80

// show renders what a client or an operator wrote for a one-line message:
// as is when it is short printable ASCII, quoted (and cut) otherwise.
func show(s string) string {
	plain := len(s) <= showMax
	for i := 0; plain && i < len(s); i++ {
		plain = s[i] > ' ' && s[i] < 0x7f && s[i] != '"'
	}
	if plain {
		return s
	}
	if len(s) > showMax {
		cut := showMax
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

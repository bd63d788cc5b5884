package egress

import (
	"net/netip"
	"strings"
	"testing"
)

var fuzzHosts = []string{
	"api.anthropic.com", "*.example.org", "git.example.org:22", "[2001:db8::1]:443", "bücher.example",
	"xn--bcher-kva.example", "API.EXAMPLE.ORG.", "2130706433", "0x7f.1", "0177.0.0.1", "127.1",
	"[::ffff:127.0.0.1]:443", "localhost", "a_b.example", "ｅｘａｍｐｌｅ。org", "foo.123", "evil%2ecom",
	"api.anthropic.com@evil.com", "１２７.０.０.１", "*.co.uk", "a.b:0", "",
}

// isAddressLike reports whether a normalised name could be read as an IP
// address by some resolver.
func isAddressLike(name string) bool {
	if _, err := netip.ParseAddr(name); err == nil {
		return true
	}
	_, ok := parseInetAton(name)
	return ok || endsInNumber(name)
}

func FuzzParseRule(f *testing.F) {
	for _, s := range fuzzHosts {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("error is not one line: %q", err)
			}
			return
		}
		if isAddressLike(r.Name) {
			t.Errorf("ParseRule(%q) = %v: an address", s, r)
		}
		if err := checkLDH(r.Name); err != nil {
			t.Errorf("ParseRule(%q) = %v: %v", s, r, err)
		}
		if r.Port < 1 || r.Port > 65535 {
			t.Errorf("ParseRule(%q): port %d", s, r.Port)
		}
		if again, err := ParseRule(r.String()); err != nil || again != r {
			t.Errorf("ParseRule(%q) = %v, which reads back as %v, %v", s, r, again, err)
		}
	})
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range fuzzHosts {
		f.Add(s)
		f.Add("http://" + s + "/path?q")
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(what string, tg Target, err error) {
			if err != nil {
				if strings.ContainsAny(err.Error(), "\r\n") {
					t.Errorf("%s(%q): error is not one line: %q", what, s, err)
				}
				return
			}
			if isAddressLike(tg.Host) {
				t.Errorf("%s(%q) = %v: an address passed as a name", what, s, tg)
			}
			if n, err := normalizeName(tg.Host); err != nil || n != tg.Host {
				t.Errorf("%s(%q) = %v: not normalised (%q, %v)", what, s, tg, n, err)
			}
			if tg.Port < 1 || tg.Port > 65535 {
				t.Errorf("%s(%q): port %d", what, s, tg.Port)
			}
		}
		tg, err := ParseConnect(s)
		check("ParseConnect", tg, err)
		tg, path, err := ParseAbsolute(s)
		check("ParseAbsolute", tg, err)
		if err == nil && (!strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n#")) {
			t.Errorf("ParseAbsolute(%q): origin-form %q", s, path)
		}
	})
}

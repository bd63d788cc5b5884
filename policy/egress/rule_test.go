package egress

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // the rule's String(), or "" when an error is expected
		err  string // a piece of the error
	}{
		{name: "name gets the default port", in: "api.anthropic.com", want: "api.anthropic.com:443"},
		{name: "explicit port", in: "git.example.org:22", want: "git.example.org:22"},
		{name: "wildcard", in: "*.example.org", want: "*.example.org:443"},
		{name: "wildcard with port", in: "*.example.org:8443", want: "*.example.org:8443"},
		{name: "upper case is folded", in: "API.Example.ORG", want: "api.example.org:443"},
		{name: "trailing dot is removed", in: "api.example.org.", want: "api.example.org:443"},
		{name: "trailing dot with port", in: "api.example.org.:80", want: "api.example.org:80"},
		{name: "unicode name becomes punycode", in: "bücher.example", want: "xn--bcher-kva.example:443"},
		{name: "punycode stays", in: "xn--bcher-kva.example", want: "xn--bcher-kva.example:443"},
		{name: "upper-case unicode", in: "BÜCHER.example", want: "xn--bcher-kva.example:443"},
		{name: "full-width forms are mapped", in: "ｅｘａｍｐｌｅ。org", want: "example.org:443"},
		{name: "unicode wildcard", in: "*.bücher.example", want: "*.xn--bcher-kva.example:443"},
		{name: "digits in labels", in: "123.example.org", want: "123.example.org:443"},
		{name: "hex-looking first label", in: "0x7f.example.org", want: "0x7f.example.org:443"},
		{name: "private suffix domain", in: "*.foo.github.io", want: "*.foo.github.io:443"},

		{name: "empty", in: "", err: "empty rule"},
		{name: "spaces", in: " api.example.org", err: "spaces"},
		{name: "URL", in: "https://api.example.org", err: "not a URL"},
		{name: "path", in: "api.example.org/v1", err: "without a path"},
		{name: "userinfo", in: "user@api.example.org", err: "without user@"},
		{name: "IPv4 address", in: "10.0.0.5", err: "not an IP address"},
		{name: "IPv4 address with port", in: "10.0.0.5:443", err: "egress_private"},
		{name: "IPv6 address in brackets", in: "[2001:db8::1]:443", err: "not an IP address"},
		{name: "bare IPv6 address", in: "2001:db8::1", err: "not an IP address"},
		{name: "decimal address", in: "2130706433", err: "not an IP address"},
		{name: "hex address", in: "0x7f.1", err: "not an IP address"},
		{name: "full-width digits are an address", in: "１２７.０.０.１", err: "not an IP address"},
		{name: "numeric last label", in: "example.123", err: "not an IP address"},
		{name: "port zero", in: "api.example.org:0", err: "from 1 to 65535"},
		{name: "port too big", in: "api.example.org:65536", err: "from 1 to 65535"},
		{name: "port not a number", in: "api.example.org:https", err: "from 1 to 65535"},
		{name: "empty port", in: "api.example.org:", err: "empty port"},
		{name: "signed port", in: "api.example.org:+443", err: "from 1 to 65535"},
		{name: "bare wildcard", in: "*", err: "wildcard"},
		{name: "wildcard inside", in: "api.*.example.org", err: "wildcard"},
		{name: "partial wildcard", in: "api*.example.org", err: "wildcard"},
		{name: "double wildcard", in: "*.*.example.org", err: "wildcard"},
		{name: "wildcard over a TLD", in: "*.com", err: "public suffix"},
		{name: "wildcard over a public suffix", in: "*.co.uk", err: "public suffix"},
		{name: "wildcard over a private public suffix", in: "*.github.io", err: "public suffix"},
		{name: "localhost", in: "localhost", err: "localhost"},
		{name: "under localhost", in: "db.localhost", err: "localhost"},
		{name: "wildcard under localhost", in: "*.localhost", err: "localhost"},
		{name: "single label", in: "intranet", err: "single label"},
		{name: "underscore", in: "a_b.example.org", err: `has '_'`},
		{name: "leading hyphen", in: "-a.example.org", err: "hyphen"},
		{name: "trailing hyphen", in: "a-.example.org", err: "hyphen"},
		{name: "empty label", in: "a..example.org", err: "empty label"},
		{name: "two trailing dots", in: "example.org..", err: "empty label"},
		{name: "leading dot", in: ".example.org", err: "empty label"},
		{name: "label too long", in: strings.Repeat("a", 64) + ".example.org", err: "more than 63"},
		{name: "name too long", in: strings.Repeat("a.", 127) + "org", err: "more than 253"},
		{name: "invalid punycode", in: "xn--zz.example", err: "international"},
		{name: "disallowed unicode", in: "a\u00a0b.example", err: "international"},
		{name: "line separator", in: "a\u2028b.example", err: "international"},
		{name: "percent", in: "a%2eexample.org", err: `has '%'`},
		{name: "invalid UTF-8", in: "a\xff.example.org", err: "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRule(tt.in)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("ParseRule(%q) = %v, want an error with %q", tt.in, r, tt.err)
				}
				if !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseRule(%q): %v, want it to say %q", tt.in, err, tt.err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRule(%q): %v", tt.in, err)
			}
			if got := r.String(); got != tt.want {
				t.Errorf("ParseRule(%q) = %s, want %s", tt.in, got, tt.want)
			}
			again, err := ParseRule(r.String())
			if err != nil || again != r {
				t.Errorf("ParseRule(%q) = %v, %v: does not read back", r.String(), again, err)
			}
		})
	}
}

func TestLongestNameIsAccepted(t *testing.T) {
	// 253 characters: four labels of 63 and the dots between them, minus
	// two characters.
	name := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	if len(name) != 253 {
		t.Fatalf("test name is %d long", len(name))
	}
	if _, err := ParseRule(name); err != nil {
		t.Errorf("ParseRule(253 characters): %v", err)
	}
	if _, err := ParseRule(name + "d"); err == nil {
		t.Errorf("ParseRule(254 characters) succeeded")
	}
}

// outcome classifies CheckName's answer for the table below.
func outcome(err error) string {
	if err == nil {
		return "allow"
	}
	if _, ok := errors.AsType[*NotListedError](err); ok {
		return "not listed"
	}
	if _, ok := errors.AsType[*RawAddressError](err); ok {
		return "raw address"
	}
	return "invalid"
}

func mustPolicy(t testing.TB, rules ...string) Policy {
	t.Helper()
	var p Policy
	for _, s := range rules {
		r, err := ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		p.Allow = append(p.Allow, r)
	}
	return p
}

func TestCheckName(t *testing.T) {
	p := mustPolicy(t,
		"api.anthropic.com",
		"*.example.org",
		"git.example.net:22",
		"git.example.net:443",
		"bücher.example",
		"plain.example.com:80",
	)
	tests := []struct {
		name string
		host string
		port int
		want string
	}{
		{"listed name", "api.anthropic.com", 443, "allow"},
		{"listed name, other port", "api.anthropic.com", 80, "not listed"},
		{"listed name, port 8443", "api.anthropic.com", 8443, "not listed"},
		{"case is folded", "API.ANTHROPIC.COM", 443, "allow"},
		{"trailing dot", "api.anthropic.com.", 443, "allow"},
		{"upper case with trailing dot", "API.Anthropic.Com.", 443, "allow"},
		{"two trailing dots", "api.anthropic.com..", 443, "invalid"},
		{"suffix of a listed name", "anthropic.com", 443, "not listed"},
		{"prefix trick", "api.anthropic.com.evil.com", 443, "not listed"},
		{"glued suffix", "evilapi.anthropic.com", 443, "not listed"},
		{"wildcard: one level", "a.example.org", 443, "allow"},
		{"wildcard: deeper", "a.b.c.example.org", 443, "allow"},
		{"wildcard: not the domain itself", "example.org", 443, "not listed"},
		{"wildcard: glued label", "evilexample.org", 443, "not listed"},
		{"wildcard: other port", "a.example.org", 22, "not listed"},
		{"wildcard: trailing dot", "A.Example.Org.", 443, "allow"},
		{"several ports", "git.example.net", 22, "allow"},
		{"several ports, other", "git.example.net", 80, "not listed"},
		{"port 80 rule", "plain.example.com", 80, "allow"},
		{"port 80 rule, 443", "plain.example.com", 443, "not listed"},
		{"unicode name", "bücher.example", 443, "allow"},
		{"punycode of a unicode rule", "xn--bcher-kva.example", 443, "allow"},
		{"upper-case punycode", "XN--BCHER-KVA.EXAMPLE", 443, "allow"},
		{"other unicode name", "bucher.example", 443, "not listed"},
		{"unlisted", "evil.example", 443, "not listed"},
		{"localhost", "localhost", 443, "not listed"},
		{"LOCALHOST.", "LOCALHOST.", 443, "not listed"},
		{"empty host", "", 443, "invalid"},
		{"space", "api.anthropic.com ", 443, "invalid"},
		{"percent-encoding", "api%2eanthropic.com", 443, "invalid"},
		{"userinfo", "api.anthropic.com@evil.com", 443, "invalid"},
		{"IPv4", "127.0.0.1", 443, "raw address"},
		{"IPv4 with trailing dot", "127.0.0.1.", 443, "raw address"},
		{"decimal", "2130706433", 443, "raw address"},
		{"hex and short", "0x7f.1", 443, "raw address"},
		{"upper-case hex", "0X7F.0X1", 443, "raw address"},
		{"octal", "0177.0.0.1", 443, "raw address"},
		{"short form", "127.1", 443, "raw address"},
		{"three parts", "127.0.1", 443, "raw address"},
		{"bare hex", "0x7f000001", 443, "raw address"},
		{"out of range parts", "1.2.3.999", 443, "raw address"},
		{"numeric last label", "foo.123", 443, "raw address"},
		{"hex last label", "foo.0x10", 443, "raw address"},
		{"lone 0x", "0x", 443, "raw address"},
		{"full-width digits", "１２７.０.０.１", 443, "raw address"},
		{"IPv6 loopback", "::1", 443, "raw address"},
		{"IPv4-mapped IPv6", "::ffff:127.0.0.1", 443, "raw address"},
		{"bracketed IPv6", "[::1]", 443, "invalid"},
		{"very long name", strings.Repeat("a", 300) + ".example.org", 443, "invalid"},
		{"very long wildcard match", strings.Repeat("a.", 120) + "example.org", 443, "allow"},
		{"too long wildcard match", strings.Repeat("a.", 130) + "example.org", 443, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.CheckName(tt.host, tt.port)
			if got := outcome(err); got != tt.want {
				t.Fatalf("CheckName(%q, %d) = %v (%s), want %s", tt.host, tt.port, err, got, tt.want)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("reason is not one line: %q", err)
			}
		})
	}
}

func TestCheckNameReasons(t *testing.T) {
	p := mustPolicy(t, "api.example.org", "api.example.org:8443", "git.example.org:22")
	tests := []struct {
		host string
		port int
		want string
	}{
		{"evil.example", 443, "egress: evil.example is not on this agent's list"},
		{"api.example.org", 22, "egress: api.example.org is on this agent's list for ports 443 and 8443, not port 22"},
		{"git.example.org", 443, "egress: git.example.org is on this agent's list for port 22, not port 443"},
		{"0x7f.1", 443, "egress: 0x7f.1 is a raw address (127.0.0.1), not a name on the list"},
		{"127.0.0.1", 443, "egress: 127.0.0.1 is a raw address, not a name on the list"},
		{"foo.123", 443, "egress: foo.123 looks like a raw address, not a name on the list"},
	}
	for _, tt := range tests {
		if err := p.CheckName(tt.host, tt.port); err == nil || err.Error() != tt.want {
			t.Errorf("CheckName(%q, %d) = %v, want %q", tt.host, tt.port, err, tt.want)
		}
	}
}

func TestParseInetAton(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when not an address
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0xa9.0xfe.0xa9.0xfe", "169.254.169.254"},
		{"169.16689662", "169.254.169.254"},
		{"0", "0.0.0.0"},
		{"0x", "0.0.0.0"},
		{"4294967295", "255.255.255.255"},
		{"4294967296", ""},
		{"256.0.0.1", ""},
		{"1.2.3.4.5", ""},
		{"08.0.0.1", ""},
		{"1..1", ""},
		{"1.2.65536", ""},
		{"a.b", ""},
	}
	for _, tt := range tests {
		a, ok := parseInetAton(tt.in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("parseInetAton(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

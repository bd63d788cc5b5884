package egress

import (
	"errors"
	"strings"
	"testing"
)

// targetOutcome classifies a target parser's error.
func targetOutcome(err error) string {
	if err == nil {
		return "ok"
	}
	if _, ok := errors.AsType[*RawAddressError](err); ok {
		return "raw address"
	}
	if _, ok := errors.AsType[*RequestError](err); ok {
		return "bad request"
	}
	return "other: " + err.Error()
}

func TestParseConnect(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // the target, or the error's class
	}{
		{"name and port", "api.example.org:443", "api.example.org:443"},
		{"normalised", "API.Example.ORG.:443", "api.example.org:443"},
		{"unicode", "bücher.example:443", "xn--bcher-kva.example:443"},
		{"other port", "git.example.org:22", "git.example.org:22"},
		{"no port", "api.example.org", "bad request"},
		{"empty port", "api.example.org:", "bad request"},
		{"port zero", "api.example.org:0", "bad request"},
		{"port too big", "api.example.org:99999", "bad request"},
		{"named port", "api.example.org:https", "bad request"},
		{"empty", "", "bad request"},
		{"empty host", ":443", "bad request"},
		{"userinfo", "api.example.org@evil.com:443", "bad request"},
		{"userinfo with password", "user:pw@evil.com:443", "bad request"},
		{"percent-encoded", "evil%2ecom:443", "bad request"},
		{"path", "api.example.org:443/x", "bad request"},
		{"origin-form", "/x", "bad request"},
		{"backslash", `api.example.org\@evil.com:443`, "bad request"},
		{"underscore", "a_b.example.org:443", "bad request"},
		{"IPv4", "127.0.0.1:443", "raw address"},
		{"decimal", "2130706433:443", "raw address"},
		{"hex", "0x7f.1:443", "raw address"},
		{"octal", "0177.0.0.1:443", "raw address"},
		{"short", "127.1:443", "raw address"},
		{"IPv6", "[::1]:443", "raw address"},
		{"IPv4-mapped", "[::ffff:127.0.0.1]:443", "raw address"},
		{"IPv6 with zone", "[fe80::1%25eth0]:443", "bad request"},
		{"IPv6 not an address", "[evil.com]:443", "raw address"},
		{"unbracketed IPv6", "::1:443", "raw address"},
		{"unclosed bracket", "[::1:443", "bad request"},
		{"metadata", "169.254.169.254:80", "raw address"},
		{"trailing-dot address", "127.0.0.1.:443", "raw address"},
		{"full-width address", "１２７.０.０.１:443", "raw address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := ParseConnect(tt.in)
			got := targetOutcome(err)
			if err == nil {
				got = target.String()
			}
			if got != tt.want {
				t.Errorf("ParseConnect(%q) = %s (%v), want %s", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseAbsolute(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // target and origin-form, or the error's class
	}{
		{"default port", "http://api.example.org/v1/x?y=1", "api.example.org:80 /v1/x?y=1"},
		{"explicit port", "http://api.example.org:8080/", "api.example.org:8080 /"},
		{"empty port", "http://api.example.org:/", "api.example.org:80 /"},
		{"no path", "http://api.example.org", "api.example.org:80 /"},
		{"query only", "http://api.example.org?q", "api.example.org:80 /?q"},
		{"upper-case scheme", "HTTP://API.EXAMPLE.ORG/A", "api.example.org:80 /A"},
		{"double slash path", "http://api.example.org//x", "api.example.org:80 //x"},
		{"percent-encoded path", "http://api.example.org/a%20b", "api.example.org:80 /a%20b"},
		{"trailing dot", "http://api.example.org./", "api.example.org:80 /"},
		{"https", "https://api.example.org/", "bad request"},
		{"ftp", "ftp://api.example.org/", "bad request"},
		{"no scheme", "api.example.org/", "bad request"},
		{"origin-form", "/v1", "bad request"},
		{"userinfo trick", "http://api.anthropic.com@evil.com/", "bad request"},
		{"userinfo with password", "http://u:p@evil.com/", "bad request"},
		{"backslash trick", `http://evil.com\@api.anthropic.com/`, "bad request"},
		{"fragment", "http://api.example.org/#x", "bad request"},
		{"percent-encoded host", "http://evil%2ecom/", "bad request"},
		{"empty host", "http:///x", "bad request"},
		{"space in path", "http://api.example.org/a b", "bad request"},
		{"IPv4", "http://127.0.0.1/", "raw address"},
		{"decimal", "http://2130706433/", "raw address"},
		{"hex", "http://0x7f.1/", "raw address"},
		{"octal", "http://0177.0.0.1/", "raw address"},
		{"short", "http://127.1/", "raw address"},
		{"IPv6", "http://[::1]/", "raw address"},
		{"IPv4-mapped", "http://[::ffff:127.0.0.1]/", "raw address"},
		{"metadata", "http://169.254.169.254/latest/meta-data/", "raw address"},
		{"metadata in hex", "http://0xa9fea9fe/", "raw address"},
		{"localhost", "http://localhost/", "localhost:80 /"},
		{"LOCALHOST.", "http://LOCALHOST./", "localhost:80 /"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, path, err := ParseAbsolute(tt.in)
			got := targetOutcome(err)
			if err == nil {
				got = target.String() + " " + path
			}
			if got != tt.want {
				t.Errorf("ParseAbsolute(%q) = %s (%v), want %s", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseTargetVeryLongName(t *testing.T) {
	long := strings.Repeat("a", 10000) + ".example.org"
	_, err := ParseConnect(long + ":443")
	if targetOutcome(err) != "bad request" {
		t.Fatalf("ParseConnect(10 kB name) = %v, want a bad request", err)
	}
	if len(err.Error()) > 300 {
		t.Errorf("reason is %d bytes long: a long name should be cut", len(err.Error()))
	}
}

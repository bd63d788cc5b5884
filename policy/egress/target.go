package egress

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Target is a destination a client asked for.
type Target struct {
	Host string // the name, normalised as rules are
	Port int
}

// String renders t as host:port.
func (t Target) String() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// ParseConnect reads the authority-form target of a CONNECT request,
// host:port; the port is required. The host must be a name: an IP address
// in any notation is a *RawAddressError; anything else amiss (userinfo,
// percent-encoding, a bad port or name) is a *RequestError.
func ParseConnect(authority string) (Target, error) {
	return parseAuthority(authority, 0)
}

// ParseAbsolute reads the absolute-form target of a plain-http proxy
// request, http://host[:port]/path?query (port 80 when none is given), and
// returns it with the origin-form to send the origin (/path?query). Errors
// are as ParseConnect's; other schemes, https:// included, fragments and
// userinfo are refused.
func ParseAbsolute(target string) (Target, string, error) {
	scheme, rest, ok := strings.Cut(target, "://")
	if !ok {
		return Target{}, "", &RequestError{Reason: fmt.Sprintf("%s is not an absolute http:// URL", show(target))}
	}
	switch strings.ToLower(scheme) {
	case "http":
	case "https":
		return Target{}, "", &RequestError{Reason: "https:// goes through CONNECT, not as a plain request: set HTTPS_PROXY to this proxy"}
	default:
		return Target{}, "", &RequestError{Reason: fmt.Sprintf("scheme %s is not proxied: only http:// requests and CONNECT", show(scheme))}
	}
	authority, path := rest, "/"
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	switch {
	case strings.Contains(path, "#"):
		return Target{}, "", &RequestError{Reason: fmt.Sprintf("%s has a fragment (#), which is never sent", show(target))}
	case path[0] == '?':
		path = "/" + path
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; c <= ' ' || c >= 0x7f {
			return Target{}, "", &RequestError{Reason: fmt.Sprintf("%s has %q in its path: percent-encode it", show(target), rune(c))}
		}
	}
	t, err := parseAuthority(authority, 80)
	if err != nil {
		return Target{}, "", err
	}
	return t, path, nil
}

// parseAuthority reads host[:port]; defaultPort 0 means the port is
// required.
func parseAuthority(s string, defaultPort int) (Target, error) {
	if s == "" {
		return Target{}, &RequestError{Reason: "no host in the request"}
	}
	if strings.Contains(s, "@") {
		return Target{}, &RequestError{Reason: fmt.Sprintf("%s has userinfo (user@): the host is after the @, and userinfo is not allowed", show(s))}
	}
	if strings.Contains(s, "%") {
		return Target{}, &RequestError{Reason: fmt.Sprintf("%s is percent-encoded: write the host as it is", show(s))}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || strings.IndexByte(`/?#\"<>^{|}`+"`", c) >= 0 {
			return Target{}, &RequestError{Reason: fmt.Sprintf("%s has %q, which no host has", show(s), rune(c))}
		}
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return Target{}, &RequestError{Reason: fmt.Sprintf("%s has [ without ]", show(s))}
		}
		raw := &RawAddressError{Host: s[:end+1], Port: defaultPort}
		raw.Addr, _ = netip.ParseAddr(s[1:end])
		if p, ok := strings.CutPrefix(s[end+1:], ":"); ok {
			raw.Port, _ = parsePort(p)
		}
		return Target{}, raw
	}
	if strings.Count(s, ":") > 1 {
		a, _ := netip.ParseAddr(s)
		return Target{}, &RawAddressError{Host: s, Addr: a}
	}
	host, port := s, defaultPort
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host = s[:i]
		if s[i+1:] != "" || defaultPort == 0 {
			p, err := parsePort(s[i+1:])
			if err != nil {
				return Target{}, &RequestError{Reason: fmt.Sprintf("%s: %v", show(s), err)}
			}
			port = p
		}
	}
	if port == 0 {
		return Target{}, &RequestError{Reason: fmt.Sprintf("CONNECT %s has no port: write host:port", show(s))}
	}
	name, err := normalizeName(host)
	if raw, ok := errors.AsType[*RawAddressError](err); ok {
		raw.Port = port
		return Target{}, raw
	}
	if err != nil {
		return Target{}, &RequestError{Reason: err.Error()}
	}
	return Target{Host: name, Port: port}, nil
}

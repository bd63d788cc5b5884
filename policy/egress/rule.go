package egress

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// DefaultPort is the port of a rule that names none: HTTPS.
const DefaultPort = 443

// Rule allows connections to one name, or to every name under a domain,
// on one port.
type Rule struct {
	// Name is ASCII (punycode), lower case, without a trailing dot; for a
	// wildcard, the domain the names are under.
	Name string
	// Wildcard rules, written "*.example.org", match any name under Name
	// at any depth (a.example.org, a.b.example.org) but not Name itself.
	Wildcard bool
	Port     int
}

// String renders the rule as ParseRule reads it, port included.
func (r Rule) String() string {
	name := r.Name
	if r.Wildcard {
		name = "*." + name
	}
	return name + ":" + strconv.Itoa(r.Port)
}

// matches reports whether the rule covers host, which is normalised, on
// whatever port.
func (r Rule) matches(host string) bool {
	if !r.Wildcard {
		return host == r.Name
	}
	return len(host) > len(r.Name)+1 && strings.HasSuffix(host, r.Name) && host[len(host)-len(r.Name)-1] == '.'
}

// ParseRule reads one entry of an agent's egress list: a name
// ("api.anthropic.com"), or a wildcard over a domain ("*.example.org"),
// with an optional port ("git.example.org:22"; 443 when none is given).
// Names may be written in Unicode ("bücher.example") or punycode, in any
// case, with or without a trailing dot; they are stored in one canonical
// form. IP addresses are refused: rules name hosts, and private ranges are
// opened with egress_private for names that resolve into them.
func ParseRule(s string) (Rule, error) {
	r, err := parseRule(s)
	if err != nil {
		return Rule{}, fmt.Errorf("%s: %w", strconv.Quote(s), err)
	}
	return r, nil
}

func parseRule(s string) (Rule, error) {
	switch {
	case s == "":
		return Rule{}, errors.New("empty rule: write a name such as api.example.org")
	case strings.TrimSpace(s) != s:
		return Rule{}, errors.New("spaces around the rule: remove them")
	case strings.Contains(s, "://"):
		return Rule{}, errors.New("a rule is a name with an optional port, not a URL: write api.example.org or api.example.org:8443")
	case strings.ContainsAny(s, "/?#"):
		return Rule{}, errors.New("a rule is a name with an optional port, without a path: write api.example.org or api.example.org:8443")
	case strings.Contains(s, "@"):
		return Rule{}, errors.New("a rule is a name with an optional port, without user@")
	case strings.HasPrefix(s, "[") || strings.Count(s, ":") > 1:
		return Rule{}, ipRuleError()
	}
	host, port := s, DefaultPort
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		p, err := parsePort(s[i+1:])
		if err != nil {
			return Rule{}, err
		}
		host, port = s[:i], p
	}
	r := Rule{Port: port}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		r.Wildcard, host = true, rest
	}
	if strings.Contains(host, "*") {
		return Rule{}, errors.New(`a wildcard stands only as the whole first label: "*.example.org" allows every name under example.org`)
	}
	name, err := normalizeName(host)
	if _, raw := errors.AsType[*RawAddressError](err); raw {
		return Rule{}, ipRuleError()
	}
	if err != nil {
		return Rule{}, err
	}
	r.Name = name
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return Rule{}, errors.New("localhost names the host the proxy runs on, not a destination")
	}
	if r.Wildcard {
		if ps, _ := publicsuffix.PublicSuffix(name); ps == name {
			return Rule{}, fmt.Errorf("a wildcard over %s, a top-level domain or public suffix, would allow names anyone can register: list the names you need", name)
		}
		return r, nil
	}
	if !strings.Contains(name, ".") {
		return Rule{}, fmt.Errorf("%s is a single label, which a resolver would complete with a search domain: write the full name", name)
	}
	return r, nil
}

func ipRuleError() error {
	return errors.New("a rule names a host, not an IP address: for a private range, list a name that resolves into it here and the range (a CIDR such as 10.0.0.0/8) in egress_private; public IP addresses are not supported")
}

// parsePort reads a decimal TCP port, 1 to 65535.
func parsePort(s string) (int, error) {
	if s == "" {
		return 0, errors.New("empty port after ':'")
	}
	if len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("port %s is not a number from 1 to 65535", show(s))
	}
	p, _ := strconv.Atoi(s)
	if p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %s is not a number from 1 to 65535", s)
	}
	return p, nil
}

package egress

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// NotListedError is a name, or a name and port, that no rule allows.
type NotListedError struct {
	Host  string // the name, normalised
	Port  int
	Ports []int // the ports the list does allow this name on, if any
}

func (e *NotListedError) Error() string {
	if len(e.Ports) == 0 {
		return fmt.Sprintf("egress: %s is not on this agent's list", show(e.Host))
	}
	return fmt.Sprintf("egress: %s is on this agent's list for %s, not port %d", show(e.Host), portList(e.Ports), e.Port)
}

// RawAddressError is a destination written as an IP address, in whatever
// notation, instead of a name.
type RawAddressError struct {
	Host string     // as the client or operator wrote it
	Addr netip.Addr // the address it reads as, when it is one
	Port int        // when known
}

func (e *RawAddressError) Error() string {
	written := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(e.Host, "["), "]"), ".")
	switch {
	case !e.Addr.IsValid():
		return fmt.Sprintf("egress: %s looks like a raw address, not a name on the list", show(e.Host))
	case e.Addr.String() != written:
		return fmt.Sprintf("egress: %s is a raw address (%s), not a name on the list", show(e.Host), e.Addr)
	default:
		return fmt.Sprintf("egress: %s is a raw address, not a name on the list", show(e.Host))
	}
}

// AddrError is an address in a range refused unless listed in
// egress_private.
type AddrError struct {
	Host  string // the name that resolved to Addr; "" when Addr was checked alone
	Addr  netip.Addr
	Range string // what Addr is: "a private address (RFC 1918)"
	Hint  string // what the owner may do about it, or ""
}

func (e *AddrError) Error() string {
	var b strings.Builder
	b.WriteString("egress: ")
	if e.Host != "" {
		fmt.Fprintf(&b, "%s resolves to %s, %s", show(e.Host), e.Addr, e.Range)
	} else {
		fmt.Fprintf(&b, "%s is %s", e.Addr, e.Range)
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// RequestError is a request the proxy does not serve: malformed, or not a
// CONNECT or an absolute-form http:// request.
type RequestError struct {
	Reason string
}

func (e *RequestError) Error() string { return "egress: " + e.Reason }

// Reason is an error's one-line reason without the "egress: " prefix, as
// the proxy's audit events carry it.
func Reason(err error) string {
	return strings.TrimPrefix(err.Error(), "egress: ")
}

// portList renders "port 443", "ports 443 and 8443", "ports 22, 80 and 443".
func portList(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	if len(s) == 1 {
		return "port " + s[0]
	}
	return "ports " + strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

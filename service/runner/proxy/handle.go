package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/herdctl/herdctl/policy/egress"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"
)

const (
	// headBufSize is the read buffer in front of a connection: request and
	// response heads are parsed from it, and bytes a client sends right
	// behind its CONNECT wait in it (never more than this).
	headBufSize = 4 << 10
	// busyTimeout bounds refusing a connection over MaxConns.
	busyTimeout = time.Second
)

// serve handles one client connection, from its request to its close.
func (s *server) serve(raw net.Conn) {
	start := time.Now()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	releaseClient := closeOnDone(ctx, raw)
	defer func() {
		releaseClient()
		raw.Close()
	}()

	act := newActivity()
	client := newMeteredConn(raw, s.idle, act)
	client.head = start.Add(s.idle)
	lim := &headLimiter{r: client, n: int64(s.maxHeader)}
	br := bufio.NewReaderSize(lim, headBufSize)
	req, err := http.ReadRequest(br)
	if err != nil {
		s.badHead(client, lim, err, start)
		return
	}
	lim.n = -1
	client.head = time.Time{}

	ev := Event{Phase: PhaseOpen, Method: req.Method}
	t, path, err := requestTarget(req)
	ev.Host, ev.Port = t.Host, t.Port
	if err == nil {
		err = s.policy.CheckName(t.Host, t.Port)
	}
	var origin net.Conn
	if err == nil {
		origin, ev.Addr, err = s.connect(ctx, t)
	}
	if err != nil {
		if ra, ok := errors.AsType[*egress.RawAddressError](err); ok {
			ev.Host, ev.Port = ra.Host, ra.Port
		}
		s.deny(client, ev, err, start)
		return
	}
	releaseOrigin := closeOnDone(ctx, origin)
	defer func() {
		releaseOrigin()
		origin.Close()
	}()
	ev.Decision, ev.Duration = DecisionAllow, time.Since(start)
	s.audit(ev)

	up := newMeteredConn(origin, s.idle, act)
	if req.Method == http.MethodConnect {
		err = s.tunnel(client, br, up)
	} else {
		err = s.forward(client, req, t, path, up)
	}
	ev.Phase, ev.Reason = PhaseClose, s.closeReason(err)
	ev.BytesUp, ev.BytesDown = up.out.Load(), up.in.Load()
	ev.Duration = time.Since(start)
	s.audit(ev)
}

// requestTarget is where req asks to go, and for a plain-http request the
// origin-form to send there.
func requestTarget(req *http.Request) (egress.Target, string, error) {
	if req.ProtoMajor != 1 {
		return egress.Target{}, "", &egress.RequestError{Reason: "only HTTP/1.0 and HTTP/1.1 are spoken here"}
	}
	if req.Method == http.MethodConnect {
		t, err := egress.ParseConnect(req.RequestURI)
		return t, "", err
	}
	if strings.HasPrefix(req.RequestURI, "/") || req.RequestURI == "*" {
		return egress.Target{}, "", &egress.RequestError{Reason: "this is a proxy: ask for http://host/path, or CONNECT host:port"}
	}
	return egress.ParseAbsolute(req.RequestURI)
}

// badHead answers a request that could not be read. A connection that
// sent nothing is closed silently: it asked for nothing to decide on.
func (s *server) badHead(client *meteredConn, lim *headLimiter, err error, start time.Time) {
	if client.in.Load() == 0 {
		return
	}
	var reason string
	switch {
	case lim.exhausted():
		reason = fmt.Sprintf("request head is over %d bytes", s.maxHeader)
	case errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(client.head):
		// bufio hands a line cut by the deadline on as if whole, so the
		// error may look like a malformed request: the clock says which.
		reason = fmt.Sprintf("no complete request head within %s", s.idle)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		reason = "request head cut short"
	default:
		reason = "malformed request: " + err.Error()
	}
	s.deny(client, Event{Phase: PhaseOpen}, &egress.RequestError{Reason: reason}, start)
}

// deny reports ev denied by err and answers the client with err's reason.
func (s *server) deny(client *meteredConn, ev Event, err error, start time.Time) {
	ev.Decision, ev.Reason, ev.Duration = DecisionDeny, oneLine(egress.Reason(err)), time.Since(start)
	s.audit(ev)
	// Straight to the connection, with a deadline of its own: the client
	// may have been idle until now (a head that never came).
	_ = client.Conn.SetWriteDeadline(time.Now().Add(busyTimeout))
	_ = writeRefusal(client.Conn, statusFor(err), "egress: "+ev.Reason)
	closeGently(client.Conn)
}

// refuseBusy answers a connection over MaxConns with 503, after reading
// its request for the audit (and so that closing does not reset the
// connection under the answer).
func (s *server) refuseBusy(raw net.Conn) {
	start := time.Now()
	release := closeOnDone(s.ctx, raw)
	defer func() {
		release()
		raw.Close()
	}()
	_ = raw.SetDeadline(start.Add(busyTimeout))
	ev := Event{Decision: DecisionDeny, Phase: PhaseOpen, Reason: ReasonConnLimit}
	br := bufio.NewReaderSize(&headLimiter{r: raw, n: int64(s.maxHeader)}, headBufSize)
	if req, err := http.ReadRequest(br); err == nil {
		ev.Method = req.Method
		t, _, err := requestTarget(req)
		ev.Host, ev.Port = t.Host, t.Port
		if ra, ok := errors.AsType[*egress.RawAddressError](err); ok {
			ev.Host, ev.Port = ra.Host, ra.Port
		}
	}
	ev.Duration = time.Since(start)
	s.audit(ev)
	_ = writeRefusal(raw, http.StatusServiceUnavailable,
		fmt.Sprintf("egress: %s: this agent has %d connections open; close one and retry", ReasonConnLimit, s.maxConns))
	closeGently(raw)
}

// upstreamError is a destination that was allowed but could not be
// reached.
type upstreamError struct {
	status int // 502 or 504
	reason string
}

func (e *upstreamError) Error() string { return "egress: " + e.reason }

// statusFor is the answer to a request refused with err: 403 for what
// the policy refuses, 502 or 504 for what could not be reached, 400 for
// the rest.
func statusFor(err error) int {
	if up, ok := errors.AsType[*upstreamError](err); ok {
		return up.status
	}
	_, notListed := errors.AsType[*egress.NotListedError](err)
	_, raw := errors.AsType[*egress.RawAddressError](err)
	_, addr := errors.AsType[*egress.AddrError](err)
	if notListed || raw || addr {
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// connect resolves t's name once, checks every address it resolves to,
// and dials those checked addresses in turn until one answers, within the
// proxy's dial timeout.
func (s *server) connect(ctx context.Context, t egress.Target) (net.Conn, netip.AddrPort, error) {
	ctx, cancel := context.WithTimeout(ctx, s.dialTimeout)
	defer cancel()
	return Connect(ctx, s.policy, s.resolver, s.dial, t)
}

// Connect reaches t, a name the caller has allowed, the way the proxy
// does: it resolves the name once, checks every address it resolves to
// against policy's private ranges, and dials only those checked addresses,
// in turn until one answers (nil dial: a plain TCP dial). It returns the
// address connected to, or the one refused or last tried. A refused
// address is an *egress.AddrError; ctx bounds it all. Webhooks (package
// hook/webhook) reach their destinations through it too.
func Connect(ctx context.Context, policy egress.Policy, resolver Resolver, dial DialFunc, t egress.Target) (net.Conn, netip.AddrPort, error) {
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	if dial == nil {
		dial = dialTCP
	}
	// Rooted, so that no search domain is appended: the name resolved is
	// the name checked.
	found, err := resolver.LookupNetIP(ctx, "ip", t.Host+".")
	if err != nil {
		return nil, netip.AddrPort{}, resolveError(t, err)
	}
	if len(found) == 0 {
		return nil, netip.AddrPort{}, &upstreamError{http.StatusBadGateway, t.Host + " resolves to no address"}
	}
	// Every address must pass, not just one. An answer that mixes public
	// and refused addresses is a misconfiguration or an attack (a record
	// the agent can influence, pointing inside); refusing it fails closed,
	// makes the decision a function of the whole answer rather than of
	// which address happens to come first, and tells the owner.
	addrs := make([]netip.Addr, len(found))
	for i, a := range found {
		a = a.Unmap().WithZone("")
		if err := policy.CheckAddr(a); err != nil {
			if ae, ok := errors.AsType[*egress.AddrError](err); ok {
				ae.Host = t.Host
			}
			return nil, netip.AddrPortFrom(a, uint16(t.Port)), err
		}
		addrs[i] = a
	}
	// Only the checked addresses are dialled, never the name again: the
	// answer cannot change between the check and the dial.
	var addr netip.AddrPort
	for i, a := range addrs {
		addr = netip.AddrPortFrom(a, uint16(t.Port))
		dctx, dcancel := partialDeadline(ctx, len(addrs)-i)
		var c net.Conn
		c, err = dial(dctx, "tcp", addr)
		dcancel()
		if err == nil {
			return c, addr, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, addr, dialError(t, addr, err)
}

// partialDeadline shares what is left of ctx's deadline among the
// addresses still to try, giving each at least 2 s (or what is left), as
// net.Dialer does.
func partialDeadline(ctx context.Context, remaining int) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok || remaining <= 1 {
		return context.WithCancel(ctx)
	}
	left := time.Until(dl)
	per := left / time.Duration(remaining)
	if per < 2*time.Second {
		per = min(2*time.Second, left)
	}
	return context.WithTimeout(ctx, per)
}

func resolveError(t egress.Target, err error) error {
	if dnsErr, ok := errors.AsType[*net.DNSError](err); ok && dnsErr.IsNotFound {
		return &upstreamError{http.StatusBadGateway, t.Host + " does not resolve (no such host)"}
	}
	if timedOut(err) {
		return &upstreamError{http.StatusGatewayTimeout, "resolving " + t.Host + " timed out"}
	}
	return &upstreamError{http.StatusBadGateway, fmt.Sprintf("cannot resolve %s: %v", t.Host, err)}
}

func dialError(t egress.Target, addr netip.AddrPort, err error) error {
	if timedOut(err) {
		return &upstreamError{http.StatusGatewayTimeout, fmt.Sprintf("connecting to %s (%s) timed out", t.Host, addr)}
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Err != nil {
		err = op.Err
	}
	return &upstreamError{http.StatusBadGateway, fmt.Sprintf("cannot connect to %s (%s): %v", t.Host, addr, err)}
}

func timedOut(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// closeReason says why an allowed connection ended, "" if normally.
func (s *server) closeReason(err error) string {
	switch {
	case err == nil:
		return ""
	case s.ctx.Err() != nil:
		return "proxy shutting down"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "idle timeout"
	default:
		return oneLine(egress.Reason(err))
	}
}

// writeRefusal answers with status and a one-line reason, and says the
// connection closes.
func writeRefusal(w io.Writer, status int, line string) error {
	body := line + "\n"
	_, err := fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
	return err
}

// oneLine keeps a reason on one line, whatever a client put in it.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

package proxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestConnectReachesOrigin(t *testing.T) {
	o := startOrigin(t, echo)
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", o.port))})
	r.res.set("origin.test", []string{"127.0.0.1"})

	c, br := r.connect(t, fmt.Sprintf("origin.test:%d", o.port))
	msg := []byte("hello through the tunnel")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(br, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Errorf("echo = %q, want %q", got, msg)
	}
	if q := r.res.questions(); !slices.Equal(q, []string{"origin.test."}) {
		t.Errorf("resolver was asked %q, want the rooted name once", q)
	}
	open := r.events.wait(t, "open", func(e Event) bool { return e.Phase == PhaseOpen })
	want := Event{Decision: DecisionAllow, Phase: PhaseOpen, Method: "CONNECT", Host: "origin.test", Port: o.port,
		Addr: netip.MustParseAddrPort(o.addr()), Duration: open.Duration}
	if open != want {
		t.Errorf("open event = %+v, want %+v", open, want)
	}
}

func TestConnectBytesBeforeTheAnswerAreForwarded(t *testing.T) {
	// A client may send its TLS ClientHello right behind the CONNECT,
	// before the 200: the bytes wait in the proxy and go on once the
	// tunnel is up.
	o := startOrigin(t, echo)
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", o.port))})
	r.res.set("origin.test", []string{"127.0.0.1"})
	target := fmt.Sprintf("origin.test:%d", o.port)
	c, br, resp := r.roundTrip(t, fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\nearly bytes", target, target))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT: %s", resp.Status)
	}
	got := make([]byte, len("early bytes"))
	if _, err := io.ReadFull(br, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != "early bytes" {
		t.Errorf("echo = %q", got)
	}
	c.Close()
}

func TestConnectSmuggledRequestStaysOnTheTunnel(t *testing.T) {
	// A second request inside an allowed tunnel, naming another host,
	// goes to the same origin: the tunnel is raw and never parsed.
	var got bytes.Buffer
	var mu sync.Mutex
	o := startOrigin(t, func(c net.Conn) {
		b, _ := io.ReadAll(c)
		mu.Lock()
		got.Write(b)
		mu.Unlock()
	})
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", o.port))})
	r.res.set("origin.test", []string{"127.0.0.1"})
	c, _ := r.connect(t, fmt.Sprintf("origin.test:%d", o.port))
	smuggled := "CONNECT evil.test:443 HTTP/1.1\r\n\r\nGET http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n"
	io.WriteString(c, smuggled)
	c.(*net.TCPConn).CloseWrite()
	r.events.wait(t, "close", closeEvent)
	mu.Lock()
	defer mu.Unlock()
	if got.String() != smuggled {
		t.Errorf("origin got %q, want the smuggled bytes as they were", got.String())
	}
	if n := len(r.res.questions()); n != 1 {
		t.Errorf("%d lookups, want 1: nothing inside the tunnel is acted on", n)
	}
	if o.accepts.Load() != 1 {
		t.Errorf("origin accepted %d connections", o.accepts.Load())
	}
}

func TestRefusals(t *testing.T) {
	o := startOrigin(t, echo)
	p := o.port
	r := startProxy(t, &Proxy{Policy: allow(t,
		fmt.Sprintf("origin.test:%d", p),
		fmt.Sprintf("private.test:%d", p),
		fmt.Sprintf("metadata.test:%d", p),
		fmt.Sprintf("mixed.test:%d", p),
		fmt.Sprintf("nxdomain.test:%d", p),
		fmt.Sprintf("v6private.test:%d", p),
	)})
	r.res.set("origin.test", []string{"127.0.0.1"})
	r.res.set("private.test", []string{"10.0.0.5"})
	r.res.set("metadata.test", []string{"169.254.169.254"})
	r.res.set("mixed.test", []string{"127.0.0.1", "10.0.0.5"})
	r.res.set("v6private.test", []string{"::ffff:192.168.1.1"})
	r.res.set("evil.test", []string{"127.0.0.1"})
	r.res.set("localhost", []string{"127.0.0.1"})

	connect := func(target string) string {
		return fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	}
	get := func(url string) string {
		return fmt.Sprintf("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", url)
	}
	tests := []struct {
		name    string
		request string
		status  int
		reason  string
	}{
		{"name not on the list", connect("evil.test:443"), 403, "egress: evil.test is not on this agent's list"},
		{"port not on the list", connect("origin.test:1"), 403, fmt.Sprintf("egress: origin.test is on this agent's list for port %d, not port 1", p)},
		{"private address", connect(fmt.Sprintf("private.test:%d", p)), 403,
			"egress: private.test resolves to 10.0.0.5, a private address (RFC 1918); list its range in egress_private to allow it"},
		{"IPv4-mapped private address", connect(fmt.Sprintf("v6private.test:%d", p)), 403,
			"egress: v6private.test resolves to 192.168.1.1, a private address (RFC 1918)"},
		{"metadata address", connect(fmt.Sprintf("metadata.test:%d", p)), 403,
			"egress: metadata.test resolves to 169.254.169.254, the cloud metadata address (link-local)"},
		{"one bad address among good ones", connect(fmt.Sprintf("mixed.test:%d", p)), 403, "resolves to 10.0.0.5"},
		{"name that does not resolve", connect(fmt.Sprintf("nxdomain.test:%d", p)), 502, "egress: nxdomain.test does not resolve"},
		{"raw IPv4", connect(fmt.Sprintf("127.0.0.1:%d", p)), 403, "egress: 127.0.0.1 is a raw address, not a name on the list"},
		{"raw IPv6", connect(fmt.Sprintf("[::1]:%d", p)), 403, "raw address"},
		{"raw IPv4-mapped", connect(fmt.Sprintf("[::ffff:127.0.0.1]:%d", p)), 403, "raw address"},
		{"decimal address", connect(fmt.Sprintf("2130706433:%d", p)), 403, "egress: 2130706433 is a raw address (127.0.0.1)"},
		{"hex address", connect(fmt.Sprintf("0x7f.1:%d", p)), 403, "raw address (127.0.0.1)"},
		{"octal address", connect(fmt.Sprintf("0177.0.0.1:%d", p)), 403, "raw address (127.0.0.1)"},
		{"short address", connect(fmt.Sprintf("127.1:%d", p)), 403, "raw address (127.0.0.1)"},
		{"metadata address in hex", get("http://0xa9fea9fe/latest/meta-data/"), 403, "raw address (169.254.169.254)"},
		{"raw address in a URL", get(fmt.Sprintf("http://127.0.0.1:%d/", p)), 403, "raw address"},
		{"localhost", connect(fmt.Sprintf("localhost:%d", p)), 403, "egress: localhost is not on this agent's list"},
		{"LOCALHOST.", connect(fmt.Sprintf("LOCALHOST.:%d", p)), 403, "egress: localhost is not on this agent's list"},
		{"userinfo trick", get(fmt.Sprintf("http://origin.test:%d@evil.test/", p)), 400, "userinfo"},
		{"CONNECT without a port", connect("origin.test"), 400, "no port"},
		{"CONNECT with userinfo", connect(fmt.Sprintf("origin.test:%d@evil.test:443", p)), 400, "userinfo"},
		{"percent-encoded host", get("http://evil%2etest/"), 400, "egress: "},
		{"origin-form request", "GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n", 400, "this is a proxy"},
		{"https URL", get(fmt.Sprintf("https://origin.test:%d/", p)), 400, "CONNECT"},
		{"other scheme", get("ftp://origin.test/"), 400, "not proxied"},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "egress: "},
		{"garbage", "HELLO\r\n\r\n", 400, "malformed request"},
		{"headers too large", "GET http://origin.test/ HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 40<<10) + "\r\n\r\n", 400,
			"egress: request head is over 32768 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(r.events.all())
			_, _, resp := r.roundTrip(t, tt.request)
			body := readBody(t, resp)
			if resp.StatusCode != tt.status {
				t.Errorf("status %s, want %d", resp.Status, tt.status)
			}
			if !strings.Contains(body, tt.reason) {
				t.Errorf("body %q, want it to say %q", body, tt.reason)
			}
			if strings.Count(body, "\n") != 1 || !strings.HasSuffix(body, "\n") || !strings.HasPrefix(body, "egress: ") {
				t.Errorf("body %q is not one line of reason", body)
			}
			if !resp.Close {
				t.Errorf("no Connection: close in the answer")
			}
			// The event comes before the answer.
			events := r.events.all()[before:]
			if len(events) != 1 || events[0].Decision != DecisionDeny || events[0].Phase != PhaseOpen || "egress: "+events[0].Reason+"\n" != body {
				t.Errorf("events %+v, want one deny with the reason the client got", events)
			}
		})
	}
	if n := o.accepts.Load(); n != 0 {
		t.Errorf("origin accepted %d connections, want none", n)
	}
	if n := r.dials.Load(); n != 0 {
		t.Errorf("%d dials, want none", n)
	}
	for _, e := range r.events.all() {
		if e.Decision == DecisionAllow {
			t.Errorf("allowed: %+v", e)
		}
	}
}

func TestDenyEventsNameWhatWasAsked(t *testing.T) {
	o := startOrigin(t, echo)
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("private.test:%d", o.port))})
	r.res.set("private.test", []string{"10.0.0.5"})
	_, _, resp := r.roundTrip(t, fmt.Sprintf("CONNECT Private.Test.:%d HTTP/1.1\r\n\r\n", o.port))
	resp.Body.Close()
	e := r.events.wait(t, "deny", func(e Event) bool { return e.Decision == DecisionDeny })
	want := Event{Decision: DecisionDeny, Phase: PhaseOpen, Method: "CONNECT", Host: "private.test", Port: o.port,
		Addr:   netip.MustParseAddrPort(fmt.Sprintf("10.0.0.5:%d", o.port)),
		Reason: "private.test resolves to 10.0.0.5, a private address (RFC 1918); list its range in egress_private to allow it", Duration: e.Duration}
	if e != want {
		t.Errorf("event = %+v, want %+v", e, want)
	}

	_, _, resp = r.roundTrip(t, "CONNECT 0x7f.1:443 HTTP/1.1\r\n\r\n")
	resp.Body.Close()
	e = r.events.wait(t, "raw deny", func(e Event) bool { return e.Host == "0x7f.1" })
	if e.Port != 443 || e.Decision != DecisionDeny {
		t.Errorf("event = %+v", e)
	}
}

func TestDNSRebinding(t *testing.T) {
	// The name resolves to a public address first and to loopback after.
	// The proxy must ask once, check that answer, and dial exactly the
	// address it checked.
	o := startOrigin(t, echo)
	var mu sync.Mutex
	var dialled []netip.AddrPort
	dialer := func(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error) {
		mu.Lock()
		dialled = append(dialled, addr)
		mu.Unlock()
		// Stand in for the public server with the local origin.
		var d net.Dialer
		return d.DialContext(ctx, "tcp", o.addr())
	}
	r := startProxy(t, &Proxy{Policy: mustPolicy(t, fmt.Sprintf("rebind.test:%d", o.port)), Dialer: dialer})
	r.res.set("rebind.test", []string{"93.184.215.14"}, []string{"127.0.0.1"})

	c, br := r.connect(t, fmt.Sprintf("rebind.test:%d", o.port))
	io.WriteString(c, "ping")
	got := make([]byte, 4)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "ping" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	if q := r.res.questions(); len(q) != 1 {
		t.Errorf("resolver asked %d times (%q), want once", len(q), q)
	}
	mu.Lock()
	if want := []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("93.184.215.14"), uint16(o.port))}; !slices.Equal(dialled, want) {
		t.Errorf("dialled %v, want only the checked %v", dialled, want)
	}
	mu.Unlock()

	// The next connection resolves afresh and meets the rebound answer.
	_, _, resp := r.roundTrip(t, fmt.Sprintf("CONNECT rebind.test:%d HTTP/1.1\r\n\r\n", o.port))
	if body := readBody(t, resp); resp.StatusCode != 403 || !strings.Contains(body, "resolves to 127.0.0.1, a loopback address") {
		t.Errorf("second CONNECT: %s %q, want 403 for loopback", resp.Status, body)
	}
	mu.Lock()
	if len(dialled) != 1 {
		t.Errorf("dialled %v after the rebound answer", dialled)
	}
	mu.Unlock()
}

func TestDialFallsBackToTheNextCheckedAddress(t *testing.T) {
	o := startOrigin(t, echo)
	var mu sync.Mutex
	var dialled []string
	dialer := func(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error) {
		mu.Lock()
		dialled = append(dialled, addr.Addr().String())
		mu.Unlock()
		if addr.Addr() == netip.MustParseAddr("2001:4860::1") {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("network is unreachable")}
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", o.addr())
	}
	r := startProxy(t, &Proxy{Policy: mustPolicy(t, fmt.Sprintf("dual.test:%d", o.port)), Dialer: dialer})
	r.res.set("dual.test", []string{"2001:4860::1", "8.8.8.8"})
	r.connect(t, fmt.Sprintf("dual.test:%d", o.port))
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(dialled, []string{"2001:4860::1", "8.8.8.8"}) {
		t.Errorf("dialled %v", dialled)
	}
}

func TestDialFailureIs502(t *testing.T) {
	// A port nobody listens on: listen, note the port, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("closed.test:%d", port))})
	r.res.set("closed.test", []string{"127.0.0.1"})
	_, _, resp := r.roundTrip(t, fmt.Sprintf("CONNECT closed.test:%d HTTP/1.1\r\n\r\n", port))
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "cannot connect to closed.test (127.0.0.1:") || !strings.Contains(body, "connection refused") {
		t.Errorf("%s %q, want 502 naming the refused connection", resp.Status, body)
	}
	e := r.events.wait(t, "deny", func(e Event) bool { return e.Decision == DecisionDeny })
	if e.Addr.Port() != uint16(port) {
		t.Errorf("event = %+v", e)
	}
}

func TestConnectInternationalName(t *testing.T) {
	o := startOrigin(t, echo)
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("bücher.example:%d", o.port))})
	r.res.set("xn--bcher-kva.example", []string{"127.0.0.1"})
	for _, host := range []string{"bücher.example", "BÜCHER.example.", "xn--bcher-kva.example", "XN--BCHER-KVA.EXAMPLE"} {
		c, _ := r.connect(t, fmt.Sprintf("%s:%d", host, o.port))
		c.Close()
	}
	for _, q := range r.res.questions() {
		if q != "xn--bcher-kva.example." {
			t.Errorf("resolver asked %q, want the punycode name", q)
		}
	}
}

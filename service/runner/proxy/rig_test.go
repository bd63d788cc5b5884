package proxy

import (
	"bufio"
	"context"
	"fmt"
	"github.com/herdctl/herdctl/policy/egress"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The proxy tests run on loopback only: the proxy listens on 127.0.0.1,
// origins listen on 127.0.0.1, and names resolve through fakeResolver.
// Since loopback is refused by default, the policies that should reach
// an origin list 127.0.0.0/8 in Private.

var loopback = netip.MustParsePrefix("127.0.0.0/8")

// fakeResolver answers from a map. A name may have several answers in
// turn (the last one repeats); every question is recorded.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	asked   []string
}

func newResolver() *fakeResolver {
	return &fakeResolver{answers: map[string][][]netip.Addr{}}
}

// set gives name its answers, each a list of addresses.
func (r *fakeResolver) set(name string, answers ...[]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var seq [][]netip.Addr
	for _, ans := range answers {
		var addrs []netip.Addr
		for _, a := range ans {
			addrs = append(addrs, netip.MustParseAddr(a))
		}
		seq = append(seq, addrs)
	}
	r.answers[name] = seq
}

func (r *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, host)
	name := strings.TrimSuffix(host, ".")
	seq := r.answers[name]
	if len(seq) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	if len(seq) > 1 {
		r.answers[name] = seq[1:]
	}
	return seq[0], nil
}

func (r *fakeResolver) questions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.asked...)
}

// origin is a TCP server on loopback that counts the connections it
// accepts and hands each to handle.
type origin struct {
	ln      net.Listener
	port    int
	accepts atomic.Int32
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
}

func startOrigin(t testing.TB, handle func(net.Conn)) *origin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &origin{ln: ln, port: ln.Addr().(*net.TCPAddr).Port}
	o.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			o.accepts.Add(1)
			o.mu.Lock()
			o.conns = append(o.conns, c)
			o.mu.Unlock()
			o.wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	})
	t.Cleanup(o.stop)
	return o
}

// stop closes the origin and every connection it has, and waits for them.
func (o *origin) stop() {
	o.ln.Close()
	o.mu.Lock()
	for _, c := range o.conns {
		c.Close()
	}
	o.mu.Unlock()
	o.wg.Wait()
}

func (o *origin) addr() string { return "127.0.0.1:" + strconv.Itoa(o.port) }

// echo sends back what it reads.
func echo(c net.Conn) { _, _ = io.Copy(c, c) }

// eventLog collects what the proxy tells Audit.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) all() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// wait returns the first event that matches, waiting for it a while.
func (l *eventLog) wait(t testing.TB, what string, match func(Event) bool) Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range l.all() {
			if match(e) {
				return e
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %s event; got %+v", what, l.all())
	return Event{}
}

func closeEvent(e Event) bool { return e.Phase == PhaseClose }

// rig is a proxy serving on loopback.
type rig struct {
	addr   string
	res    *fakeResolver
	events *eventLog
	dials  *atomic.Int32
	stop   func() // cancels Serve and waits for it
}

// startProxy serves p on loopback with a fake resolver; unless p has a
// Dialer, dials are real and counted.
func startProxy(t testing.TB, p *Proxy) *rig {
	t.Helper()
	r := &rig{res: newResolver(), events: &eventLog{}, dials: new(atomic.Int32)}
	if p.Resolver == nil {
		p.Resolver = r.res
	}
	if p.Dialer == nil {
		p.Dialer = func(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error) {
			r.dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, addr.String())
		}
	}
	p.Audit = r.events.add
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, ln) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("Serve did not return 5 s after its context ended")
			}
		})
	}
	t.Cleanup(r.stop)
	return r
}

// allow is a policy with the given rules that may reach loopback.
func allow(t testing.TB, rules ...string) egress.Policy {
	p := mustPolicy(t, rules...)
	p.Private = []netip.Prefix{loopback}
	return p
}

// dial opens a client connection to the proxy.
func (r *rig) dial(t testing.TB) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends a raw request to the proxy and reads the answer's head.
func (r *rig) roundTrip(t testing.TB, request string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	c := r.dial(t)
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	method, _, _ := strings.Cut(request, " ")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading the proxy's answer to %q: %v", firstLine(request), err)
	}
	_ = c.SetReadDeadline(time.Time{})
	return c, br, resp
}

// connect opens a CONNECT tunnel to target and checks it is established.
func (r *rig) connect(t testing.TB, target string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, br, resp := r.roundTrip(t, fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target))
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("CONNECT %s: %s: %s", target, resp.Status, body)
	}
	return c, br
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// readBody reads a refusal's body.
func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustPolicy(t testing.TB, rules ...string) egress.Policy {
	t.Helper()
	p, err := egress.NewPolicy(rules, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

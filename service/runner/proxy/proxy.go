package proxy

import (
	"context"
	"errors"
	"fmt"
	"github.com/herdctl/herdctl/policy/egress"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// Defaults for the Proxy's limits.
const (
	DefaultMaxConns       = 64
	DefaultIdleTimeout    = 5 * time.Minute
	DefaultDialTimeout    = 10 * time.Second
	DefaultMaxHeaderBytes = 32 << 10
)

// Resolver looks names up; net.DefaultResolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DialFunc connects to one address the Proxy has checked.
type DialFunc func(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error)

// Proxy is the egress proxy of one job: an HTTP proxy that allows CONNECT
// and absolute-form http:// requests to what Policy allows. Set its fields
// before Serve; zero fields take the defaults.
type Proxy struct {
	Policy   egress.Policy
	Resolver Resolver // net.DefaultResolver if nil
	Dialer   DialFunc // a net.Dialer if nil

	// MaxConns bounds the connections one Serve handles at once; more
	// are answered 503.
	MaxConns int
	// IdleTimeout closes a connection on which no byte has moved either
	// way for that long; a request head must arrive within it.
	IdleTimeout time.Duration
	// DialTimeout bounds resolving a name and connecting to it.
	DialTimeout time.Duration
	// MaxHeaderBytes bounds a request head, and a response head from an
	// origin.
	MaxHeaderBytes int

	// Audit, if set, is told of every attempt when it is decided and of
	// every allowed connection when it closes. It is called from the
	// goroutine serving (or, past every limit, accepting) the connection,
	// concurrently for different connections, and should return quickly.
	Audit func(Event)
}

// Event is what the proxy tells Audit.
type Event struct {
	// Decision is DecisionAllow when the client was connected to the
	// destination, DecisionDeny when the proxy refused or could not (the
	// client then got a 4xx or 5xx and no byte reached the destination).
	Decision string
	// Phase is PhaseOpen once per attempt, when it is decided, and
	// PhaseClose once more when an allowed connection closes.
	Phase  string
	Method string // CONNECT, GET, ...; "" when the request was unreadable
	Host   string // the name asked for, normalised; as written if it is an address
	Port   int
	// Addr is the address connected to, or the refused address a name
	// resolved to.
	Addr netip.AddrPort
	// Reason is why a connection was denied or, on close, why it ended
	// if not normally: "idle timeout", "proxy shutting down", an error.
	Reason string
	// BytesUp and BytesDown count the bytes sent to and received from the
	// destination, on close.
	BytesUp, BytesDown int64
	// Duration is the time from accepting the connection to the event.
	Duration time.Duration
}

// Values of Event.Decision and Event.Phase.
const (
	DecisionAllow = "allow"
	DecisionDeny  = "deny"
	PhaseOpen     = "open"
	PhaseClose    = "close"
)

// ReasonConnLimit is Event.Reason for a connection refused because
// MaxConns are open.
const ReasonConnLimit = "connection limit"

// server is one Serve call: the Proxy's settings with defaults applied,
// and what Serve owns.
type server struct {
	policy      egress.Policy
	resolver    Resolver
	dial        DialFunc
	maxConns    int
	idle        time.Duration
	dialTimeout time.Duration
	maxHeader   int
	audit       func(Event)

	ctx       context.Context // ends when Serve returns
	slots     chan struct{}   // one per connection being served
	rejecters chan struct{}   // one per connection being refused for the limit
	bufs      sync.Pool       // of *[]byte, copyBufSize long
	wg        sync.WaitGroup
}

// Serve accepts connections on ln, each served in its own goroutine,
// until ctx ends or ln fails. It then closes ln and every connection it
// still serves, and returns when all are done: nil if ctx ended, else why
// ln failed.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	s := p.newServer(ctx)
	release := closeOnDone(ctx, ln)
	defer func() {
		cancel()
		release()
		ln.Close()
		s.wg.Wait()
	}()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !transient(err) {
				return fmt.Errorf("egress: accept: %w", err)
			}
			// Out of file descriptors or memory: wait for connections to
			// end, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		s.admit(c)
	}
}

func (p *Proxy) newServer(ctx context.Context) *server {
	s := &server{
		policy:      p.Policy,
		resolver:    p.Resolver,
		dial:        p.Dialer,
		maxConns:    p.MaxConns,
		idle:        p.IdleTimeout,
		dialTimeout: p.DialTimeout,
		maxHeader:   p.MaxHeaderBytes,
		audit:       p.Audit,
		ctx:         ctx,
	}
	if s.resolver == nil {
		s.resolver = net.DefaultResolver
	}
	if s.dial == nil {
		s.dial = dialTCP
	}
	if s.maxConns <= 0 {
		s.maxConns = DefaultMaxConns
	}
	if s.idle <= 0 {
		s.idle = DefaultIdleTimeout
	}
	if s.dialTimeout <= 0 {
		s.dialTimeout = DefaultDialTimeout
	}
	if s.maxHeader <= 0 {
		s.maxHeader = DefaultMaxHeaderBytes
	}
	if s.audit == nil {
		s.audit = func(Event) {}
	}
	s.slots = make(chan struct{}, s.maxConns)
	// Refusing takes a goroutine too (to read the request and answer it),
	// so it is bounded as well; past both bounds a connection is closed
	// unanswered.
	s.rejecters = make(chan struct{}, s.maxConns)
	return s
}

func dialTCP(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error) {
	var d net.Dialer
	// addr is an address, so no name is looked up again here.
	return d.DialContext(ctx, network, addr.String())
}

// admit serves c, or refuses it when MaxConns are being served.
func (s *server) admit(c net.Conn) {
	select {
	case s.slots <- struct{}{}:
		s.wg.Go(func() {
			defer func() { <-s.slots }()
			s.serve(c)
		})
		return
	default:
	}
	select {
	case s.rejecters <- struct{}{}:
		s.wg.Go(func() {
			defer func() { <-s.rejecters }()
			s.refuseBusy(c)
		})
	default:
		c.Close()
		s.audit(Event{Decision: DecisionDeny, Phase: PhaseOpen, Reason: ReasonConnLimit})
	}
}

// transient reports whether an Accept error may pass by itself.
func transient(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// activity is when bytes last moved either way through one proxied
// connection, shared by its client and origin ends: a connection is idle
// only when neither direction has moved, so a long download with nothing
// to upload is not cut.
type activity struct {
	start time.Time
	last  atomic.Int64 // nanoseconds since start, on the monotonic clock
}

func newActivity() *activity { return &activity{start: time.Now()} }

func (a *activity) touch() { a.last.Store(int64(time.Since(a.start))) }

// deadline is when the connection becomes idle, unless bytes move first.
func (a *activity) deadline(idle time.Duration) time.Time {
	return a.start.Add(time.Duration(a.last.Load()) + idle)
}

// meteredConn is one end of a proxied connection. Every Read and Write
// waits at most until the connection has been idle for idle, and counts
// its bytes.
type meteredConn struct {
	net.Conn
	idle time.Duration
	act  *activity
	// head, when set, is a hard deadline for reads, idle or not: the
	// whole request head must arrive by then. Set and cleared by the
	// connection's handler before any other goroutine uses the conn.
	head time.Time
	// halt makes a blocked or later Read fail at once (see interrupt).
	halt atomic.Bool

	in, out atomic.Int64

	// The deadline last set; a later one is armed only when it has moved
	// by more than idle/16, since setting a deadline costs a timer update
	// and a stale, earlier one only costs a wake-up and a retry.
	readArmed, writeArmed time.Time
}

func newMeteredConn(c net.Conn, idle time.Duration, act *activity) *meteredConn {
	return &meteredConn{Conn: c, idle: idle, act: act}
}

func (c *meteredConn) Read(p []byte) (int, error) {
	for {
		dl := c.act.deadline(c.idle)
		if !c.head.IsZero() && c.head.Before(dl) {
			dl = c.head
		}
		if rearm(c.readArmed, dl, c.idle) {
			if err := c.Conn.SetReadDeadline(dl); err != nil {
				return 0, err
			}
			c.readArmed = dl
		}
		// After arming, so that an interrupt racing with it wins: either
		// halt is seen here or its deadline replaces the one just set.
		if c.halt.Load() {
			return 0, errHalted
		}
		n, err := c.Conn.Read(p)
		if n > 0 {
			c.act.touch()
			c.in.Add(int64(n))
		}
		if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) && c.retry() {
			c.readArmed = time.Time{}
			continue
		}
		if n == 0 && c.halt.Load() {
			return 0, errHalted
		}
		return n, err
	}
}

func (c *meteredConn) Write(p []byte) (int, error) {
	total := 0
	for {
		dl := c.act.deadline(c.idle)
		if rearm(c.writeArmed, dl, c.idle) {
			if err := c.Conn.SetWriteDeadline(dl); err != nil {
				return total, err
			}
			c.writeArmed = dl
		}
		n, err := c.Conn.Write(p[total:])
		if n > 0 {
			c.act.touch()
			c.out.Add(int64(n))
			total += n
		}
		if total < len(p) && errors.Is(err, os.ErrDeadlineExceeded) && c.retry() {
			c.writeArmed = time.Time{}
			continue
		}
		return total, err
	}
}

// rearm reports whether to replace the deadline armed with dl: when dl is
// earlier, or later by more than idle/16. A deadline left a little early
// costs one wake-up, after which the caller clears armed and re-arms.
func rearm(armed, dl time.Time, idle time.Duration) bool {
	return dl.Before(armed) || dl.Sub(armed) > idle/16
}

// retry reports whether an operation that hit its deadline should go on
// waiting: bytes moved the other way since it was armed.
func (c *meteredConn) retry() bool {
	return c.head.IsZero() && !c.halt.Load() && time.Now().Before(c.act.deadline(c.idle))
}

// interrupt makes a Read blocked in another goroutine, and every later
// one, return errHalted.
func (c *meteredConn) interrupt() {
	c.halt.Store(true)
	_ = c.Conn.SetReadDeadline(time.Now())
}

var errHalted = errors.New("egress: read stopped")

// headLimiter bounds the bytes read through it while n >= 0: a request
// or response head must fit in MaxHeaderBytes; n < 0 lifts the bound for
// the body.
type headLimiter struct {
	r io.Reader
	n int64
}

func (l *headLimiter) Read(p []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(p)
	}
	if l.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// exhausted reports whether the bound was reached.
func (l *headLimiter) exhausted() bool { return l.n == 0 }

// closeOnDone closes c when ctx is done. The returned release stops that
// and, if the close has begun, waits for it: no goroutine outlives the
// caller.
func closeOnDone(ctx context.Context, c io.Closer) (release func()) {
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.Close()
		close(done)
	})
	return func() {
		if !stop() {
			<-done
		}
	}
}

// closeWrite sends FIN if the connection can half-close.
func closeWrite(c net.Conn) {
	if hc, ok := c.(interface{ CloseWrite() error }); ok {
		_ = hc.CloseWrite()
	}
}

// Lingering close: how long and how much to read from a client after the
// last response, so that closing with unread bytes (a body, a pipelined
// request) does not reset the connection before the client has read the
// response.
const (
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 64 << 10
)

// closeGently half-closes c, reads what the client still sends for a
// little while, and closes it.
func closeGently(c net.Conn) {
	closeWrite(c)
	_ = c.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, c, lingerBytes)
	c.Close()
}

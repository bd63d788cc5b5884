package proxy

import (
	"bufio"
	"io"
	"sync"
)

// copyBufSize is the one buffer each direction of a connection copies
// through: nothing is buffered beyond it.
const copyBufSize = 32 << 10

// tunnel answers a CONNECT and then copies bytes both ways, raw, until
// both directions have ended or one fails. The proxy never parses what
// goes through: whatever the client sends (TLS, a second HTTP request on
// a kept-alive connection) reaches the one address and port that was
// checked, and nothing else. A direction that ends cleanly is passed on
// as a half-close, so the other may finish.
func (s *server) tunnel(client *meteredConn, br *bufio.Reader, origin *meteredConn) error {
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return err
	}
	var first firstError
	fail := func(err error) {
		first.set(err)
		client.Conn.Close()
		origin.Conn.Close()
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := s.buffer()
		defer s.bufs.Put(buf)
		// br first hands over what the client sent right behind its
		// CONNECT (a TLS ClientHello, say), then reads the client.
		if err := pump(origin, br, *buf); err != nil {
			fail(err)
		} else {
			closeWrite(origin.Conn)
		}
	})
	buf := s.buffer()
	defer s.bufs.Put(buf)
	if err := pump(client, origin, *buf); err != nil {
		fail(err)
	} else {
		closeWrite(client.Conn)
	}
	wg.Wait()
	return first.get()
}

// pump copies src to dst through buf until src ends (nil) or either
// fails.
func pump(dst io.Writer, src io.Reader, buf []byte) error {
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// buffer is a copy buffer of copyBufSize from the server's pool; Put it
// back when done.
func (s *server) buffer() *[]byte {
	if b, ok := s.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, copyBufSize)
	return &b
}

// firstError keeps the first of the errors that end a connection: the
// cause, not the "use of closed connection" it provokes in the other
// direction.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

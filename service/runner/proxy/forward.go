package proxy

import (
	"bufio"
	"fmt"
	"github.com/herdctl/herdctl/policy/egress"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
)

// forward sends one plain-http request to the origin and relays its
// response. A client connection carries one request only (the proxy tells
// both sides Connection: close): a next request, to whatever host, comes
// on a new connection and is checked from scratch. That is simpler than
// re-checking kept-alive requests, and as safe.
//
// The request goes in origin-form, with Host set to the checked name (the
// client's Host header is ignored, as RFC 9112 says for absolute-form, so
// it cannot name another site on the same server) and hop-by-hop headers
// dropped. Bodies are re-framed as read: no smuggling by ambiguous framing,
// since what the origin is sent is exactly what the proxy read. Trailers
// are dropped and Upgrade is not carried: use CONNECT for WebSockets.
func (s *server) forward(client *meteredConn, req *http.Request, t egress.Target, path string, origin *meteredConn) error {
	var first firstError
	var wg sync.WaitGroup
	// The request is written while the response is read: an origin may
	// answer 100 Continue before the client sends its body, or answer
	// early and never read the rest.
	wg.Go(func() {
		buf := s.buffer()
		defer s.bufs.Put(buf)
		if err := writeRequest(bufio.NewWriterSize(origin, writeBufSize), req, t, path, *buf); err != nil {
			first.set(err)
			origin.Conn.Close() // no response can follow; wake the reader
		}
	})
	err := s.relayResponse(client, origin, req, t)
	// The response is over: stop sending the request, whether writing a
	// body the origin no longer reads or waiting for one from the client.
	origin.Conn.Close()
	client.interrupt()
	wg.Wait()
	closeGently(client.Conn)
	if err == nil {
		return nil
	}
	first.set(err)
	return first.get()
}

// writeBufSize holds one chunk of copyBufSize with its framing.
const writeBufSize = copyBufSize + 64

// writeRequest sends req to the origin as origin-form path.
func writeRequest(w *bufio.Writer, req *http.Request, t egress.Target, path string, buf []byte) error {
	h := req.Header.Clone()
	_, hadLength := h["Content-Length"]
	stripHopByHop(h)
	h.Del("Host")
	h.Del("Content-Length")
	host := t.Host
	if t.Port != 80 {
		host = t.String()
	}
	fmt.Fprintf(w, "%s %s HTTP/1.1\r\nHost: %s\r\n", req.Method, path, host)
	if err := h.Write(w); err != nil {
		return err
	}
	chunked := isChunked(req.TransferEncoding)
	switch {
	case chunked:
		w.WriteString("Transfer-Encoding: chunked\r\n")
	case req.ContentLength > 0 || hadLength:
		fmt.Fprintf(w, "Content-Length: %d\r\n", max(req.ContentLength, 0))
	}
	w.WriteString("Connection: close\r\n\r\n")
	if !chunked && req.ContentLength <= 0 {
		return w.Flush()
	}
	return copyBody(w, req.Body, chunked, buf)
}

// relayResponse reads the origin's response and writes it to the client:
// informational (1xx) responses as they come, then the final one. Until
// the client has been sent anything, a failure is answered with 502.
func (s *server) relayResponse(client, origin *meteredConn, req *http.Request, t egress.Target) error {
	lim := &headLimiter{r: origin}
	obr := bufio.NewReaderSize(lim, headBufSize)
	cbw := bufio.NewWriterSize(client, writeBufSize)
	started := false
	fail := func(reason string) error {
		err := &upstreamError{http.StatusBadGateway, reason}
		if !started {
			_ = writeRefusal(client, err.status, err.Error())
		}
		return err
	}
	for {
		lim.n = int64(s.maxHeader)
		resp, err := http.ReadResponse(obr, req)
		switch {
		case err != nil && lim.exhausted():
			return fail(fmt.Sprintf("the response head from %s is over %d bytes", t.Host, s.maxHeader))
		case err != nil:
			return fail(fmt.Sprintf("no valid response from %s: %v", t.Host, err))
		case resp.StatusCode == http.StatusSwitchingProtocols:
			return fail(fmt.Sprintf("%s switched protocols, which a plain-http request cannot carry: use CONNECT", t.Host))
		case resp.StatusCode < 200:
			if !req.ProtoAtLeast(1, 1) {
				continue // HTTP/1.0 clients get no 1xx
			}
			started = true
			if err := writeHead(cbw, resp, ""); err != nil {
				return err
			}
			if err := cbw.Flush(); err != nil {
				return err
			}
			continue
		}
		lim.n = -1
		started = true
		buf := s.buffer()
		defer s.bufs.Put(buf)
		return writeResponse(cbw, resp, req, *buf)
	}
}

// writeResponse sends the final response, its body re-framed.
func writeResponse(w *bufio.Writer, resp *http.Response, req *http.Request, buf []byte) error {
	bodyless := req.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified
	chunked := false
	var framing string
	switch {
	case bodyless:
		// The length a HEAD or 304 would have had, as the origin said.
		if cl := resp.Header.Get("Content-Length"); cl != "" && resp.StatusCode != http.StatusNoContent && strings.Trim(cl, "0123456789") == "" {
			framing = "Content-Length: " + cl + "\r\n"
		}
	case isChunked(resp.TransferEncoding) && req.ProtoAtLeast(1, 1):
		chunked = true
		framing = "Transfer-Encoding: chunked\r\n"
	case resp.ContentLength >= 0:
		framing = "Content-Length: " + strconv.FormatInt(resp.ContentLength, 10) + "\r\n"
	default:
		// Until the origin closes, and so until the client connection
		// closes: it does anyway.
	}
	if err := writeHead(w, resp, framing); err != nil {
		return err
	}
	if bodyless {
		return w.Flush()
	}
	return copyBody(w, resp.Body, chunked, buf)
}

// writeHead writes a response's status line and headers, hop-by-hop and
// framing headers replaced by framing and Connection: close (not for 1xx).
func writeHead(w *bufio.Writer, resp *http.Response, framing string) error {
	text := strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)+" ")
	if text == "" || text == resp.Status {
		text = http.StatusText(resp.StatusCode)
	}
	fmt.Fprintf(w, "HTTP/1.1 %03d %s\r\n", resp.StatusCode, oneLine(text))
	h := resp.Header.Clone()
	stripHopByHop(h)
	h.Del("Content-Length")
	if err := h.Write(w); err != nil {
		return err
	}
	w.WriteString(framing)
	if resp.StatusCode >= 200 {
		w.WriteString("Connection: close\r\n")
	}
	_, err := w.WriteString("\r\n")
	return err
}

// copyBody sends a decoded body from src through w, chunked if asked,
// reading into buf. It flushes before each read, so what has arrived goes
// on before the proxy waits for more: the head before the body (a client
// waiting for 100 Continue, a server streaming events), each piece as it
// comes.
func copyBody(w *bufio.Writer, src io.Reader, chunked bool, buf []byte) error {
	for {
		if err := w.Flush(); err != nil {
			return err
		}
		n, err := src.Read(buf)
		if n > 0 {
			if chunked {
				fmt.Fprintf(w, "%x\r\n", n)
			}
			w.Write(buf[:n])
			if chunked {
				w.WriteString("\r\n")
			}
		}
		if err == io.EOF {
			if chunked {
				w.WriteString("0\r\n\r\n")
			}
			return w.Flush()
		}
		if err != nil {
			return err
		}
	}
}

// hopByHop are the headers that concern one connection, not the message
// (RFC 9110 7.6.1), with the proxy ones; Trailer goes as trailers do.
var hopByHop = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// stripHopByHop removes the hop-by-hop headers from h, and those its
// Connection header names.
func stripHopByHop(h http.Header) {
	for _, v := range h.Values("Connection") {
		for f := range strings.SplitSeq(v, ",") {
			if f = textproto.TrimString(f); f != "" {
				h.Del(f)
			}
		}
	}
	for _, k := range hopByHop {
		h.Del(k)
	}
}

func isChunked(te []string) bool {
	return len(te) > 0 && te[0] == "chunked"
}

package proxy

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawHead reads a request or response head as sent: its first line and
// its header lines in order.
func rawHead(br *bufio.Reader) (string, []string, error) {
	tp := textproto.NewReader(br)
	first, err := tp.ReadLine()
	if err != nil {
		return "", nil, err
	}
	var lines []string
	for {
		l, err := tp.ReadLine()
		if err != nil {
			return "", nil, err
		}
		if l == "" {
			return first, lines, nil
		}
		lines = append(lines, l)
	}
}

func TestAbsoluteFormIsForwarded(t *testing.T) {
	type seen struct {
		line    string
		headers []string
		body    string
	}
	got := make(chan seen, 1)
	o := startOrigin(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		line, headers, err := rawHead(br)
		if err != nil {
			t.Error(err)
			return
		}
		body := make([]byte, 5)
		io.ReadFull(br, body)
		got <- seen{line, headers, string(body)}
		io.WriteString(c, "HTTP/1.1 201 Made\r\n"+
			"Content-Length: 5\r\n"+
			"Connection: keep-alive, X-Hop\r\n"+
			"X-Hop: connection-scoped\r\n"+
			"Keep-Alive: timeout=5\r\n"+
			"Proxy-Authenticate: Basic\r\n"+
			"X-End: kept\r\n"+
			"\r\nhello")
	})
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", o.port))})
	r.res.set("origin.test", []string{"127.0.0.1"})

	c, br, resp := r.roundTrip(t, fmt.Sprintf("POST http://Origin.Test.:%d/v1/x?y=1&z=%%20 HTTP/1.1\r\n"+
		"Host: evil.test\r\n"+
		"Proxy-Connection: keep-alive\r\n"+
		"Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"+
		"Connection: keep-alive, X-Secret\r\n"+
		"X-Secret: for the proxy only\r\n"+
		"Keep-Alive: 300\r\n"+
		"Upgrade: websocket\r\n"+
		"TE: trailers\r\n"+
		"User-Agent: agent/1\r\n"+
		"X-Keep: yes\r\n"+
		"Content-Length: 5\r\n"+
		"\r\nabcde", o.port))
	defer c.Close()

	s := <-got
	if want := "POST /v1/x?y=1&z=%20 HTTP/1.1"; s.line != want {
		t.Errorf("origin got request line %q, want %q", s.line, want)
	}
	wantHeaders := []string{
		fmt.Sprintf("Host: origin.test:%d", o.port),
		"User-Agent: agent/1",
		"X-Keep: yes",
		"Content-Length: 5",
		"Connection: close",
	}
	if strings.Join(s.headers, "\n") != strings.Join(wantHeaders, "\n") {
		t.Errorf("origin got headers\n%s\nwant\n%s", strings.Join(s.headers, "\n"), strings.Join(wantHeaders, "\n"))
	}
	if s.body != "abcde" {
		t.Errorf("origin got body %q", s.body)
	}

	if resp.StatusCode != 201 || resp.Status != "201 Made" {
		t.Errorf("client got %q", resp.Status)
	}
	for _, h := range []string{"X-Hop", "Keep-Alive", "Proxy-Authenticate"} {
		if v := resp.Header.Get(h); v != "" {
			t.Errorf("client got hop-by-hop %s: %s", h, v)
		}
	}
	if resp.Header.Get("X-End") != "kept" || !resp.Close {
		t.Errorf("client got headers %v, close %v", resp.Header, resp.Close)
	}
	if body := readBody(t, resp); body != "hello" {
		t.Errorf("client got body %q", body)
	}
	// One request per connection: the proxy closes after the response.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after the response: %d bytes, %v; want EOF", n, err)
	}
	e := r.events.wait(t, "close", closeEvent)
	if e.Method != "POST" || e.Host != "origin.test" || e.Port != o.port || e.BytesDown == 0 || e.BytesUp == 0 || e.Reason != "" {
		t.Errorf("close event = %+v", e)
	}
}

func TestPlainHTTPSecondRequestIsNotForwarded(t *testing.T) {
	// A request pipelined behind the first, to another host, never leaves
	// the proxy: a connection carries one request.
	var mu sync.Mutex
	var lines []string
	o := startOrigin(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, _, err := rawHead(br)
			if err != nil {
				return
			}
			mu.Lock()
			lines = append(lines, line)
			mu.Unlock()
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", o.port))})
	r.res.set("origin.test", []string{"127.0.0.1"})
	r.res.set("evil.test", []string{"127.0.0.1"})
	c, br, resp := r.roundTrip(t, fmt.Sprintf("GET http://origin.test:%d/one HTTP/1.1\r\n\r\n"+
		"GET http://evil.test:%d/two HTTP/1.1\r\nHost: evil.test\r\n\r\n", o.port, o.port))
	defer c.Close()
	readBody(t, resp)
	if _, err := http.ReadResponse(br, nil); err == nil {
		t.Errorf("a second response came on the same connection")
	}
	r.events.wait(t, "close", closeEvent)
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 1 || lines[0] != "GET /one HTTP/1.1" {
		t.Errorf("origin got %q", lines)
	}
	if q := r.res.questions(); len(q) != 1 {
		t.Errorf("resolver asked %q", q)
	}
}

// TestHTTPClient runs Go's own HTTP client through the proxy against
// net/http servers, plain and TLS: an oracle for what real clients send
// and expect.
func TestHTTPClient(t *testing.T) {
	release := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/stream":
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: first\n\n")
			w.(http.Flusher).Flush()
			<-release
			io.WriteString(w, "data: second\n\n")
			return
		case "/big":
			w.Write([]byte(strings.Repeat("x", 1<<20)))
			return
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("X-Method", req.Method)
		w.Header().Set("X-Host", req.Host)
		w.Header().Set("X-Length", fmt.Sprint(req.ContentLength))
		w.Header().Set("X-Proxy-Auth", req.Header.Get("Proxy-Authorization"))
		fmt.Fprintf(w, "%s %s %q", req.Method, req.URL.RequestURI(), body)
	})
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(handler)
	t.Cleanup(secure.Close)
	plainPort := plain.Listener.Addr().(*net.TCPAddr).Port
	securePort := secure.Listener.Addr().(*net.TCPAddr).Port

	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", plainPort), fmt.Sprintf("origin.test:%d", securePort))})
	r.res.set("origin.test", []string{"127.0.0.1"})
	proxyURL := &url.URL{Scheme: "http", Host: r.addr, User: url.UserPassword("agent", "secret")}
	roots := x509.NewCertPool()
	roots.AddCert(secure.Certificate())
	transport := &http.Transport{
		Proxy: http.ProxyURL(proxyURL),
		// httptest's certificate is for example.com.
		TLSClientConfig:       &tls.Config{RootCAs: roots, ServerName: "example.com"},
		ExpectContinueTimeout: 10 * time.Second, // so a missing 100 Continue shows as a hang
	}
	t.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	plainURL := fmt.Sprintf("http://origin.test:%d", plainPort)
	secureURL := fmt.Sprintf("https://origin.test:%d", securePort)

	do := func(t *testing.T, req *http.Request) (*http.Response, string) {
		t.Helper()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	newReq := func(t *testing.T, method, url string, body io.Reader) *http.Request {
		req, err := http.NewRequest(method, url, body)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}

	t.Run("GET", func(t *testing.T) {
		resp, body := do(t, newReq(t, "GET", plainURL+"/a/b?c=d", nil))
		if resp.StatusCode != 200 || body != `GET /a/b?c=d ""` {
			t.Errorf("%s %q", resp.Status, body)
		}
		if h := resp.Header.Get("X-Host"); h != fmt.Sprintf("origin.test:%d", plainPort) {
			t.Errorf("origin saw Host %q", h)
		}
		if a := resp.Header.Get("X-Proxy-Auth"); a != "" {
			t.Errorf("origin saw Proxy-Authorization %q", a)
		}
	})
	t.Run("POST with a length", func(t *testing.T) {
		resp, body := do(t, newReq(t, "POST", plainURL+"/p", strings.NewReader("payload")))
		if body != `POST /p "payload"` || resp.Header.Get("X-Length") != "7" {
			t.Errorf("%q %v", body, resp.Header)
		}
	})
	t.Run("POST chunked", func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() {
			io.WriteString(pw, "part one, ")
			io.WriteString(pw, "part two")
			pw.Close()
		}()
		resp, body := do(t, newReq(t, "POST", plainURL+"/c", pr))
		if body != `POST /c "part one, part two"` || resp.Header.Get("X-Length") != "-1" {
			t.Errorf("%q %v", body, resp.Header)
		}
	})
	t.Run("Expect 100-continue", func(t *testing.T) {
		req := newReq(t, "PUT", plainURL+"/e", strings.NewReader("after continue"))
		req.Header.Set("Expect", "100-continue")
		start := time.Now()
		_, body := do(t, req)
		if body != `PUT /e "after continue"` {
			t.Errorf("%q", body)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %s: 100 Continue did not come through", d)
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		direct, err := http.Head(plain.URL + "/a")
		if err != nil {
			t.Fatal(err)
		}
		direct.Body.Close()
		resp, body := do(t, newReq(t, "HEAD", plainURL+"/a", nil))
		if resp.StatusCode != 200 || body != "" || resp.ContentLength != direct.ContentLength || resp.ContentLength <= 0 {
			t.Errorf("%s %q length %d, want length %d as without the proxy", resp.Status, body, resp.ContentLength, direct.ContentLength)
		}
	})
	t.Run("large body", func(t *testing.T) {
		_, body := do(t, newReq(t, "GET", plainURL+"/big", nil))
		if len(body) != 1<<20 {
			t.Errorf("got %d bytes", len(body))
		}
	})
	t.Run("streaming", func(t *testing.T) {
		resp, err := client.Get(plainURL + "/stream")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		// The first event must arrive while the origin still holds the
		// second: nothing waits for a buffer to fill.
		line, err := br.ReadString('\n')
		if err != nil || line != "data: first\n" {
			t.Fatalf("%q, %v", line, err)
		}
		close(release)
		rest, _ := io.ReadAll(br)
		if string(rest) != "\ndata: second\n\n" {
			t.Errorf("rest %q", rest)
		}
	})
	t.Run("HTTPS through CONNECT", func(t *testing.T) {
		resp, body := do(t, newReq(t, "POST", secureURL+"/s", strings.NewReader("secret")))
		if resp.StatusCode != 200 || body != `POST /s "secret"` {
			t.Errorf("%s %q", resp.Status, body)
		}
		if resp.TLS == nil {
			t.Errorf("not TLS")
		}
	})
	t.Run("refused name", func(t *testing.T) {
		resp, body := do(t, newReq(t, "GET", "http://evil.test/", nil))
		if resp.StatusCode != 403 || body != "egress: evil.test is not on this agent's list\n" {
			t.Errorf("%s %q", resp.Status, body)
		}
		_, err := client.Get("https://evil.test/")
		if err == nil || !strings.Contains(err.Error(), "Forbidden") {
			t.Errorf("https to a refused name: %v", err)
		}
	})
}

func TestResponseHeadTooLarge(t *testing.T) {
	o := startOrigin(t, func(c net.Conn) {
		rawHead(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("a", 64<<10)+"\r\n\r\n")
	})
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", o.port))})
	r.res.set("origin.test", []string{"127.0.0.1"})
	_, _, resp := r.roundTrip(t, fmt.Sprintf("GET http://origin.test:%d/ HTTP/1.1\r\n\r\n", o.port))
	body := readBody(t, resp)
	if resp.StatusCode != 502 || !strings.Contains(body, "response head from origin.test is over 32768 bytes") {
		t.Errorf("%s %q", resp.Status, body)
	}
}

func TestHTTP10ClientGetsNoChunks(t *testing.T) {
	o := startOrigin(t, func(c net.Conn) {
		rawHead(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
	})
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", o.port))})
	r.res.set("origin.test", []string{"127.0.0.1"})
	c := r.dial(t)
	fmt.Fprintf(c, "GET http://origin.test:%d/ HTTP/1.0\r\n\r\n", o.port)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	all, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(all); strings.Contains(s, "chunked") || !strings.HasSuffix(s, "\r\n\r\nabcde") {
		t.Errorf("HTTP/1.0 client got %q", s)
	}
}

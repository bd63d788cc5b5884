package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
)

// The benchmarks compare a connection through the proxy with a direct one
// to the same loopback origin: the ratio is the proxy's cost.

var connectRequest = &http.Request{Method: http.MethodConnect}

// BenchmarkConnectFirstByte is a new connection through the proxy up to
// the first byte echoed back: CONNECT, resolve (fake), check, dial, 200,
// one byte each way.
func BenchmarkConnectFirstByte(b *testing.B) {
	o := startOrigin(b, echo)
	r := startProxy(b, &Proxy{Policy: allow(b, fmt.Sprintf("origin.test:%d", o.port)), MaxConns: 4096})
	r.res.set("origin.test", []string{"127.0.0.1"})
	request := fmt.Sprintf("CONNECT origin.test:%d HTTP/1.1\r\nHost: origin.test:%d\r\n\r\n", o.port, o.port)
	one := make([]byte, 1)
	for b.Loop() {
		c, err := net.Dial("tcp", r.addr)
		if err != nil {
			b.Fatal(err)
		}
		io.WriteString(c, request)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, connectRequest)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("CONNECT: %v %v", resp, err)
		}
		c.Write([]byte{'x'})
		if _, err := io.ReadFull(br, one); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkDirectFirstByte is BenchmarkConnectFirstByte without the proxy.
func BenchmarkDirectFirstByte(b *testing.B) {
	o := startOrigin(b, echo)
	one := make([]byte, 1)
	for b.Loop() {
		c, err := net.Dial("tcp", o.addr())
		if err != nil {
			b.Fatal(err)
		}
		c.Write([]byte{'x'})
		if _, err := io.ReadFull(c, one); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

const benchChunk = 64 << 10

// source writes to c until it fails.
func source(c net.Conn) {
	buf := make([]byte, benchChunk)
	for {
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// BenchmarkConnectThroughput downloads through one CONNECT tunnel.
func BenchmarkConnectThroughput(b *testing.B) {
	o := startOrigin(b, source)
	r := startProxy(b, &Proxy{Policy: allow(b, fmt.Sprintf("origin.test:%d", o.port))})
	r.res.set("origin.test", []string{"127.0.0.1"})
	_, br := r.connect(b, fmt.Sprintf("origin.test:%d", o.port))
	benchRead(b, br)
}

// BenchmarkDirectThroughput is BenchmarkConnectThroughput without the
// proxy.
func BenchmarkDirectThroughput(b *testing.B) {
	o := startOrigin(b, source)
	c, err := net.Dial("tcp", o.addr())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	benchRead(b, c)
}

func benchRead(b *testing.B, r io.Reader) {
	buf := make([]byte, benchChunk)
	b.SetBytes(benchChunk)
	for b.Loop() {
		if _, err := io.ReadFull(r, buf); err != nil {
			b.Fatal(err)
		}
	}
}

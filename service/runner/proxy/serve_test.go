package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestConnectionLimit(t *testing.T) {
	o := startOrigin(t, echo)
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", o.port)), MaxConns: 2})
	r.res.set("origin.test", []string{"127.0.0.1"})
	target := fmt.Sprintf("origin.test:%d", o.port)

	first, _ := r.connect(t, target)
	r.connect(t, target)
	_, _, resp := r.roundTrip(t, fmt.Sprintf("CONNECT %s HTTP/1.1\r\n\r\n", target))
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "egress: connection limit: this agent has 2 connections open") {
		t.Errorf("third connection: %s %q, want 503", resp.Status, body)
	}
	e := r.events.wait(t, "deny", func(e Event) bool { return e.Decision == DecisionDeny })
	if e.Reason != ReasonConnLimit || e.Host != "origin.test" || e.Port != o.port || e.Method != "CONNECT" {
		t.Errorf("event = %+v", e)
	}
	// The origin counts a connection when its Accept returns, which may
	// come a moment after the proxy's dial did.
	for wait := time.Now().Add(5 * time.Second); o.accepts.Load() < 2 && time.Now().Before(wait); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := o.accepts.Load(); n != 2 {
		t.Errorf("origin accepted %d, want 2", n)
	}

	// A slot frees when a connection ends.
	first.Close()
	r.events.wait(t, "close", closeEvent)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _, resp := r.roundTrip(t, fmt.Sprintf("CONNECT %s HTTP/1.1\r\n\r\n", target))
		c.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot after a connection closed: %s", resp.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIdleTimeoutClosesTunnel(t *testing.T) {
	o := startOrigin(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	const idle = 300 * time.Millisecond
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", o.port)), IdleTimeout: idle})
	r.res.set("origin.test", []string{"127.0.0.1"})
	c, br := r.connect(t, fmt.Sprintf("origin.test:%d", o.port))
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := br.Read(make([]byte, 1))
	if n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read %d, %v: want the proxy to close the idle tunnel", n, err)
	}
	if d := time.Since(start); d < idle-50*time.Millisecond || d > 3*time.Second {
		t.Errorf("closed after %s, want about %s", d, idle)
	}
	e := r.events.wait(t, "close", closeEvent)
	if e.Reason != "idle timeout" {
		t.Errorf("close reason %q, want idle timeout", e.Reason)
	}
}

func TestIdleTimeoutCountsBothDirections(t *testing.T) {
	// The origin streams a byte every 40 ms for far longer than the idle
	// timeout while the client sends nothing: the tunnel is not idle.
	const idle = 400 * time.Millisecond
	o := startOrigin(t, func(c net.Conn) {
		for range 20 {
			if _, err := c.Write([]byte{'.'}); err != nil {
				return
			}
			time.Sleep(idle / 10)
		}
	})
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", o.port)), IdleTimeout: idle})
	r.res.set("origin.test", []string{"127.0.0.1"})
	c, br := r.connect(t, fmt.Sprintf("origin.test:%d", o.port))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(br)
	if err != nil || len(got) != 20 {
		t.Errorf("read %d bytes, %v; want all 20", len(got), err)
	}
	c.Close()
	e := r.events.wait(t, "close", closeEvent)
	if e.Reason != "" || e.BytesDown != 20 {
		t.Errorf("close event %+v", e)
	}
}

func TestRequestHeadTimeout(t *testing.T) {
	const idle = 200 * time.Millisecond
	r := startProxy(t, &Proxy{Policy: allow(t), IdleTimeout: idle})
	c := r.dial(t)
	// A client that drips its head, a byte at a time, inside the idle
	// timeout, is still cut when the whole head takes longer.
	start := time.Now()
	go func() {
		for _, b := range []byte("CONNECT origin.test:443 HTTP/1.1\r\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(idle / 4)
		}
	}()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	all, _ := io.ReadAll(c)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("closed after %s", d)
	}
	if !strings.Contains(string(all), "400 Bad Request") || !strings.Contains(string(all), "no complete request head within 200ms") {
		t.Errorf("got %q", all)
	}
}

func TestStalledRequestHeadIsAnswered(t *testing.T) {
	// Part of a head, then nothing: the answer still gets out.
	const idle = 200 * time.Millisecond
	r := startProxy(t, &Proxy{Policy: allow(t), IdleTimeout: idle})
	c := r.dial(t)
	io.WriteString(c, "CONNECT origin.te")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	all, _ := io.ReadAll(c)
	if !strings.Contains(string(all), "400 Bad Request") || !strings.Contains(string(all), "no complete request head within 200ms") {
		t.Errorf("got %q", all)
	}
	e := r.events.wait(t, "deny", func(e Event) bool { return e.Decision == DecisionDeny })
	if e.Reason != "no complete request head within 200ms" {
		t.Errorf("event %+v", e)
	}
}

func TestSilentConnectionIsNotAudited(t *testing.T) {
	r := startProxy(t, &Proxy{Policy: allow(t), IdleTimeout: 100 * time.Millisecond})
	c := r.dial(t)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if all, err := io.ReadAll(c); err != nil || len(all) != 0 {
		t.Errorf("got %q, %v; want a silent close", all, err)
	}
	c2 := r.dial(t)
	c2.Close()
	time.Sleep(50 * time.Millisecond)
	if ev := r.events.all(); len(ev) != 0 {
		t.Errorf("events %+v for connections that asked nothing", ev)
	}
}

func TestAuditCountsBytes(t *testing.T) {
	up := bytes.Repeat([]byte("u"), 100_000)
	down := bytes.Repeat([]byte("d"), 250_000)
	o := startOrigin(t, func(c net.Conn) {
		if _, err := io.ReadFull(c, make([]byte, len(up))); err != nil {
			return
		}
		c.Write(down)
	})
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", o.port))})
	r.res.set("origin.test", []string{"127.0.0.1"})
	c, br := r.connect(t, fmt.Sprintf("origin.test:%d", o.port))
	c.Write(up)
	got, err := io.ReadAll(br)
	if err != nil || len(got) != len(down) {
		t.Fatalf("read %d, %v", len(got), err)
	}
	c.Close()
	e := r.events.wait(t, "close", closeEvent)
	if e.Decision != DecisionAllow || e.BytesUp != int64(len(up)) || e.BytesDown != int64(len(down)) || e.Duration <= 0 {
		t.Errorf("close event %+v, want %d up and %d down", e, len(up), len(down))
	}
	var opens, closes int
	for _, e := range r.events.all() {
		switch e.Phase {
		case PhaseOpen:
			opens++
		case PhaseClose:
			closes++
		}
	}
	if opens != 1 || closes != 1 {
		t.Errorf("%d open and %d close events, want one each", opens, closes)
	}
}

func TestServeStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	o := startOrigin(t, echo)
	r := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", o.port))})
	r.res.set("origin.test", []string{"127.0.0.1"})
	target := fmt.Sprintf("origin.test:%d", o.port)

	var clients []net.Conn
	for range 5 {
		c, _ := r.connect(t, target)
		clients = append(clients, c)
	}
	// Mid-request, and mid-response of a plain request.
	half := r.dial(t)
	io.WriteString(half, "CONNECT origin.test")
	slow := startOrigin(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	r2 := startProxy(t, &Proxy{Policy: allow(t, fmt.Sprintf("origin.test:%d", slow.port))})
	r2.res.set("origin.test", []string{"127.0.0.1"})
	waiting := r2.dial(t)
	fmt.Fprintf(waiting, "GET http://origin.test:%d/ HTTP/1.1\r\n\r\n", slow.port)
	r2.events.wait(t, "open", func(e Event) bool { return e.Phase == PhaseOpen })

	stopped := make(chan struct{})
	go func() {
		r.stop()
		r2.stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	for i, c := range append(clients, half, waiting) {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(c); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
			t.Errorf("client %d: %v, want the proxy to have closed it", i, err)
		}
		c.Close()
	}
	for _, e := range r.events.all() {
		if e.Phase == PhaseClose && e.Reason != "proxy shutting down" {
			t.Errorf("close event %+v", e)
		}
	}
	o.stop()
	slow.stop()

	// Every goroutine the proxies started is gone.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServeReturnsWhenTheListenerFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	p := &Proxy{}
	go func() { done <- p.Serve(context.Background(), ln) }()
	ln.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Serve = %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herdctl/herdctl/hook"
)

// fakeDNS answers every name with the listener's loopback address.
type fakeDNS map[string]netip.Addr

func (f fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[strings.TrimSuffix(host, ".")]; ok {
		return []netip.Addr{a}, nil
	}
	return nil, &netError{}
}

type netError struct{}

func (*netError) Error() string { return "no such host" }

func instant(context.Context, time.Duration) error { return nil }

// receiver is a webhook endpoint on loopback that answers with codes in
// turn (the last one again and again) and keeps what it got.
type receiver struct {
	*httptest.Server
	codes    []int
	hits     atomic.Int32
	body     atomic.Value
	sig      atomic.Value
	hold     time.Duration
	redirect string
}

func newReceiver(t *testing.T, codes ...int) *receiver {
	r := &receiver{codes: codes}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := int(r.hits.Add(1))
		b, _ := io.ReadAll(req.Body)
		r.body.Store(string(b))
		r.sig.Store(req.Header.Get(hook.SignatureHeader))
		if r.hold > 0 {
			time.Sleep(r.hold)
		}
		code := r.codes[min(n, len(r.codes))-1]
		if code/100 == 3 {
			w.Header().Set("Location", r.redirect)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) port() string {
	u, _ := url.Parse(r.URL)
	return u.Port()
}

func TestSend(t *testing.T) {
	body := []byte(`{"version":1,"job":{"result":"agent text"}}` + "\n")
	for _, c := range []struct {
		name     string
		codes    []int
		host     string // the URL's host; the listener is on 127.0.0.1
		private  []string
		secret   string
		retries  int
		hold     time.Duration
		ok       bool
		attempts int
		status   int
		reason   string
	}{
		{name: "signed POST to a listed loopback address", codes: []int{204}, host: "127.0.0.1", private: []string{"127.0.0.0/8"}, secret: "s3cret", retries: 3, ok: true, attempts: 1, status: 204},
		{name: "a name that resolves into a listed range", codes: []int{200}, host: "hooks.test", private: []string{"127.0.0.1/32"}, retries: 3, ok: true, attempts: 1, status: 200},
		{name: "a loopback address not listed", codes: []int{200}, host: "127.0.0.1", retries: 3, attempts: 1, reason: "127.0.0.1 is a loopback address (the host the proxy runs on); list its range in this hook's egress_private"},
		{name: "a name that resolves to loopback, not listed", codes: []int{200}, host: "hooks.test", private: []string{"10.0.0.0/8"}, retries: 3, attempts: 1, reason: "hooks.test resolves to 127.0.0.1, a loopback address"},
		{name: "a name that does not resolve", codes: []int{200}, host: "nowhere.test", retries: 1, attempts: 2, reason: "cannot resolve nowhere.test"},
		{name: "5xx is tried again", codes: []int{503, 502, 200}, host: "127.0.0.1", private: []string{"127.0.0.0/8"}, retries: 3, ok: true, attempts: 3, status: 200},
		{name: "retries are bounded", codes: []int{500}, host: "127.0.0.1", private: []string{"127.0.0.0/8"}, retries: 2, attempts: 3, status: 500, reason: "HTTP 500 Internal Server Error (after 3 attempts)"},
		{name: "4xx is not tried again", codes: []int{404}, host: "127.0.0.1", private: []string{"127.0.0.0/8"}, retries: 3, attempts: 1, status: 404, reason: "HTTP 404 Not Found"},
		{name: "429 is tried again", codes: []int{429, 200}, host: "127.0.0.1", private: []string{"127.0.0.0/8"}, retries: 3, ok: true, attempts: 2, status: 200},
		{name: "a redirect is not followed", codes: []int{302}, host: "127.0.0.1", private: []string{"127.0.0.0/8"}, retries: 3, attempts: 1, status: 302, reason: "redirects are not followed"},
		{name: "an attempt times out", codes: []int{200}, host: "127.0.0.1", private: []string{"127.0.0.0/8"}, retries: 1, hold: 1500 * time.Millisecond, attempts: 2, reason: "timed out (after 2 attempts)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newReceiver(t, c.codes...)
			r.hold = c.hold
			r.redirect = r.URL + "/elsewhere"
			s := &Sender{Resolver: fakeDNS{"hooks.test": netip.MustParseAddr("127.0.0.1")}, Sleep: instant}
			spec := hook.Spec{URL: "http://" + c.host + ":" + r.port() + "/hook?token=tok-in-query", Secret: c.secret,
				Timeout: time.Second, Retries: c.retries, EgressPrivate: c.private}
			res := s.Send(context.Background(), spec, body)
			if res.OK != c.ok || res.Attempts != c.attempts || res.HTTPStatus != c.status || !strings.Contains(res.Reason, c.reason) {
				t.Errorf("got %+v\nwant ok=%v attempts=%d status=%d reason ~ %q", res, c.ok, c.attempts, c.status, c.reason)
			}
			if strings.Contains(res.Reason, "tok-in-query") {
				t.Errorf("the reason quotes the URL: %s", res.Reason)
			}
			refused := strings.Contains(res.Reason, "egress: ")
			if got := int(r.hits.Load()); refused && got != 0 {
				t.Errorf("a refused webhook reached the listener %d times", got)
			}
			if !c.ok {
				return
			}
			if got, _ := r.body.Load().(string); got != string(body) {
				t.Errorf("body %q, want %q", got, body)
			}
			sig, _ := r.sig.Load().(string)
			switch {
			case c.secret == "" && sig != "":
				t.Errorf("signed without a secret: %q", sig)
			case c.secret != "" && !hook.Verify([]byte(c.secret), body, sig):
				t.Errorf("signature %q does not verify", sig)
			}
		})
	}
}

func TestSendStopsWithItsContext(t *testing.T) {
	r := newReceiver(t, 500)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sender{Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
	res := s.Send(ctx, hook.Spec{URL: r.URL, Timeout: time.Second, Retries: 5, EgressPrivate: []string{"127.0.0.0/8"}}, []byte("{}"))
	if res.OK || res.Attempts != 1 || !strings.Contains(res.Reason, "stopped before the next attempt") {
		t.Errorf("got %+v", res)
	}
}

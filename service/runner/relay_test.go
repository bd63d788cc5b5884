package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

// upstreamAPI stands in for the API behind the relay: each answer a
// stream whose message_start reports 100k input tokens of Opus 4.1 ($1.50
// at list price), and a record of what reached it.
type upstreamAPI struct {
	mu    sync.Mutex
	paths []string
	keys  []string
	srv   *http.Server
	url   *url.URL
	// pause, when set, holds each answer after message_start.
	pause time.Duration
}

func startUpstream(t *testing.T) *upstreamAPI {
	t.Helper()
	u := &upstreamAPI{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.url, _ = url.Parse("http://" + ln.Addr().String())
	u.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		u.mu.Lock()
		u.paths = append(u.paths, r.Method+" "+r.URL.EscapedPath())
		u.keys = append(u.keys, r.Header.Get("X-Api-Key"))
		pause := u.pause
		u.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		id := fmt.Sprintf("msg_%d", time.Now().UnixNano())
		fmt.Fprintf(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":%q,\"model\":\"claude-opus-4-1\",\"usage\":{\"input_tokens\":100000,\"output_tokens\":1}}}\n\n", id)
		w.(http.Flusher).Flush()
		time.Sleep(pause)
		fmt.Fprint(w, "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":10}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	})}
	go u.srv.Serve(ln)
	t.Cleanup(func() { u.srv.Close() })
	return u
}

func (u *upstreamAPI) seen() ([]string, []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.paths...), append([]string(nil), u.keys...)
}

// relayRig serves a relay to upstream on loopback, with a budget.
// relayRig serves a relay to up on loopback. The journal it returns
// stops the relay and flushes its entries (they are written from a
// queue) before it returns what was written.
func relayRig(t *testing.T, up *upstreamAPI, b policy.Budget) (*apiRelay, string, func() string) {
	t.Helper()
	out := &bytes.Buffer{}
	r := &Runner{Layout: state.Layout{StateDir: t.TempDir()}, Sink: &JSONSink{W: out}}
	a := &policy.Agent{Name: "spender", Budget: b, LogBudget: 1 << 20, LogBudgetDaily: 1 << 30, FleetLogBudgetDaily: 1 << 30}
	log := r.newJobLog(a, map[string]string{state.FieldAgent: a.Name})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl := serveRelay(context.Background(), &relayConfig{upstream: up.url, header: "X-Api-Key", value: "sk-real"}, ln, log, &apiRelay{budget: r.relayBudget(a)}, nil)
	var once sync.Once
	journal := func() string {
		once.Do(func() { rl.stop(); log.close(&state.Job{}) })
		return out.String()
	}
	t.Cleanup(func() { journal() })
	return rl, "http://" + ln.Addr().String(), journal
}

func post(t *testing.T, base, path string, h map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(`{"model":"x"}`))
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRelayOnlyMessages: the relay carries the key to POST /v1/messages
// and count_tokens only, whatever the path's spelling; the rest of the
// API the key opens (batches, files, models, admin) is refused.
func TestRelayOnlyMessages(t *testing.T) {
	up := startUpstream(t)
	_, base, _ := relayRig(t, up, policy.Budget{})
	for _, p := range []string{"/v1/messages/batches", "/v1/files", "/v1/organizations/api_keys", "/v1/messages/../../admin",
		"/v1/%6Dessages", "/%2e%2e/v1/messages", "//v1/messages", "/v1/messages/"} {
		if code, _ := post(t, base, p, nil); code != http.StatusForbidden {
			t.Errorf("POST %s: %d, want 403", p, code)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/messages", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /v1/messages: %v %v", resp, err)
	}
	if code, _ := post(t, base, "/v1/messages", map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"}); code != http.StatusForbidden {
		t.Errorf("an upgrade: %d", code)
	}
	if code, body := post(t, base, "/v1/messages?beta=true", map[string]string{"X-Api-Key": "placeholder"}); code != http.StatusOK {
		t.Errorf("POST /v1/messages: %d %s", code, body)
	}
	if code, _ := post(t, base, "/v1/messages/count_tokens", nil); code != http.StatusOK {
		t.Errorf("count_tokens: %d", code)
	}
	paths, keys := up.seen()
	if strings.Join(paths, ",") != "POST /v1/messages,POST /v1/messages/count_tokens" || keys[0] != "sk-real" {
		t.Errorf("reached the API: %v with %v", paths, keys)
	}
}

// TestRelayBudget: once the day's budget is spent, counting what the
// relay metered, no request goes out, however the agent calls the relay;
// a stream the agent hangs up on is counted from its start.
func TestRelayBudget(t *testing.T) {
	up := startUpstream(t)
	_, base, journal := relayRig(t, up, policy.Budget{PerDay: 2, Action: policy.BudgetSkip})
	var codes []int
	for range 5 {
		code, _ := post(t, base, "/v1/messages", nil)
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[200 200 429 429 429]" {
		t.Errorf("answers %v, want two ($3 metered) then refusals", codes)
	}
	if paths, _ := up.seen(); len(paths) != 2 {
		t.Errorf("%d requests reached the API, want 2", len(paths))
	}
	if out := journal(); !strings.Contains(out, "max_cost_usd_per_day") {
		t.Errorf("the refusal is not in the journal:\n%s", out)
	}

	// Hanging up after message_start: the input is counted.
	up2 := startUpstream(t)
	up2.pause = 2 * time.Second
	rl2, base2, _ := relayRig(t, up2, policy.Budget{})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base2+"/v1/messages", strings.NewReader("{}"))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	time.Sleep(100 * time.Millisecond)
	var rec state.Job
	rl2.record(&rec)
	if rec.APICostUSD < 1.5 {
		t.Errorf("a stream cut after message_start was metered $%v, want its input's $1.50", rec.APICostUSD)
	}
}

// TestRelayConnections: the container can hold at most relayMaxConns
// connections to the relay; the next waits until one closes, costing the
// runner nothing meanwhile.
func TestRelayConnections(t *testing.T) {
	up := startUpstream(t)
	_, base, _ := relayRig(t, up, policy.Budget{})
	addr := strings.TrimPrefix(base, "http://")
	var held []net.Conn
	for range relayMaxConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// Make sure each is accepted: a request line on each, no end.
	for _, c := range held {
		fmt.Fprint(c, "POST /v1/messages HTTP/1.1\r\nHost: x\r\n")
	}
	one := func() error {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(700 * time.Millisecond))
		fmt.Fprint(c, "POST /v1/messages/batches HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
		_, err = c.Read(make([]byte, 64))
		return err
	}
	if err := one(); err == nil {
		t.Errorf("connection %d was served while %d were held", relayMaxConns+1, relayMaxConns)
	}
	held[0].Close()
	if err := one(); err != nil {
		t.Errorf("a connection after one closed: %v", err)
	}
	for _, c := range held[1:] {
		c.Close()
	}
}

// TestPodRelayBudgetPerPod (the red team's K6): the export's egress relay
// serves every job of an agent, each a pod of its own address. It meters
// each pod as one host's relay meters its job: once a pod has spent
// max_cost_usd_per_job no request of it goes out, whoever in the pod
// calls the relay; another pod is not held by that pod's spending; and
// a pod's address seen again after the agent's longest job is a new job.
// Before, the egress relay metered nothing.
func TestPodRelayBudgetPerPod(t *testing.T) {
	up := startUpstream(t)
	out := &bytes.Buffer{}
	r := &Runner{Layout: state.Layout{StateDir: t.TempDir()}, Sink: &JSONSink{W: out}}
	a := &policy.Agent{Name: "scout", LogBudget: 1 << 20, LogBudgetDaily: 1 << 30, FleetLogBudgetDaily: 1 << 30}
	log := r.newJobLog(a, map[string]string{state.FieldAgent: a.Name})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	pm := &podMeters{window: time.Hour, now: func() time.Time { return now }}
	rl := serveRelay(context.Background(), &relayConfig{upstream: up.url, header: "X-Api-Key", value: "sk-real"}, ln, log,
		&apiRelay{budget: jobBudget(2), meterOf: pm.meter}, nil)
	t.Cleanup(func() { rl.stop(); log.close(&state.Job{}) })
	// A pod is a source address: 127.0.0.1 and 127.0.0.2 are two pods.
	from := func(src string) int {
		c := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}).DialContext}}
		resp, err := c.Post("http://"+ln.Addr().String()+"/v1/messages", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	var codes []int
	for range 3 {
		codes = append(codes, from("127.0.0.1"))
	}
	codes = append(codes, from("127.0.0.2"))
	now = now.Add(2 * time.Hour)
	codes = append(codes, from("127.0.0.1"))
	if fmt.Sprint(codes) != "[200 200 429 200 200]" {
		t.Errorf("answers %v, want the first pod held after $3 of its $2, the second pod and the first's address a job later served", codes)
	}
}

package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/herdctl/herdctl/internal/netns"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/runner/proxy"
	"github.com/herdctl/herdctl/state"
)

// The API relay keeps a Claude agent's credential out of its container:
// the container gets a placeholder and ANTHROPIC_BASE_URL pointing at the
// relay, which the runner serves on a listener inside the job's network
// namespace (as the egress proxy), and which forwards each request to the
// real API with the real credential. Where it forwards is the fleet's
// (ANTHROPIC_BASE_URL in the env file, else the Anthropic API), never the
// agent's: the agent's egress list does not apply to it, so an address on
// the LAN or this host works as the operator wrote it.
// Nothing in the container, and no process of the agent's uid on the host,
// holds the key. It also meters what the API reports each response used:
// a count of the job's cost that the agent cannot forge.

// relayConfig is where the relay sends requests, with which credential.
type relayConfig struct {
	upstream      *url.URL
	header, value string // X-Api-Key, or Authorization: Bearer
}

// relayFor takes the credential and the API's address out of a's
// environment (opened: secrets expanded) and returns the agent its
// container sees, with a placeholder and the relay's address instead.
func relayFor(a *policy.Agent) (*policy.Agent, *relayConfig, error) {
	env := a.Container.Env
	base := env[policy.EnvBaseURL]
	if base == "" {
		base = policy.DefaultAPIURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, nil, fmt.Errorf("%s %q is not an http(s) URL: fix it in the env file", policy.EnvBaseURL, base)
	}
	cfg := &relayConfig{upstream: u}
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	delete(out, policy.EnvAPIKey)
	delete(out, policy.EnvOAuthToken)
	if policy.RelayCredential(a.Container) == policy.EnvAPIKey {
		cfg.header, cfg.value = "X-Api-Key", env[policy.EnvAPIKey]
		out[policy.EnvAPIKey] = policy.RelayPlaceholder
	} else {
		cfg.header, cfg.value = "Authorization", "Bearer "+env[policy.EnvOAuthToken]
		out[policy.EnvOAuthToken] = policy.RelayPlaceholder
	}
	out[policy.EnvBaseURL] = "http://127.0.0.1:" + strconv.Itoa(policy.RelayPort)
	c := *a
	c.Container.Env = out
	return &c, cfg, nil
}

// Bounds of the relay.
const (
	// relayMaxConns bounds the connections the container holds open to
	// the relay, relayMaxConcurrent the requests in flight on them.
	relayMaxConns      = 32
	relayMaxConcurrent = 16
	relayHeaderTimeout = 30 * time.Second
	relayIdleTimeout   = 60 * time.Second
	// relayReadTimeout bounds reading a request, its body included.
	relayReadTimeout = 5 * time.Minute
	// relayResponseTimeout bounds the wait for the API's response
	// headers (a streamed answer starts at once; a long one that is not
	// streamed may take minutes).
	relayResponseTimeout = 15 * time.Minute
	// relayMeterLine bounds a line of a streamed answer the meter reads
	// (a longer one passes, unread); relayMaxWhole bounds an answer that
	// is not streamed, which the relay reads whole before passing it on,
	// so that it is metered even if the container hangs up.
	relayMeterLine = 1 << 20
	relayMaxWhole  = 32 << 20
)

// relayPaths are the only requests the relay forwards, by method and path
// (as sent, escapes included): what Claude Code asks of the Messages API.
// The credential opens more of the API (batches, files, admin); none of
// it is the agent's.
var relayPaths = map[string]bool{
	"POST /v1/messages":              true,
	"POST /v1/messages/count_tokens": true,
}

// apiRelay is one job's relay.
type apiRelay struct {
	stop func()
	// message is told each API message's id and cost as the API
	// reported its usage (for budget_action = "cancel").
	message func(id string, usd float64)
	// budget refuses a request when the agent's day, or the job, has
	// spent its budget, counting what the relay has metered.
	budget func(metered float64) error

	// meterOf is the meter a request counts against: nil for one job's
	// relay (own), a pod's for the export's egress relay (podMeters).
	meterOf func(*http.Request) *relayMeter

	mu       sync.Mutex // guards the counts and every meter's
	requests int
	failed   int
	own      relayMeter
}

// relayMeter is what one job's API messages cost, as the API reported
// their usage.
type relayMeter struct {
	costs map[string]float64 // by message id
	cost  float64
	since time.Time // the first request (podMeters)
}

// meterFor is the meter req counts against.
func (rl *apiRelay) meterFor(req *http.Request) *relayMeter {
	if rl.meterOf != nil {
		return rl.meterOf(req)
	}
	return &rl.own
}

// startRelay serves cfg on a listener opened inside the network namespace
// of the task whose host pid is pid.
func (r *Runner) startRelay(ctx context.Context, cfg *relayConfig, pid uint32, log *jobLog, message func(string, float64), budget func(float64) error, stop func(error)) (*apiRelay, error) {
	ln, err := netns.Listen(fmt.Sprintf("/proc/%d/ns/net", pid), "127.0.0.1:"+strconv.Itoa(policy.RelayPort))
	if err != nil {
		return nil, fmt.Errorf("opening the API relay in the job's network namespace: %w", err)
	}
	return serveRelay(ctx, cfg, ln, log, &apiRelay{message: message, budget: budget}, stop), nil
}

// serveRelay serves cfg on ln as rl (its message, budget and meterOf
// set) until the relay is stopped or ctx is done.
func serveRelay(ctx context.Context, cfg *relayConfig, ln net.Listener, log *jobLog, rl *apiRelay, stop func(error)) *apiRelay {
	host := cfg.upstream.Hostname()
	port := 443
	if cfg.upstream.Scheme == "http" {
		port = 80
	}
	if p := cfg.upstream.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	refuse := func(w http.ResponseWriter, req *http.Request, status int, why string) {
		log.entry(fmt.Sprintf("api relay refused %s %s: %s", req.Method, req.URL.EscapedPath(), why), PriWarning,
			with(log.fields, state.FieldEvent, "api_relay", FieldEgress, proxy.DecisionDeny, FieldEgressHost, host,
				FieldEgressPort, strconv.Itoa(port), "HERDCTL_API_STATUS", strconv.Itoa(status)), 0)
		// As the API words its errors, and final: Claude Code must not
		// retry what the relay will refuse again.
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Should-Retry", "false")
		w.WriteHeader(status)
		kind := "permission_error"
		if status == http.StatusTooManyRequests {
			kind = "rate_limit_error"
		}
		json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]string{"type": kind, "message": "herdctl: " + why}})
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		// Only ever the fleet's API, whatever the request says.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, net.JoinHostPort(host, strconv.Itoa(port)))
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: relayResponseTimeout,
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(cfg.upstream)
			// Whatever the container sent as a credential is dropped.
			pr.Out.Header.Del("X-Api-Key")
			pr.Out.Header.Del("Authorization")
			pr.Out.Header.Set(cfg.header, cfg.value)
		},
		Transport:     transport,
		FlushInterval: -1,
		ModifyResponse: func(resp *http.Response) error {
			rl.count(resp.StatusCode >= 400)
			req := resp.Request
			log.entry(fmt.Sprintf("api relay: %s %s%s: %s", req.Method, cfg.upstream.Host, req.URL.Path, resp.Status), PriInfo,
				with(log.fields, state.FieldEvent, "api_relay", FieldEgress, proxy.DecisionAllow, FieldEgressHost, host,
					FieldEgressPort, strconv.Itoa(port), "HERDCTL_API_STATUS", strconv.Itoa(resp.StatusCode)), 0)
			meter := rl.meterFor(req)
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				resp.Body = &meteredBody{ReadCloser: resp.Body, sse: true, relay: rl, meter: meter}
				return nil
			}
			// A whole answer is read here, from the API, whether or not
			// the container waits for it.
			body, err := io.ReadAll(io.LimitReader(resp.Body, relayMaxWhole+1))
			resp.Body.Close()
			if err != nil {
				return err
			}
			if len(body) > relayMaxWhole {
				return fmt.Errorf("the API's answer is over %d bytes", relayMaxWhole)
			}
			(&meteredBody{relay: rl, meter: meter, whole: *bytes.NewBuffer(body)}).end()
			resp.Body = io.NopCloser(bytes.NewReader(body))
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			rl.count(true)
			msg := fmt.Sprintf("API relay: %s %s: %v", req.Method, req.URL.Path, err)
			log.entry(msg, PriWarning, with(log.fields, state.FieldEvent, "api_relay"), 0)
			http.Error(w, "herdctl: "+msg, http.StatusBadGateway)
		},
	}
	slots := make(chan struct{}, relayMaxConcurrent)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if !relayPaths[req.Method+" "+req.URL.EscapedPath()] || req.Header.Get("Upgrade") != "" {
				refuse(w, req, http.StatusForbidden, "the relay forwards only POST /v1/messages and /v1/messages/count_tokens")
				return
			}
			if err := rl.overBudget(rl.meterFor(req)); err != nil {
				refuse(w, req, http.StatusTooManyRequests, err.Error())
				// The job is over its budget: it stops, with the reason.
				if stop != nil {
					stop(err)
				}
				return
			}
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			default:
				refuse(w, req, http.StatusServiceUnavailable, fmt.Sprintf("the API relay is busy: at most %d requests at once", relayMaxConcurrent))
				return
			}
			rp.ServeHTTP(w, req)
		}),
		ReadHeaderTimeout: relayHeaderTimeout,
		ReadTimeout:       relayReadTimeout,
		IdleTimeout:       relayIdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
	done := make(chan struct{})
	go func() {
		srv.Serve(limitListener(ln, relayMaxConns))
		close(done)
	}()
	stopCtx := context.AfterFunc(ctx, func() { srv.Close() })
	rl.stop = func() {
		stopCtx()
		srv.Close()
		<-done
		transport.CloseIdleConnections()
	}
	return rl
}

func (rl *apiRelay) count(failed bool) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	rl.requests++
	if failed {
		rl.failed++
	}
}

// overBudget says why no more request counted against m may go out, or
// nil.
func (rl *apiRelay) overBudget(m *relayMeter) error {
	if rl.budget == nil {
		return nil
	}
	rl.mu.Lock()
	metered := m.cost
	rl.mu.Unlock()
	return rl.budget(metered)
}

// metered counts a message's usage, as the API reported it so far: a
// message is counted as soon as it starts (the input is billed then),
// and its count replaced as its output grows.
func (rl *apiRelay) metered(m *relayMeter, id, model string, u Usage) {
	usd := estimateCost(model, u)
	rl.mu.Lock()
	if m.costs == nil {
		m.costs = map[string]float64{}
	}
	if id == "" {
		id = fmt.Sprintf("unnamed-%d", len(m.costs))
	}
	m.cost += usd - m.costs[id]
	m.costs[id] = usd
	rl.mu.Unlock()
	if rl.message != nil {
		rl.message(id, usd)
	}
}

// record puts what the relay saw into the job's record.
func (rl *apiRelay) record(rec *state.Job) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	rec.APIRequests, rec.APICostUSD = rl.requests, rl.own.cost
}

// limitListener accepts at most n connections at once: the next waits,
// in the kernel's backlog, for one to close.
func limitListener(ln net.Listener, n int) net.Listener {
	return &limitedListener{Listener: ln, slots: make(chan struct{}, n)}
}

type limitedListener struct {
	net.Listener
	slots chan struct{}
}

func (l *limitedListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &slotConn{Conn: c, release: func() { <-l.slots }}, nil
}

type slotConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// meteredBody passes a response through whole and reads the usage the API
// reports in it: per message of a stream (message_start, then the final
// output count in message_delta), or in a whole JSON answer.
type meteredBody struct {
	io.ReadCloser
	sse   bool
	relay *apiRelay
	meter *relayMeter

	line    []byte
	skip    bool // the current line is over relayMeterLine
	whole   bytes.Buffer
	msg     streamMessage
	started bool
}

type streamMessage struct {
	id, model string
	usage     Usage
}

func (b *meteredBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.feed(p[:n])
	}
	if errors.Is(err, io.EOF) {
		b.end()
	}
	return n, err
}

func (b *meteredBody) feed(p []byte) {
	if !b.sse {
		if b.whole.Len()+len(p) <= relayMeterLine {
			b.whole.Write(p)
		}
		return
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !b.skip {
			if len(b.line)+len(chunk) > relayMeterLine {
				b.skip, b.line = true, b.line[:0]
			} else {
				b.line = append(b.line, chunk...)
			}
		}
		if i < 0 {
			return
		}
		if !b.skip {
			b.event(bytes.TrimSuffix(b.line, []byte("\r")))
		}
		b.line, b.skip = b.line[:0], false
		p = p[i+1:]
	}
}

// event reads one line of the stream.
func (b *meteredBody) event(line []byte) {
	data, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok {
		return
	}
	var ev struct {
		Type    string `json:"type"`
		Message struct {
			ID    string `json:"id"`
			Model string `json:"model"`
			Usage Usage  `json:"usage"`
		} `json:"message"`
		Usage *Usage `json:"usage"`
	}
	if json.Unmarshal(bytes.TrimSpace(data), &ev) != nil {
		return
	}
	switch ev.Type {
	case "message_start":
		b.flush()
		b.msg = streamMessage{id: ev.Message.ID, model: ev.Message.Model, usage: ev.Message.Usage}
		b.started = true
		// Counted at once: the input is billed whether or not the
		// stream is read to its end.
		b.relay.metered(b.meter, b.msg.id, b.msg.model, b.msg.usage)
	case "message_delta":
		if ev.Usage != nil {
			// Counts in message_delta are the message's totals so far.
			b.msg.usage.OutputTokens = ev.Usage.OutputTokens
			if ev.Usage.InputTokens > 0 {
				b.msg.usage.InputTokens = ev.Usage.InputTokens
			}
			b.relay.metered(b.meter, b.msg.id, b.msg.model, b.msg.usage)
		}
	case "message_stop":
		b.flush()
	}
}

func (b *meteredBody) flush() {
	if b.started {
		b.relay.metered(b.meter, b.msg.id, b.msg.model, b.msg.usage)
		b.started = false
	}
}

// end counts what a whole answer, or a stream cut before message_stop,
// reported.
func (b *meteredBody) end() {
	if b.sse {
		b.flush()
		return
	}
	var m struct {
		ID    string `json:"id"`
		Type  string `json:"type"`
		Model string `json:"model"`
		Usage *Usage `json:"usage"`
	}
	if json.Unmarshal(b.whole.Bytes(), &m) == nil && m.Type == "message" && m.Usage != nil {
		b.relay.metered(b.meter, m.ID, m.Model, *m.Usage)
	}
	b.whole.Reset()
}

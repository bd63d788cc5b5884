// Package webhook sends one webhook: the job's JSON POSTed to the URL the
// fleet named, signed (X-Herdctl-Signature) when the hook has a secret,
// with a timeout per attempt and bounded retries with backoff. The
// destination goes through the rules an agent's egress proxy applies
// (package policy/egress, through proxy.Connect): its name is resolved
// once, every address it resolves to must be public or in the hook's
// egress_private ranges, and only those checked addresses are dialled; no
// redirect is followed and no proxy from the environment is used.
//
// A discord or slack hook is sent the same way, to the platform's
// endpoint for a message: instead of the job's JSON, its body is the
// job's short summary (hook.Notice), mentioning nobody, authorized by
// the bot's token.
//
// herdctl hook webhook runs it in the webhook's own sandboxed unit; the
// daemon, which has no network, never sends anything itself.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/herdctl/herdctl/chat/text"
	"github.com/herdctl/herdctl/hook"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/policy/egress"
	"github.com/herdctl/herdctl/service/runner/proxy"
)

// UserAgent is the User-Agent of every webhook request.
const UserAgent = "herdctl-hook/1"

// maxResponse bounds what is read of an answer (and then dropped).
const maxResponse = 64 << 10

// Sender sends webhooks. The zero value uses the host's resolver and
// network and really waits between attempts.
type Sender struct {
	Resolver proxy.Resolver
	Dial     proxy.DialFunc
	// Sleep waits d or until ctx ends (tests make it instant).
	Sleep func(ctx context.Context, d time.Duration) error
}

func (s *Sender) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// permanentError is a failure that another attempt cannot change.
type permanentError struct{ error }

// Send POSTs body as spec says and returns how it went. It never
// returns without a result: every failure is a reason.
func (s *Sender) Send(ctx context.Context, spec hook.Spec, body []byte) hook.Result {
	start := time.Now()
	res := s.send(ctx, spec, body)
	res.DurationMS = time.Since(start).Milliseconds()
	return res
}

func (s *Sender) send(ctx context.Context, spec hook.Spec, body []byte) hook.Result {
	pol, target, err := spec.Hook().WebhookPolicy()
	if err != nil {
		return hook.Result{Reason: "the webhook's URL: " + egress.Reason(err)}
	}
	client := &http.Client{
		Transport: &http.Transport{
			Proxy: nil, // never the environment's proxy: the rules apply to the destination itself
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return s.dial(ctx, pol, target)
			},
			DisableKeepAlives:      true,
			TLSHandshakeTimeout:    spec.Timeout,
			MaxResponseHeaderBytes: maxResponse,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       spec.Timeout,
	}
	var res hook.Result
	for attempt := 0; attempt <= spec.Retries; attempt++ {
		if attempt > 0 {
			if err := s.sleep(ctx, hook.Backoff(attempt)); err != nil {
				res.Reason += "; stopped before the next attempt: " + err.Error()
				return res
			}
		}
		res.Attempts++
		status, err := s.post(ctx, client, spec, body)
		res.HTTPStatus = status
		if err == nil {
			res.OK, res.Reason = true, ""
			return res
		}
		res.Reason = err.Error()
		if _, permanent := errors.AsType[*permanentError](err); permanent || ctx.Err() != nil {
			break
		}
	}
	if res.Attempts > 1 {
		res.Reason = fmt.Sprintf("%s (after %d attempts)", res.Reason, res.Attempts)
	}
	return res
}

// dial connects to the webhook's destination, checked as the egress proxy
// checks an agent's.
func (s *Sender) dial(ctx context.Context, pol egress.Policy, t egress.Target) (net.Conn, error) {
	if a, err := netip.ParseAddr(t.Host); err == nil {
		if err := pol.CheckAddr(a); err != nil {
			if ae, ok := errors.AsType[*egress.AddrError](err); ok {
				return nil, refusal(ae)
			}
			return nil, &permanentError{err}
		}
		dial := s.Dial
		if dial == nil {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", netip.AddrPortFrom(a, uint16(t.Port)).String())
		}
		return dial(ctx, "tcp", netip.AddrPortFrom(a, uint16(t.Port)))
	}
	c, _, err := proxy.Connect(ctx, pol, s.Resolver, s.Dial, t)
	if ae, refused := errors.AsType[*egress.AddrError](err); refused {
		return nil, refusal(ae)
	}
	return c, err
}

// refusal is an address the hook may not reach, with what to do about
// it when the fleet may list it.
func refusal(ae *egress.AddrError) error {
	if ae.Hint != "" {
		return &permanentError{ae}
	}
	return &permanentError{fmt.Errorf("%w; list its range in this hook's egress_private to allow it", ae)}
}

// post makes one attempt and returns the HTTP status, if any came back.
func (s *Sender) post(ctx context.Context, client *http.Client, spec hook.Spec, body []byte) (int, error) {
	req, err := request(ctx, spec, body)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, describe(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	code := resp.StatusCode
	if spec.Type == policy.HookSlack && code == http.StatusOK {
		return code, slackAnswer(answer)
	}
	switch {
	case code >= 200 && code < 300:
		return code, nil
	case code >= 300 && code < 400:
		return code, &permanentError{fmt.Errorf("HTTP %d: redirects are not followed; point the hook's url at the final address", code)}
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return code, fmt.Errorf("HTTP %d %s", code, http.StatusText(code))
	default:
		return code, &permanentError{fmt.Errorf("HTTP %d %s", code, http.StatusText(code))}
	}
}

// request is one attempt's request: the job's JSON, signed when the
// hook has a secret; or for a discord or slack hook its notice.
func request(ctx context.Context, spec hook.Spec, body []byte) (*http.Request, error) {
	auth := ""
	switch spec.Type {
	case policy.HookDiscord, policy.HookSlack:
		var p hook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, &permanentError{errors.New("the job on stdin is not a hook's JSON")}
		}
		notice := hook.Notice(p)
		var msg any
		if spec.Type == policy.HookDiscord {
			auth = "Bot " + spec.Secret
			// flags 4 (SUPPRESS_EMBEDS): Discord fetches no link of the
			// agent's result to unfurl it, as Slack's unfurl_* below.
			msg = map[string]any{"content": notice, "allowed_mentions": map[string]any{"parse": []string{}}, "flags": 4}
		} else {
			auth = "Bearer " + spec.Secret
			msg = map[string]any{"channel": spec.Channel, "text": text.EscapeSlack(notice), "unfurl_links": false, "unfurl_media": false}
		}
		body, _ = json.Marshal(msg)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, spec.URL, bytes.NewReader(body))
	if err != nil {
		return nil, &permanentError{errors.New("the webhook's URL cannot be requested")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	switch {
	case auth != "":
		req.Header.Set("Authorization", auth)
	case spec.Secret != "":
		req.Header.Set(hook.SignatureHeader, hook.Sign([]byte(spec.Secret), body))
	}
	return req, nil
}

// slackAnswer is how Slack's 200 answer went: its "ok", or its error
// code (a word of Slack's, never the request echoed).
func slackAnswer(b []byte) error {
	var a struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &a) != nil {
		return errors.New("the answer of Slack is not JSON")
	}
	if a.OK {
		return nil
	}
	reason := fmt.Errorf("refused by Slack: %s", text.OneLine(a.Error, 60))
	if a.Error == "ratelimited" || a.Error == "internal_error" || a.Error == "fatal_error" {
		return reason
	}
	return &permanentError{reason}
}

// describe turns a failed request into a reason that names no URL (its
// path or query may hold a token): client.Do wraps every error in one
// that quotes it.
func describe(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var perm *permanentError
	if errors.As(err, &perm) {
		return &permanentError{errors.New(strings.TrimPrefix(perm.Error(), "dial tcp: "))}
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		return errors.New("timed out")
	}
	return errors.New(err.Error())
}

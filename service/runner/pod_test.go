package runner

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herdctl/herdctl/kube"
	"github.com/herdctl/herdctl/state"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunPodOutcomes: a pod's job ends with the status and reason a job
// on one host gets from the same stream-json output.
func TestRunPodOutcomes(t *testing.T) {
	for _, c := range []struct{ file, status, reason string }{
		{"completed", state.StatusCompleted, "completed"},
		{"auth-401", state.StatusFailed, "authentication failed (HTTP 401)"},
		{"max-turns", state.StatusFailed, "max_turns reached"},
	} {
		var out syncBuffer
		r := &Runner{Sink: &JSONSink{W: &out}}
		rec := r.RunPod(context.Background(), PodJob{Agent: "a", Schedule: "s", ID: "herdctl-a-s-1", Home: t.TempDir(),
			Args: []string{"/bin/cat", "testdata/claude/" + c.file + ".jsonl"}, LogBudget: 1 << 20})
		if rec.Status != c.status || !strings.Contains(rec.ExitReason, c.reason) {
			t.Errorf("%s: %s %q", c.file, rec.Status, rec.ExitReason)
		}
		if !strings.Contains(out.String(), `"HERDCTL_EVENT":"job_finished"`) || !strings.Contains(out.String(), `"HERDCTL_EVENT":"result"`) {
			t.Errorf("%s: the log lacks the result or the outcome:\n%s", c.file, out.String())
		}
	}
}

// TestRunPodResumesSession: with --resume-session the job's session is
// kept in the home, and the next job continues it.
func TestRunPodResumesSession(t *testing.T) {
	home := t.TempDir()
	r := &Runner{Sink: &JSONSink{W: io.Discard}}
	rec := r.RunPod(context.Background(), PodJob{Agent: "a", Home: home, Resume: true, LogBudget: 1 << 20,
		Args: []string{"/bin/cat", "testdata/claude/completed.jsonl"}})
	if rec.SessionID != "420129dd-16fe-4d12-b4d3-9c07dfe14523" {
		t.Fatalf("session %q", rec.SessionID)
	}
	var out syncBuffer
	r = &Runner{Sink: &JSONSink{W: &out}}
	rec = r.RunPod(context.Background(), PodJob{Agent: "a", Home: home, Resume: true, LogBudget: 1 << 20,
		Args: []string{"/bin/sh", "-c", `echo "$@" >&2`, "sh", "-p", "--", "the prompt"}})
	if rec.Resume != "420129dd-16fe-4d12-b4d3-9c07dfe14523" || !strings.Contains(out.String(), "-p --resume=420129dd-16fe-4d12-b4d3-9c07dfe14523 -- the prompt") {
		t.Errorf("the second job did not resume: %q\n%s", rec.Resume, out.String())
	}
	// A forged session file (the home is the agent's) is not a session id.
	os.WriteFile(LastSessionFile(home), []byte("--dangerously-skip-permissions\n"), 0o600)
	out = syncBuffer{}
	r = &Runner{Sink: &JSONSink{W: &out}}
	r.RunPod(context.Background(), PodJob{Agent: "a", Home: home, Resume: true, LogBudget: 1 << 20,
		Args: []string{"/bin/sh", "-c", `echo "$@" >&2`, "sh", "-p", "--", "p"}})
	if strings.Contains(out.String(), "dangerously") {
		t.Errorf("a forged session reached the command line:\n%s", out.String())
	}
}

// TestRunPodStops: the pod's SIGTERM stops the process; the job is
// cancelled.
func TestRunPodStops(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r := &Runner{Sink: &JSONSink{W: io.Discard}}
	rec := r.RunPod(ctx, PodJob{Agent: "a", Args: []string{"/bin/sleep", "30"}, LogBudget: 1 << 20})
	if rec.Status != state.StatusCancelled {
		t.Errorf("status %s %q", rec.Status, rec.ExitReason)
	}
}

// TestServeEgress: the egress Deployment's relay puts the credential from
// the pod's environment on the agent's requests and refuses what is not
// the Messages API; its proxy refuses what the agent's list does not hold.
func TestServeEgress(t *testing.T) {
	const key = "sk-ant-real-key-held-by-the-relay"
	var gotKey string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotKey = r.Header.Get("X-Api-Key")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg_1","type":"message","usage":{"input_tokens":1,"output_tokens":1}}`)
	}))
	defer up.Close()
	cfg := kube.EgressConfig{Agents: []kube.EgressAgent{{Agent: "a", ProxyPort: 1, RelayPort: 2, Egress: []string{"allowed.test:443"},
		Env: map[string]string{"ANTHROPIC_BASE_URL": up.URL}, SecretEnv: map[string]string{"ANTHROPIC_API_KEY": "${KEY}"}}}}
	addrs := map[int32]string{}
	var mu sync.Mutex
	ready := make(chan struct{}, 2)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	r := &Runner{Sink: &JSONSink{W: &out}}
	done := make(chan error, 1)
	go func() {
		done <- r.ServeEgress(ctx, cfg, map[string]string{"KEY": key}, func(port int32) (net.Listener, error) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err == nil {
				mu.Lock()
				addrs[port] = ln.Addr().String()
				mu.Unlock()
				ready <- struct{}{}
			}
			return ln, err
		})
	}()
	<-ready
	<-ready
	mu.Lock()
	proxyAddr, relayAddr := addrs[1], addrs[2]
	mu.Unlock()

	req, _ := http.NewRequest("POST", "http://"+relayAddr+"/v1/messages", strings.NewReader(`{}`))
	req.Header.Set("X-Api-Key", "sk-ant-herdctl-relay-holds-the-real-credential")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || gotKey != key {
		t.Errorf("relay: %s, the API got key %q", resp.Status, gotKey)
	}
	resp, err = http.Get("http://" + relayAddr + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /v1/models through the relay: %s", resp.Status)
	}
	pu, _ := url.Parse("http://" + proxyAddr)
	cl := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}, Timeout: 5 * time.Second}
	resp, err = cl.Get("http://denied.test/")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("the proxy let denied.test through: %s", resp.Status)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), key) {
		t.Error("the key is in the egress log")
	}
	if !strings.Contains(out.String(), "egress denied") {
		t.Errorf("the denial is not logged:\n%s", out.String())
	}
}

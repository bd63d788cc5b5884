package runner

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

// fakeResolver answers from a map: tests never ask the host's DNS.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[strings.TrimSuffix(host, ".")]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestEgressProxy: an agent with network = "egress" reaches what its list
// allows through the proxy its runner serves on its own loopback, is
// refused the rest with a reason, has no other way out, and every attempt
// is in the journal and counted in the record.
func TestEgressProxy(t *testing.T) {
	r := newRig(t)
	origin := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprintf(w, "origin says hello to %s\n", req.URL.Path)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go origin.Serve(ln)
	t.Cleanup(func() { origin.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	r.runner.Resolver = fakeResolver{
		"origin.test":   {netip.MustParseAddr("127.0.0.1")},
		"private.test":  {netip.MustParseAddr("10.1.2.3")},
		"metadata.test": {netip.MustParseAddr("169.254.169.254")},
	}
	probe := fmt.Sprintf(`
try() { out=$(curl -sS -m 5 "$@" 2>&1); echo "RESULT $? $out"; }
try http://origin.test:%[1]d/allowed
try http://evil.test:%[1]d/
try http://origin.test:1/
try http://private.test:%[1]d/
try http://metadata.test:%[1]d/
try --noproxy '' -x http://127.0.0.1:3128 http://2130706433:%[1]d/
try --noproxy '*' http://127.0.0.1:%[1]d/direct
echo "NET $(ls /sys/class/net | tr '\n' ' ')"
`, port)
	a := r.agent("egress", []string{"/bin/sh", "-c", probe})
	a.Container.Network = policy.NetworkEgress
	a.Container.Egress = []string{fmt.Sprintf("origin.test:%d", port), fmt.Sprintf("private.test:%d", port), fmt.Sprintf("metadata.test:%d", port)}
	a.Container.EgressPrivate = []string{"127.0.0.0/8"}
	rec := r.run(context.Background(), a)
	out := r.output(rec.ID)
	lines := map[int]string{}
	i := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "RESULT ") {
			lines[i] = l
			i++
		}
	}
	if !strings.Contains(lines[0], "origin says hello to /allowed") {
		t.Errorf("the allowed name: %s", lines[0])
	}
	for k, what := range map[int]string{1: "evil.test is not on", 2: "port", 3: "private address", 4: "metadata", 5: "raw address"} {
		if !strings.Contains(lines[k], "egress: ") || !strings.Contains(lines[k], what) {
			t.Errorf("attempt %d (%s) was not refused with the reason: %s", k, what, lines[k])
		}
	}
	if strings.Contains(lines[6], "origin says") || strings.HasPrefix(lines[6], "RESULT 0 ") {
		t.Errorf("a direct connection got out: %s", lines[6])
	}
	if !strings.Contains(out, "NET lo\n") {
		t.Errorf("interfaces: %s", out)
	}
	if rec.EgressAllowed != 1 || rec.EgressDenied != 5 || rec.EgressBytesDown == 0 {
		t.Errorf("record: allowed %d, denied %d, down %d", rec.EgressAllowed, rec.EgressDenied, rec.EgressBytesDown)
	}
	denied := 0
	for _, e := range r.entries(rec.ID) {
		if e[FieldEgress] == "deny" && e[FieldEgressHost] != "" && e[FieldEgressPort] != "" {
			denied++
		}
	}
	if denied != 5 || rec.Status != state.StatusCompleted {
		t.Errorf("%d deny entries in the journal; job %s", denied, rec.Status)
	}
	t.Logf("%s", out)
}

// TestClaudeThroughRelay: a Claude agent with network = "egress" reaches
// the API through its runner's relay, which holds the credential: the API
// gets the real key, the container (its environment, its process's
// /proc/1/environ, which the agent's uid could read from the host) only a
// placeholder; and the relay meters what the API reported.
func TestClaudeThroughRelay(t *testing.T) {
	r := newRig(t)
	const key = "sk-ant-api03-the-real-key-stays-outside"
	a, stand := r.claudeAgent("relayed", []testbed.Turn{
		{Tool: "Bash", Input: map[string]any{"command": `echo "KEYS $(tr '\0' '\n' < /proc/1/environ | grep -E '^(ANTHROPIC|CLAUDE_CODE_OAUTH)' | tr '\n' ' ')"`}},
		{Text: "done"},
	})
	a.Claude.AllowedTools = []string{"Bash"}
	// The fleet's API (here the stand-in on this host's loopback) is
	// the relay's to reach; the agent's egress list does not need it.
	a.Container.Network = policy.NetworkEgress
	a.Container.Egress = []string{"nothing.test"}
	a.Container.Env["ANTHROPIC_BASE_URL"] = stand.URL
	a.Container.Env["ANTHROPIC_API_KEY"] = key
	rec := r.run(context.Background(), a)
	if rec.Status != state.StatusCompleted {
		t.Fatalf("job: %s (%s)\n%s", rec.Status, rec.ExitReason, r.out)
	}
	for i := range stand.RequestCount() {
		_, h := stand.Request(i)
		if got := h.Get("X-Api-Key"); got != key {
			t.Errorf("request %d reached the API with key %q", i, got)
		}
	}
	var seen string
	for _, s := range stand.Strings() {
		if strings.HasPrefix(s, "KEYS ") {
			seen = s
		}
		if strings.Contains(s, key) {
			t.Errorf("the key is inside the container: %q", s)
		}
	}
	if !strings.Contains(seen, "ANTHROPIC_API_KEY="+policy.RelayPlaceholder) || !strings.Contains(seen, "ANTHROPIC_BASE_URL=http://127.0.0.1:3129") {
		t.Errorf("the container's environment: %q", seen)
	}
	t.Logf("relay: %d requests, $%v metered; Claude Code reported $%v", rec.APIRequests, rec.APICostUSD, rec.CostUSD)
	if rec.APIRequests < 2 || rec.APICostUSD <= 0 {
		t.Errorf("the relay metered %d requests, $%v", rec.APIRequests, rec.APICostUSD)
	}
	relayed := 0
	for _, e := range r.entries(rec.ID) {
		if e[state.FieldEvent] == "api_relay" && e[FieldEgress] == "allow" && e["HERDCTL_API_STATUS"] == "200" {
			relayed++
		}
	}
	if relayed != rec.APIRequests {
		t.Errorf("%d api_relay entries in the journal for %d requests", relayed, rec.APIRequests)
	}
}

package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/kube"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/service/runner"
)

// TestExportedJobRuns runs what an exported CronJob's pod runs, with no
// kubelet: its command (herdctl-runner pod and the real Claude Code CLI)
// with its environment as Kubernetes would give it, against the egress
// Deployment's relay (served from the exported ConfigMap and the env
// file, as the Secret gives it) and a stand-in API on loopback. The job
// completes with Claude Code's result on the pod's log; the API gets the
// real key, which the job's process never held.
func TestExportedJobRuns(t *testing.T) {
	if os.Getenv("HERDCTL_E2E") == "" {
		t.Skip("system test: set HERDCTL_E2E=1")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the system test needs root")
	}
	claude := testbed.RequireClaude(t)
	dir := testbed.VarLibDir(t)
	api := testbed.StartAPI(t, []testbed.Turn{{Text: "the pod's job is done"}})
	b := make([]byte, 12)
	rand.Read(b)
	key := "sk-ant-kube-job-" + hex.EncodeToString(b)
	fleet := filepath.Join(dir, "fleet")
	os.MkdirAll(filepath.Join(fleet, "writer"), 0o755)
	os.WriteFile(filepath.Join(fleet, "writer", "agent.toml"), []byte("name = \"writer\"\ndefault_prompt = \"say done\"\n[schedules.check]\ntype = \"interval\"\ninterval = \"15m\"\n"), 0o644)
	os.WriteFile(filepath.Join(fleet, "herdctl.toml"), []byte(`version = 1
env_file = "herdctl.env"
[fleet]
name = "kube-job"
[defaults.docker]
user = "1000:1000"
[[agents]]
path = "writer/agent.toml"
  [agents.overrides.docker]
  network = "egress"
`), 0o644)
	envFile := "ANTHROPIC_API_KEY=" + key + "\nANTHROPIC_BASE_URL=" + api.URL + "\n"
	os.WriteFile(filepath.Join(fleet, "herdctl.env"), []byte(envFile), 0o600)
	os.Chown(filepath.Join(fleet, "writer"), 1000, 1000)
	f, err := policy.LoadFleet(filepath.Join(fleet, "herdctl.toml"), config.LoadOptions{}, policy.Options{})
	if err != nil || len(f.Broken) > 0 {
		t.Fatalf("%v %v", err, f.Errs())
	}
	e, err := kube.Render(f.Agents, kube.Options{Image: "localhost/herdctl:e2e"})
	if err != nil {
		t.Fatal(err)
	}
	var cfg kube.EgressConfig
	var job kube.Container
	for _, o := range e.Objects {
		switch spec := o.Spec.(type) {
		case kube.CronJobSpec:
			job = spec.JobTemplate.Spec.Template.Spec.Containers[0]
		case nil:
			if o.Kind == "ConfigMap" {
				if err := json.Unmarshal([]byte(o.Data["egress.json"]), &cfg); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if len(cfg.Agents) != 1 || len(job.Command) == 0 {
		t.Fatalf("the export has no egress configuration or no job: %+v", cfg)
	}

	// The egress Deployment, as the Secret made from the env file feeds
	// it, on loopback ports of its own.
	secret, err := config.ParseEnvFile("herdctl.env", []byte(envFile))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	ports := map[int32]string{}
	var egressLog strings.Builder
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	r := &runner.Runner{Sink: &runner.JSONSink{W: &lockedWriter{w: &egressLog, mu: &mu}}}
	listening := make(chan struct{}, 4)
	go func() {
		served <- r.ServeEgress(ctx, cfg, secret, func(port int32) (net.Listener, error) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err == nil {
				mu.Lock()
				ports[port] = ln.Addr().(*net.TCPAddr).AddrPort().String()
				mu.Unlock()
				listening <- struct{}{}
			}
			return ln, err
		})
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	<-listening
	<-listening

	// The job's process, with what the kubelet would give it: $$ is $,
	// $(NAME) the variable (the Service's address among them), the
	// Secret's keys, the Job's name.
	ctl := testbed.Build(t, dir, "herdctl-runner")
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o700)
	vars := map[string]string{kube.EgressHostVar: "127.0.0.1"}
	var pairs []string
	mu.Lock()
	for p, addr := range ports {
		pairs = append(pairs, "127.0.0.1:"+strconv.Itoa(int(p)), addr)
	}
	mu.Unlock()
	portMap := strings.NewReplacer(pairs...)
	expand := func(s string) string {
		var out strings.Builder
		for i := 0; i < len(s); i++ {
			switch {
			case strings.HasPrefix(s[i:], "$$"):
				out.WriteByte('$')
				i++
			case strings.HasPrefix(s[i:], "$("):
				end := strings.IndexByte(s[i:], ')')
				out.WriteString(vars[s[i+2:i+end]])
				i += end
			default:
				out.WriteByte(s[i])
			}
		}
		return out.String()
	}
	var env []string
	for _, v := range job.Env {
		val := v.Value
		switch {
		case v.ValueFrom != nil && v.ValueFrom.SecretKeyRef != nil:
			val = secret[v.ValueFrom.SecretKeyRef.Key]
		case v.ValueFrom != nil:
			val = "herdctl-writer-check-29000000"
		default:
			val = expand(val)
		}
		// The ports the Service maps to the egress pod's, here loopback's.
		val = portMap.Replace(val)
		if v.Name == "HOME" {
			val = home
		}
		vars[v.Name] = val
		env = append(env, v.Name+"="+val)
	}
	var argv []string
	for _, w := range job.Command {
		argv = append(argv, expand(w))
	}
	argv[0] = ctl
	for i, w := range argv {
		if w == "/opt/herdctl/bin/claude" {
			argv[i] = claude
		}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = home
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, _ := cmd.StdoutPipe()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var finished map[string]string
	var events []string
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var entry map[string]string
		if err := json.Unmarshal(sc.Bytes(), &entry); err != nil {
			t.Errorf("a line of the pod's log is not JSON: %q", sc.Text())
			continue
		}
		events = append(events, entry["HERDCTL_EVENT"])
		if entry["HERDCTL_EVENT"] == "job_finished" {
			finished = entry
		}
	}
	err = cmd.Wait()
	t.Logf("the pod's job took %s; events %v", time.Since(start).Round(time.Millisecond), events)
	if err != nil || finished["HERDCTL_STATUS"] != "completed" {
		t.Fatalf("the job: %v %v\n%s", err, finished, stderr.String())
	}
	if !strings.Contains(strings.Join(events, " "), "result") || finished["HERDCTL_SESSION"] == "" {
		t.Errorf("no result or session on the pod's log: %v %v", events, finished)
	}
	if api.RequestCount() == 0 {
		t.Fatal("the stand-in API got no request")
	}
	for i := 0; i < api.RequestCount(); i++ {
		if _, h := api.Request(i); h.Get("X-Api-Key") != key {
			t.Errorf("request %d reached the API with key %q, not the relay's", i, h.Get("X-Api-Key"))
		}
	}
	for _, kv := range env {
		if strings.Contains(kv, key) {
			t.Errorf("the job's process held the key: %s", strings.SplitN(kv, "=", 2)[0])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(egressLog.String(), "api relay: POST") || strings.Contains(egressLog.String(), key) {
		t.Errorf("the egress log:\n%s", egressLog.String())
	}
}

type lockedWriter struct {
	w  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/internal/testbed"
)

const kubeFleet = `version = 1
env_file = "herdctl.env"

[fleet]
name = "kube-e2e"

[defaults.docker]
user = "1000:1000"

[[agents]]
path = "ticker/agent.toml"

[[agents]]
path = "fetcher/agent.toml"
  [agents.overrides.docker]
  network = "egress"
  egress = ["api.anthropic.com", "*.example.org"]
`

// TestKubernetesExport applies herdctlctl export kubernetes to a real
// control plane (etcd, kube-apiserver, kube-controller-manager; no
// kubelet, so what runs is judged on the objects) in a namespace at Pod
// Security "restricted": the apply succeeds with warnings as errors, an
// every-minute schedule gets a Job and an admitted Pod, a pod that breaks
// "restricted" is refused, the API key is in no object but the Secret,
// and the NetworkPolicies select the pods they are for.
func TestKubernetesExport(t *testing.T) {
	if os.Getenv("HERDCTL_E2E") == "" {
		t.Skip("system test: set HERDCTL_E2E=1 to run a Kubernetes control plane")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the system test needs root")
	}
	dir := testbed.VarLibDir(t)
	k := testbed.StartKube(t, filepath.Join(dir, "kube"))

	// The fleet, with a key of this run's own to look for.
	fleet := filepath.Join(dir, "fleet")
	b := make([]byte, 12)
	rand.Read(b)
	key := "sk-ant-kube-e2e-" + hex.EncodeToString(b)
	for name, agent := range map[string]string{
		"ticker":  "name = \"ticker\"\ndefault_prompt = \"tick\"\n[schedules.minute]\ntype = \"cron\"\ncron = \"* * * * *\"\ntimeout = \"50s\"\n",
		"fetcher": "name = \"fetcher\"\ndefault_prompt = \"fetch\"\n[schedules.check]\ntype = \"interval\"\ninterval = \"15m\"\nresume_session = true\n",
	} {
		os.MkdirAll(filepath.Join(fleet, name), 0o755)
		os.WriteFile(filepath.Join(fleet, name, "agent.toml"), []byte(agent), 0o644)
		os.Chown(filepath.Join(fleet, name), 1000, 1000)
	}
	os.WriteFile(filepath.Join(fleet, "herdctl.toml"), []byte(kubeFleet), 0o644)
	envFile := filepath.Join(fleet, "herdctl.env")
	os.WriteFile(envFile, []byte("ANTHROPIC_API_KEY="+key+"\n"), 0o600)

	ctl := testbed.Build(t, dir, "herdctlctl")
	export := exec.Command(ctl, "export", "kubernetes", "--namespace=herdctl-e2e", "--image=localhost/herdctl:e2e", filepath.Join(fleet, "herdctl.toml"))
	var stderr strings.Builder
	export.Stderr = &stderr
	manifests, err := export.Output()
	if err != nil {
		t.Fatalf("export: %v\n%s", err, stderr.String())
	}
	if strings.Contains(string(manifests), key) || strings.Contains(stderr.String(), key) {
		t.Fatal("the API key is in the export")
	}
	file := filepath.Join(dir, "fleet.yaml")
	os.WriteFile(file, manifests, 0o644)

	// The namespace first, so that the Secret can go in before the pods
	// that read it.
	k.Run("create", "namespace", "herdctl-e2e")
	k.Run("label", "namespace", "herdctl-e2e", "pod-security.kubernetes.io/enforce=restricted")
	k.Run("-n", "herdctl-e2e", "create", "secret", "generic", "herdctl-env", "--from-env-file="+envFile)
	start := time.Now()
	k.Run("apply", "--server-side", "--warnings-as-errors", "-f", file)
	if got := k.Run("get", "namespace", "herdctl-e2e", "-o", "jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}"); got != "restricted" {
		t.Fatalf("the namespace's enforce level is %q", got)
	}

	// The every-minute schedule: a Job, and a Pod that admission let in.
	var jobPod map[string]any
	k.Eventually(75*time.Second, "a Job and an admitted Pod of ticker's every-minute schedule", func() bool {
		out, err := k.Try("-n", "herdctl-e2e", "get", "pods", "-l", "herdctl.dev/agent=ticker", "-o", "json")
		if err != nil {
			return false
		}
		var list struct{ Items []map[string]any }
		if json.Unmarshal([]byte(out), &list) != nil || len(list.Items) == 0 {
			return false
		}
		jobPod = list.Items[0]
		return true
	})
	t.Logf("ticker's first pod after %s", time.Since(start).Round(time.Second))
	// The schedule's facts, as the API server kept them.
	if got := k.Run("-n", "herdctl-e2e", "get", "cronjob", "herdctl-ticker-minute", "-o",
		"jsonpath={.spec.schedule}|{.spec.concurrencyPolicy}|{.spec.jobTemplate.spec.backoffLimit}|{.spec.jobTemplate.spec.activeDeadlineSeconds}"); got != "* * * * *|Forbid|0|50" {
		t.Errorf("ticker's CronJob: %q", got)
	}
	jobs := k.Run("-n", "herdctl-e2e", "get", "jobs", "-l", "herdctl.dev/schedule=minute", "-o", "name")
	if !strings.Contains(jobs, "job.batch/herdctl-ticker-minute-") {
		t.Fatalf("no Job of the CronJob: %q", jobs)
	}

	// The test can fail: a workload whose pod may escalate its privileges
	// is only a warning to Pod Security, which --warnings-as-errors makes
	// an error (a dry run, so that the cluster keeps what was applied),
	// and a Pod like the job's but as root is refused outright.
	bad := strings.Replace(string(manifests), "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", 1)
	if bad == string(manifests) {
		t.Fatal("found no allowPrivilegeEscalation to change")
	}
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(bad), 0o644)
	if out, err := k.Try("apply", "--server-side", "--dry-run=server", "--warnings-as-errors", "-f", filepath.Join(dir, "bad.yaml")); err == nil || !strings.Contains(out, "allowPrivilegeEscalation") {
		t.Fatalf("a CronJob with allowPrivilegeEscalation was applied: %v\n%s", err, out)
	}
	spec := jobPod["spec"].(map[string]any)
	delete(spec, "nodeName")
	spec["securityContext"].(map[string]any)["runAsUser"] = 0
	root := map[string]any{"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "ticker-as-root", "namespace": "herdctl-e2e"}, "spec": spec}
	rootJSON, _ := json.Marshal(root)
	os.WriteFile(filepath.Join(dir, "root.json"), rootJSON, 0o644)
	if out, err := k.Try("create", "-f", filepath.Join(dir, "root.json")); err == nil || !strings.Contains(out, "violates PodSecurity") {
		t.Fatalf("a pod running as root was admitted: %v\n%s", err, out)
	}

	// The key is in the Secret and nowhere else.
	for _, kind := range []string{"cronjobs", "jobs", "pods", "deployments", "replicasets", "services", "configmaps", "networkpolicies", "persistentvolumeclaims"} {
		if out := k.Run("-n", "herdctl-e2e", "get", kind, "-o", "yaml"); strings.Contains(out, key) {
			t.Errorf("the API key is in the %s", kind)
		}
	}

	// The egress agent's pod (a job started by hand) is selected by its
	// own policy, which lets it out only to the egress pod, and by the
	// egress pod's policy, which lets it in.
	k.Run("-n", "herdctl-e2e", "create", "job", "fetcher-now", "--from=cronjob/herdctl-fetcher-check")
	var egressPod string
	k.Eventually(30*time.Second, "the pods of fetcher's job and of the egress Deployment", func() bool {
		f, _ := k.Try("-n", "herdctl-e2e", "get", "pods", "-l", "job-name=fetcher-now", "-o", "name")
		e, _ := k.Try("-n", "herdctl-e2e", "get", "pods", "-l", "app.kubernetes.io/component=egress", "-o", "name")
		egressPod = strings.TrimSpace(e)
		return strings.HasPrefix(f, "pod/") && strings.HasPrefix(egressPod, "pod/")
	})
	selected := func(policy, path string) string {
		sel := k.Run("-n", "herdctl-e2e", "get", "networkpolicy", policy, "-o", "jsonpath={"+path+"}")
		var labels map[string]string
		if err := json.Unmarshal([]byte(sel), &labels); err != nil || len(labels) == 0 {
			t.Fatalf("%s %s: %q", policy, path, sel)
		}
		var terms []string
		for k, v := range labels {
			terms = append(terms, k+"="+v)
		}
		sort.Strings(terms)
		return strings.TrimSpace(k.Run("-n", "herdctl-e2e", "get", "pods", "-l", strings.Join(terms, ","), "-o", "name"))
	}
	if got := selected("herdctl-fetcher", ".spec.podSelector.matchLabels"); !strings.Contains(got, "pod/fetcher-now-") || strings.Contains(got, "egress") {
		t.Errorf("herdctl-fetcher selects %q", got)
	}
	if got := selected("herdctl-fetcher", ".spec.egress[0].to[0].podSelector.matchLabels"); got != egressPod {
		t.Errorf("herdctl-fetcher lets its pods out to %q, want the egress pod %q", got, egressPod)
	}
	if got := selected("herdctl-egress", ".spec.podSelector.matchLabels"); got != egressPod {
		t.Errorf("herdctl-egress selects %q, want %q", got, egressPod)
	}
	if got := selected("herdctl-egress", ".spec.ingress[0].from[0].podSelector.matchLabels"); !strings.Contains(got, "pod/fetcher-now-") {
		t.Errorf("herdctl-egress lets in %q", got)
	}
	if got := selected("herdctl-ticker", ".spec.podSelector.matchLabels"); !strings.Contains(got, "pod/herdctl-ticker-minute-") || strings.Contains(got, "fetcher") {
		t.Errorf("herdctl-ticker selects %q", got)
	}
	if out := strings.TrimSpace(k.Run("-n", "herdctl-e2e", "get", "networkpolicy", "herdctl-ticker", "-o", "jsonpath={.spec.policyTypes} {.spec.egress}")); out != `["Ingress","Egress"]` && out != `["Ingress","Egress"] []` {
		t.Errorf("ticker's network = \"none\" policy: %q", out)
	}
	// The egress pod may go out only to DNS and the ports of the lists.
	if got := k.Run("-n", "herdctl-e2e", "get", "networkpolicy", "herdctl-egress", "-o", "jsonpath={.spec.egress[*].ports[*].port}"); got != "53 53 443" {
		t.Errorf("herdctl-egress lets out to ports %q", got)
	}
	// fetcher resumes its session: its home is a claim.
	k.Run("-n", "herdctl-e2e", "get", "persistentvolumeclaim", "herdctl-fetcher-home")
}

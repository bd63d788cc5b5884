package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/herdctl/herdctl/internal/testbed"
)

// TestPodProcessCannotTouchTheRunner: in an exported pod the runner and
// the job's process (Claude Code, and every tool it runs) are one uid.
// The process must not reach into the runner, which writes the job's log
// and outcome: open its memory, or ptrace it. Before, a job's shell
// opened /proc/$PPID/mem (and strace attached), so an agent could write
// its own outcome and cost.
func TestPodProcessCannotTouchTheRunner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run the runner as another uid")
	}
	dir := testbed.VarLibDir(t)
	runner := testbed.Build(t, dir, "herdctl-runner")
	home := filepath.Join(dir, "home")
	os.Mkdir(home, 0o755)
	os.Chown(home, 65534, 65534)
	const probe = `(exec 3</proc/$PPID/mem) 2>/dev/null && echo OPENED-THE-RUNNERS-MEMORY; ` +
		`(exec 4>/proc/$PPID/mem) 2>/dev/null && echo OPENED-THE-RUNNERS-MEMORY-FOR-WRITING; ` +
		`ls /proc/$PPID/fd/ >/dev/null 2>&1 && echo LISTED-THE-RUNNERS-FDS; echo done`
	cmd := exec.Command(runner, "pod", "--agent=evil", "--schedule=s", "--command", "--", "/bin/sh", "-c", probe)
	cmd.Env = []string{"HOME=" + home, "HERDCTL_JOB=job-1", "PATH=/usr/bin:/bin"}
	cmd.Dir = home
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the job failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "output: done") {
		t.Fatalf("the probe did not run:\n%s", out)
	}
	for _, bad := range []string{"OPENED-THE-RUNNERS-MEMORY", "LISTED-THE-RUNNERS-FDS"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("the job's process %s:\n%s", bad, out)
		}
	}
}

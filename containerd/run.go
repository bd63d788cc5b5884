package containerd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Task is one job's container and task, from creation to removal.
type Task struct {
	ID     string
	Spec   *specs.Spec
	Labels map[string]string
	// Image is an OCI reference to snapshot the root from; "" when the
	// spec's root is a host path (the built-in host image).
	Image  string
	Stdout io.Writer
	Stderr io.Writer
	// Started, if set, is called once the task runs, with its host pid.
	Started func(pid uint32)
	// BeforeStart, if set, is called once the task exists (its process
	// and namespaces made) but before it runs, with its host pid: the
	// moment to open what the task will find in its namespaces. An error
	// stops the job.
	BeforeStart func(pid uint32) error
	// StopGrace is how long the task gets between SIGTERM and SIGKILL.
	StopGrace time.Duration
	// Progress, if set, hears what Run does before the task starts
	// (pulling the image).
	Progress func(string)
	// FIFODir is where the task's output fifos are made (a directory
	// of the job's that is removed with it); containerd's default if "".
	FIFODir string
}

// Exit is how a task ended.
type Exit struct {
	Code     uint32
	Signaled bool // stopped by Run because ctx was cancelled
	ExitedAt time.Time
	// OOM says the kernel killed a process of the task because the
	// memory limit was reached (the cgroup's oom_kill count), whether or
	// not the main process survived it.
	OOM bool
}

// Run creates the container and task, starts it with /dev/null as stdin,
// and waits for it to exit. If ctx is cancelled, the task gets SIGTERM,
// then SIGKILL after StopGrace. The task, the container and its snapshot
// are removed in every case, also on error.
func (c *Client) Run(ctx context.Context, t Task) (exit Exit, err error) {
	// Cleanup must happen even when ctx is cancelled.
	bg := c.ctx(context.WithoutCancel(ctx))
	defer func() {
		if rerr := c.Remove(bg, t.ID); rerr != nil && err == nil {
			err = rerr
		}
	}()
	opts := []containerd.NewContainerOpts{
		containerd.WithContainerLabels(t.Labels),
		containerd.WithRuntime("io.containerd.runc.v2", nil),
	}
	if t.Image != "" {
		report := t.Progress
		if report == nil {
			report = func(string) {}
		}
		// A pull can take minutes: it stops when the job is stopped.
		img, err := c.ensureImage(c.ctx(ctx), t.Image, report)
		if err != nil {
			return Exit{}, err
		}
		opts = append(opts, containerd.WithNewSnapshot(t.ID+"-snapshot", img))
	}
	opts = append(opts, containerd.WithSpec(t.Spec))
	ctr, err := c.c.NewContainer(bg, t.ID, opts...)
	if err != nil {
		return Exit{}, fmt.Errorf("creating container %s: %w", t.ID, err)
	}
	ioOpts := []cio.Opt{cio.WithStreams(nil, t.Stdout, t.Stderr)}
	if t.FIFODir != "" {
		ioOpts = append(ioOpts, cio.WithFIFODir(t.FIFODir))
	}
	task, err := ctr.NewTask(bg, cio.NewCreator(ioOpts...))
	if err != nil {
		return Exit{}, fmt.Errorf("creating task %s: %w", t.ID, err)
	}
	// Deleting through this task object, which holds the IO, also
	// closes the fifos and removes their directory; Remove, which loads
	// the task afresh, would leave them behind. (A reattach after a
	// containerd restart replaces task, not created.)
	created := task
	defer func() {
		if _, derr := created.Delete(bg, containerd.WithProcessKill); ignoreNotFound(derr) != nil && err == nil {
			err = fmt.Errorf("deleting task %s: %w", t.ID, derr)
		}
	}()
	statusC, err := task.Wait(bg)
	if err != nil {
		return Exit{}, fmt.Errorf("waiting on task %s: %w", t.ID, err)
	}
	// Before the task (and its cgroup) is removed: did the kernel kill
	// anything in it for memory?
	defer func() {
		if t.Spec != nil && t.Spec.Linux != nil {
			exit.OOM = oomKills(t.Spec.Linux.CgroupsPath) > 0
		}
	}()
	if t.BeforeStart != nil {
		if err := t.BeforeStart(task.Pid()); err != nil {
			return Exit{}, err
		}
	}
	if err := task.Start(bg); err != nil {
		return Exit{}, fmt.Errorf("starting task %s: %w", t.ID, err)
	}
	if t.Started != nil {
		t.Started(task.Pid())
	}
wait:
	for {
		select {
		case st := <-statusC:
			if _, _, err := st.Result(); err != nil && lostContainerd(err) {
				// containerd went away (a restart, an upgrade); the shim
				// still runs the task and our pipes still read it.
				if task, statusC, err = c.reattach(ctx, bg, t.ID); err != nil {
					return Exit{}, err
				}
				continue
			}
			return exitOf(st, false)
		case <-ctx.Done():
			break wait
		}
	}
	grace := t.StopGrace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	if err := task.Kill(bg, syscall.SIGTERM); ignoreNotFound(err) != nil {
		return Exit{}, fmt.Errorf("stopping task %s: %w", t.ID, err)
	}
	select {
	case st := <-statusC:
		return exitOf(st, true)
	case <-time.After(grace):
	}
	if err := task.Kill(bg, syscall.SIGKILL, containerd.WithKillAll); ignoreNotFound(err) != nil {
		return Exit{}, fmt.Errorf("killing task %s: %w", t.ID, err)
	}
	return exitOf(<-statusC, true)
}

func exitOf(st containerd.ExitStatus, stopped bool) (Exit, error) {
	code, at, err := st.Result()
	if err != nil {
		return Exit{}, err
	}
	return Exit{Code: code, Signaled: stopped, ExitedAt: at}, nil
}

// Remove deletes a job's task (killing it if needed), its container and
// its snapshot. What is already gone is not an error.
func (c *Client) Remove(ctx context.Context, id string) error {
	ctx = c.ctx(ctx)
	ctr, err := c.c.LoadContainer(ctx, id)
	if err != nil {
		return ignoreNotFound(err)
	}
	if task, err := ctr.Task(ctx, nil); err == nil {
		if _, err := task.Delete(ctx, containerd.WithProcessKill); ignoreNotFound(err) != nil {
			return fmt.Errorf("deleting task %s: %w", id, err)
		}
	} else if ignoreNotFound(err) != nil {
		return fmt.Errorf("loading task %s: %w", id, err)
	}
	if err := ctr.Delete(ctx, containerd.WithSnapshotCleanup); ignoreNotFound(err) != nil {
		return fmt.Errorf("deleting container %s: %w", id, err)
	}
	return nil
}

// Container is a container herdctl made, as reconcile sees it.
type Container struct {
	ID     string
	Job    string
	Agent  string
	Unit   string
	Labels map[string]string
}

// List returns every container in herdctl's namespace that carries a job
// label.
func (c *Client) List(ctx context.Context) ([]Container, error) {
	ctx = c.ctx(ctx)
	ctrs, err := c.c.Containers(ctx, fmt.Sprintf("labels.%q", LabelJob))
	if err != nil {
		return nil, err
	}
	out := make([]Container, 0, len(ctrs))
	for _, ctr := range ctrs {
		labels, err := ctr.Labels(ctx)
		if err != nil {
			if IsNotFound(err) {
				continue
			}
			return nil, err
		}
		out = append(out, Container{ID: ctr.ID(), Job: labels[LabelJob], Agent: labels[LabelAgent], Unit: labels[LabelUnit], Labels: labels})
	}
	return out, nil
}

// oomKills reads how many processes the kernel killed in the task's
// memory cgroup for want of memory: memory.events (cgroup v2) or
// memory.oom_control (v1). Deterministic, unlike the OOM event, which may
// trail the task's exit.
func oomKills(cgroupsPath string) int {
	if cgroupsPath == "" {
		return 0
	}
	for _, f := range []string{
		filepath.Join("/sys/fs/cgroup", cgroupsPath, "memory.events"),
		filepath.Join("/sys/fs/cgroup/memory", cgroupsPath, "memory.oom_control"),
	} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				return n
			}
		}
	}
	return 0
}

// lostContainerd reports whether err means the connection to containerd
// broke, not that the task failed.
func lostContainerd(err error) bool {
	return status.Code(err) == codes.Unavailable || errdefs.IsUnavailable(err)
}

// reattachTimeout is how long a job waits for containerd to come back.
const reattachTimeout = 2 * time.Minute

// reattach waits for containerd to be back and finds the task again.
func (c *Client) reattach(ctx, bg context.Context, id string) (containerd.Task, <-chan containerd.ExitStatus, error) {
	deadline := time.Now().Add(reattachTimeout)
	for {
		ctr, err := c.c.LoadContainer(bg, id)
		if err == nil {
			var task containerd.Task
			if task, err = ctr.Task(bg, nil); err == nil {
				statusC, werr := task.Wait(bg)
				if werr == nil {
					return task, statusC, nil
				}
				err = werr
			}
		}
		if !lostContainerd(err) || time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("containerd was restarted during the job and its task could not be found again: %w (systemctl status containerd)", err)
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

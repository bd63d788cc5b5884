package runner

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/herdctl/herdctl/internal/netns"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/policy/egress"
	"github.com/herdctl/herdctl/service/runner/proxy"
	"github.com/herdctl/herdctl/state"
)

// Journal fields of egress attempts.
const (
	FieldEgress      = "HERDCTL_EGRESS" // allow or deny
	FieldEgressHost  = "HERDCTL_EGRESS_HOST"
	FieldEgressPort  = "HERDCTL_EGRESS_PORT"
	FieldEgressAddr  = "HERDCTL_EGRESS_ADDR"
	FieldEgressUp    = "HERDCTL_EGRESS_BYTES_UP"
	FieldEgressDown  = "HERDCTL_EGRESS_BYTES_DOWN"
	FieldEgressState = "HERDCTL_EGRESS_PHASE" // open or close
)

// egressProxy is a job's egress proxy: served by the runner, from the
// host's network, on a listener it opened inside the task's network
// namespace (which has only loopback) before the task started. It is the
// container's only way out, to what the fleet's egress list allows.
type egressProxy struct {
	stop func()

	mu               sync.Mutex
	allowed, denied  int
	bytesUp, bytesDn int64
}

// startEgress opens the proxy's listener in the namespace of the task
// whose host pid is pid and serves it until stop.
func (r *Runner) startEgress(ctx context.Context, a *policy.Agent, pid uint32, log *jobLog) (*egressProxy, error) {
	pol, err := egress.NewPolicy(a.Container.Egress, a.Container.EgressPrivate)
	if err != nil {
		return nil, fmt.Errorf("the agent's egress list: %w", err)
	}
	ln, err := netns.Listen(fmt.Sprintf("/proc/%d/ns/net", pid), "127.0.0.1:"+strconv.Itoa(policy.ProxyPort))
	if err != nil {
		return nil, fmt.Errorf("opening the egress proxy in the job's network namespace: %w", err)
	}
	e := &egressProxy{}
	p := &proxy.Proxy{Policy: pol, Resolver: r.Resolver, Audit: func(ev proxy.Event) { e.audit(ev, log) }}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		p.Serve(pctx, ln)
		close(done)
	}()
	e.stop = func() {
		cancel()
		<-done
	}
	return e, nil
}

// audit logs one attempt (every decision, and the bytes of an allowed
// connection when it closes) and counts it for the job's record.
func (e *egressProxy) audit(ev proxy.Event, log *jobLog) {
	e.mu.Lock()
	switch {
	case ev.Decision == proxy.DecisionDeny:
		e.denied++
	case ev.Phase == proxy.PhaseOpen:
		e.allowed++
	case ev.Phase == proxy.PhaseClose:
		e.bytesUp += ev.BytesUp
		e.bytesDn += ev.BytesDown
	}
	e.mu.Unlock()
	target := ev.Host + ":" + strconv.Itoa(ev.Port)
	f := with(log.fields, state.FieldEvent, "egress", FieldEgress, ev.Decision, FieldEgressHost, ev.Host,
		FieldEgressPort, strconv.Itoa(ev.Port), FieldEgressState, ev.Phase)
	if ev.Addr.IsValid() {
		f[FieldEgressAddr] = ev.Addr.String()
	}
	var msg string
	pri := PriInfo
	switch {
	case ev.Decision == proxy.DecisionDeny:
		msg, pri = fmt.Sprintf("egress denied: %s %s: %s", ev.Method, target, ev.Reason), PriWarning
	case ev.Phase == proxy.PhaseClose:
		f[FieldEgressUp], f[FieldEgressDown] = strconv.FormatInt(ev.BytesUp, 10), strconv.FormatInt(ev.BytesDown, 10)
		msg = fmt.Sprintf("egress closed: %s (%d bytes up, %d down, %s)", target, ev.BytesUp, ev.BytesDown, ev.Duration.Round(1e6))
	default:
		msg = fmt.Sprintf("egress allowed: %s %s (%s)", ev.Method, target, ev.Addr)
	}
	log.entry(msg, pri, f, 0)
}

// record puts the counts into the job's record.
func (e *egressProxy) record(rec *state.Job) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec.EgressAllowed, rec.EgressDenied = e.allowed, e.denied
	rec.EgressBytesUp, rec.EgressBytesDown = e.bytesUp, e.bytesDn
}

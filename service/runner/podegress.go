package runner

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/herdctl/herdctl/kube"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/policy/egress"
	"github.com/herdctl/herdctl/service/runner/proxy"
	"github.com/herdctl/herdctl/state"
)

// ServeEgress serves the export's egress Deployment (package kube) until
// ctx is done: for each agent of cfg the egress proxy with its allowlist,
// and the API relay holding its credential, the same code as a job's on
// one host, each on its own port (the agent's NetworkPolicy lets only its
// pods reach them). env is the pod's environment, which holds the env
// file's variables: the relay's credential is expanded from it. Every
// attempt is an entry to the Sink, with the agent's name.
func (r *Runner) ServeEgress(ctx context.Context, cfg kube.EgressConfig, env map[string]string, listen func(port int32) (net.Listener, error)) error {
	var stops []func()
	defer func() {
		// The relay before the proxy: they share the agent's log.
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()
	for _, ea := range cfg.Agents {
		a := &policy.Agent{Name: ea.Agent}
		fields := map[string]string{state.FieldAgent: ea.Agent}
		log := r.startJobLog(a, fields, math.MaxInt64, nil)
		pol, err := egress.NewPolicy(ea.Egress, ea.EgressPrivate)
		if err != nil {
			return fmt.Errorf("agent %q: its egress list: %w", ea.Agent, err)
		}
		ln, err := listen(ea.ProxyPort)
		if err != nil {
			return fmt.Errorf("agent %q: %w", ea.Agent, err)
		}
		e := &egressProxy{}
		p := &proxy.Proxy{Policy: pol, Resolver: r.Resolver, Audit: func(ev proxy.Event) { e.audit(ev, log) }}
		pctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { p.Serve(pctx, ln); close(done) }()
		stops = append(stops, func() { cancel(); <-done; log.close(&state.Job{}) })
		if ea.RelayPort == 0 {
			r.Sink.Send(fmt.Sprintf("egress of %s: proxy on %d", ea.Agent, ea.ProxyPort), PriInfo,
				with(fields, state.FieldEvent, "egress_ready", FieldEgressPort, strconv.Itoa(int(ea.ProxyPort))))
			continue
		}
		opened := make(map[string]string, len(ea.Env)+len(ea.SecretEnv))
		for k, v := range ea.Env {
			opened[k] = v
		}
		for k, t := range ea.SecretEnv {
			if opened[k], err = policy.ExpandSecret(t, env); err != nil {
				return fmt.Errorf("agent %q: %s: %w (create the Secret from the env file: kubectl create secret generic ... --from-env-file)", ea.Agent, k, err)
			}
		}
		a.Container = policy.Container{Network: policy.NetworkEgress, Env: opened}
		_, relay, err := relayFor(a)
		if err != nil {
			return fmt.Errorf("agent %q: %w", ea.Agent, err)
		}
		rln, err := listen(ea.RelayPort)
		if err != nil {
			return fmt.Errorf("agent %q: %w", ea.Agent, err)
		}
		pm := &podMeters{window: time.Duration(ea.JobSeconds) * time.Second}
		rl := serveRelay(ctx, relay, rln, log, &apiRelay{budget: jobBudget(ea.JobBudgetUSD), meterOf: pm.meter}, nil)
		stops = append(stops, rl.stop)
		r.Sink.Send(fmt.Sprintf("egress of %s: proxy on %d, API relay on %d", ea.Agent, ea.ProxyPort, ea.RelayPort), PriInfo,
			with(fields, state.FieldEvent, "egress_ready", FieldEgressPort, strconv.Itoa(int(ea.ProxyPort))))
	}
	<-ctx.Done()
	return nil
}

// podMeters meter the export's egress relay by job: a job is one pod, and
// a pod is known by its address, the one thing about a request a process
// of the job cannot choose. A meter lasts the agent's longest job
// (activeDeadlineSeconds): no job of it runs longer, so an address seen
// again after that is another job's. One seen again sooner counts
// against the earlier job's meter: a budget held too soon, never too
// late. The meters live in the egress pod's memory.
type podMeters struct {
	window time.Duration
	now    func() time.Time

	mu     sync.Mutex
	meters map[string]*relayMeter
}

// maxPodMeters is when expired meters are swept.
const maxPodMeters = 1024

func (p *podMeters) meter(req *http.Request) *relayMeter {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	now := time.Now()
	if p.now != nil {
		now = p.now()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.meters == nil {
		p.meters = map[string]*relayMeter{}
	}
	window := p.window
	if window <= 0 {
		window = 24 * time.Hour // no deadline known: a day
	}
	m := p.meters[host]
	if m == nil || now.Sub(m.since) > window {
		if len(p.meters) >= maxPodMeters {
			for k, x := range p.meters {
				if now.Sub(x.since) > window {
					delete(p.meters, k)
				}
			}
		}
		m = &relayMeter{since: now}
		p.meters[host] = m
	}
	return m
}

// jobBudget refuses a request of a job that has spent max_cost_usd_per_job
// (0: none): the per-job part of relayBudget, and all of the export's
// egress relay's budget.
func jobBudget(perJob float64) func(float64) error {
	return func(metered float64) error {
		if perJob > 0 && metered >= perJob {
			return fmt.Errorf("budget: this job has spent $%.4f, its max_cost_usd_per_job is $%.2f", metered, perJob)
		}
		return nil
	}
}

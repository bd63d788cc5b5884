package runner

import (
	"context"
	"fmt"
	"math"
	"net"
	"strconv"

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
		rl := serveRelay(ctx, relay, rln, log, func(string, float64) {}, func(float64) error { return nil }, nil)
		stops = append(stops, rl.stop)
		r.Sink.Send(fmt.Sprintf("egress of %s: proxy on %d, API relay on %d", ea.Agent, ea.ProxyPort, ea.RelayPort), PriInfo,
			with(fields, state.FieldEvent, "egress_ready", FieldEgressPort, strconv.Itoa(int(ea.ProxyPort))))
	}
	<-ctx.Done()
	return nil
}

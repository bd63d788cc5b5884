package kube

import (
	"encoding/json"
	"net/url"
	"path"
	"sort"
	"strconv"

	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/policy/egress"
)

// EgressConfig is what the egress Deployment serves, written into its
// ConfigMap as JSON (EgressConfigFile): for each agent with network =
// "egress", a proxy port with the agent's allowlist, and a relay port
// when the relay holds its credential. It names secrets, never holds
// them: the egress pod reads them from the Secret, in its environment.
type EgressConfig struct {
	Agents []EgressAgent `json:"agents"`
}

// EgressAgent is one agent's share of the egress Deployment.
type EgressAgent struct {
	Agent     string `json:"agent"`
	ProxyPort int32  `json:"proxy_port"`
	// Egress and EgressPrivate are the agent's checked rules
	// (policy.Container's).
	Egress        []string `json:"egress"`
	EgressPrivate []string `json:"egress_private,omitempty"`
	// RelayPort is where the relay listens for the agent, 0 for none.
	RelayPort int32 `json:"relay_port,omitempty"`
	// Env and SecretEnv are the relay's credential and API address
	// (policy's credential variables) as the agent holds them: plain
	// values, and templates of the env file's variables
	// (policy.SecretTemplate) that the egress pod expands from its own
	// environment.
	Env       map[string]string `json:"env,omitempty"`
	SecretEnv map[string]string `json:"secret_env,omitempty"`
	// JobBudgetUSD is the agent's max_cost_usd_per_job (0: none), which
	// the relay meters by pod; JobSeconds is its longest job's deadline,
	// how long a pod's meter lasts.
	JobBudgetUSD float64 `json:"job_budget_usd,omitempty"`
	JobSeconds   int64   `json:"job_seconds,omitempty"`
}

// FirstEgressPort is the first agent's proxy port on the egress pod; its
// relay's is the next, and each agent after takes the next two.
const FirstEgressPort = policy.ProxyPort

type egressPorts struct{ proxy, relay int32 }

// egressPlan is the egress Deployment's share of the export: nil when no
// agent has network = "egress".
type egressPlan struct {
	config EgressConfig
	ports  map[string]egressPorts
	// out are the ports the egress pod may connect to: those of the
	// agents' rules and of the relay's API address.
	out []int32
}

func (r *renderer) egressPlan(plans []*agentPlan) *egressPlan {
	eg := &egressPlan{ports: map[string]egressPorts{}}
	out := map[int32]bool{}
	port := int32(FirstEgressPort)
	for _, p := range plans {
		a := p.agent
		if a.Container.Network != policy.NetworkEgress {
			continue
		}
		ea := EgressAgent{Agent: a.Name, ProxyPort: port, Egress: a.Container.Egress, EgressPrivate: a.Container.EgressPrivate}
		ports := egressPorts{proxy: port}
		for _, s := range a.Container.Egress {
			if rule, err := egress.ParseRule(s); err == nil {
				out[int32(rule.Port)] = true
			}
		}
		if policy.UsesRelay(a) {
			ea.RelayPort, ports.relay = port+1, port+1
			for _, k := range policy.CredentialVars {
				if v, ok := a.Container.Env[k]; ok {
					if ea.Env == nil {
						ea.Env = map[string]string{}
					}
					ea.Env[k] = v
				}
				if t, ok := a.Container.SecretEnv[k]; ok {
					if ea.SecretEnv == nil {
						ea.SecretEnv = map[string]string{}
					}
					ea.SecretEnv[k] = t
				}
			}
			out[r.apiPort(a)] = true
			ea.JobBudgetUSD = a.Budget.PerJob
			for _, sc := range a.Schedules {
				ea.JobSeconds = max(ea.JobSeconds, deadlineSeconds(sc))
			}
		}
		port += 2
		eg.ports[a.Name] = ports
		eg.config.Agents = append(eg.config.Agents, ea)
	}
	if len(eg.config.Agents) == 0 {
		return nil
	}
	for p := range out {
		eg.out = append(eg.out, p)
	}
	sort.Slice(eg.out, func(i, j int) bool { return eg.out[i] < eg.out[j] })
	return eg
}

// apiPort is the port of the API the relay forwards a's requests to.
func (r *renderer) apiPort(a *policy.Agent) int32 {
	base, ok := a.Container.Env[policy.EnvBaseURL]
	if _, secret := a.Container.SecretEnv[policy.EnvBaseURL]; secret {
		r.note("agent %q: %s holds a secret, so its port is unknown here: the egress NetworkPolicy allows 443 for it", a.Name, policy.EnvBaseURL)
		return 443
	}
	if !ok {
		base = policy.DefaultAPIURL
	}
	u, err := url.Parse(base)
	if err != nil {
		return 443
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return int32(p)
	}
	if u.Scheme == "http" {
		return 80
	}
	return 443
}

func egressLabels() map[string]string { return baseLabels(ComponentEgress) }

// egressUID is the egress pod's user: it holds the credentials, so it is
// nobody else's.
const egressUID = 65532

// egressObjects are the egress Deployment, its ConfigMap, its Service and
// its NetworkPolicy.
func (r *renderer) egressObjects(eg *egressPlan) []Object {
	cfg, _ := json.MarshalIndent(eg.config, "", "  ")
	labels := egressLabels()
	var svcPorts []ServicePort
	var ctrPorts []ContainerPort
	var in []NetworkPolicyRule
	for i, a := range eg.config.Agents {
		ports := []NetworkPolicyPort{{Protocol: "TCP", Port: a.ProxyPort}}
		n := strconv.Itoa(i)
		svcPorts = append(svcPorts, ServicePort{Name: "proxy-" + n, Port: a.ProxyPort, TargetPort: a.ProxyPort, Protocol: "TCP"})
		ctrPorts = append(ctrPorts, ContainerPort{Name: "proxy-" + n, ContainerPort: a.ProxyPort, Protocol: "TCP"})
		if a.RelayPort != 0 {
			ports = append(ports, NetworkPolicyPort{Protocol: "TCP", Port: a.RelayPort})
			svcPorts = append(svcPorts, ServicePort{Name: "relay-" + n, Port: a.RelayPort, TargetPort: a.RelayPort, Protocol: "TCP"})
			ctrPorts = append(ctrPorts, ContainerPort{Name: "relay-" + n, ContainerPort: a.RelayPort, Protocol: "TCP"})
		}
		in = append(in, NetworkPolicyRule{From: []NetworkPolicyPeer{{PodSelector: &LabelSelector{MatchLabels: agentLabels(a.Agent)}}}, Ports: ports})
	}
	var outPorts []NetworkPolicyPort
	for _, p := range eg.out {
		outPorts = append(outPorts, NetworkPolicyPort{Protocol: "TCP", Port: p})
	}
	var reach []NetworkPolicyPeer
	for _, b := range egress.Reachable() {
		blk := &IPBlock{CIDR: b.CIDR.String()}
		for _, e := range b.Except {
			blk.Except = append(blk.Except, e.String())
		}
		reach = append(reach, NetworkPolicyPeer{IPBlock: blk})
	}
	out := []NetworkPolicyRule{dnsRule(), {To: reach, Ports: outPorts}}
	private := map[string]bool{}
	for _, a := range eg.config.Agents {
		for _, p := range a.EgressPrivate {
			private[p] = true
		}
	}
	if len(private) > 0 {
		var peers []NetworkPolicyPeer
		for _, p := range sortedKeys(private) {
			peers = append(peers, NetworkPolicyPeer{IPBlock: &IPBlock{CIDR: p}})
		}
		out = append(out, NetworkPolicyRule{To: peers, Ports: outPorts})
	}
	pod := PodSpec{
		RestartPolicy:                "Always",
		AutomountServiceAccountToken: false,
		EnableServiceLinks:           false,
		SecurityContext:              podSecurity(egressUID, egressUID),
		Containers: []Container{{
			Name:            "egress",
			Image:           r.opts.Image,
			ImagePullPolicy: "IfNotPresent",
			Command:         []string{r.opts.Runner, "egress", "--config=" + EgressConfigFile},
			Env:             r.egressEnv(eg),
			Ports:           ctrPorts,
			Resources: ResourceRequirements{
				Limits:   map[string]string{"memory": "256Mi", "cpu": "500m", "ephemeral-storage": "64Mi"},
				Requests: map[string]string{"memory": "64Mi", "cpu": "50m", "ephemeral-storage": "64Mi"},
			},
			SecurityContext: restricted(egressUID, egressUID),
			VolumeMounts: []VolumeMount{
				{Name: "config", MountPath: path.Dir(EgressConfigFile), ReadOnly: true},
				{Name: "tmp", MountPath: "/tmp"},
			},
		}},
		Volumes: []Volume{
			{Name: "config", ConfigMap: &ConfigMapVolumeSource{Name: EgressName}},
			{Name: "tmp", EmptyDir: &EmptyDirVolumeSource{Medium: "Memory", SizeLimit: "16Mi"}},
		},
	}
	return []Object{
		{APIVersion: "v1", Kind: "ConfigMap", Metadata: r.meta(EgressName, labels),
			Data: map[string]string{"egress.json": string(cfg) + "\n"}},
		{APIVersion: "v1", Kind: "Service", Metadata: r.meta(EgressName, labels),
			Spec: ServiceSpec{Type: "ClusterIP", Selector: labels, Ports: svcPorts}},
		{APIVersion: "apps/v1", Kind: "Deployment", Metadata: r.meta(EgressName, labels),
			Spec: DeploymentSpec{Replicas: 1, Selector: LabelSelector{MatchLabels: labels}, Strategy: DeploymentStrategy{Type: "Recreate"},
				Template: PodTemplateSpec{Metadata: Meta{Labels: labels}, Spec: pod}}},
		{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Metadata: r.meta(EgressName, labels),
			Spec: NetworkPolicySpec{PodSelector: LabelSelector{MatchLabels: labels}, PolicyTypes: []string{"Ingress", "Egress"}, Ingress: in, Egress: out}},
	}
}

// egressEnv is what the egress pod takes from the Secret: the env file's
// variables the relays' credentials name, each by reference, and nothing
// else. The whole Secret (envFrom) gave the pod that every agent's
// traffic passes through every token of the env file: chat bots', hooks',
// and the variables of agents' docker.env it has no use for.
func (r *renderer) egressEnv(eg *egressPlan) []EnvVar {
	names := map[string]bool{}
	for _, a := range eg.config.Agents {
		for _, t := range a.SecretEnv {
			_, refs := secretRefs(t)
			for _, n := range refs {
				names[n] = true
			}
		}
	}
	var env []EnvVar
	for _, n := range sortedKeys(names) {
		env = append(env, r.secretVar(n, n))
	}
	return env
}

// dnsRule lets the egress pod ask the cluster's DNS (kube-dns, as most
// clusters label it) to resolve the names it proxies.
func dnsRule() NetworkPolicyRule {
	return NetworkPolicyRule{
		To: []NetworkPolicyPeer{{
			NamespaceSelector: &LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
			PodSelector:       &LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
		}},
		Ports: []NetworkPolicyPort{{Protocol: "UDP", Port: 53}, {Protocol: "TCP", Port: 53}},
	}
}

// agentPolicy is the NetworkPolicy of an agent's pods: nothing in, and
// out nothing ("none") or only its own ports of the egress pod.
func (r *renderer) agentPolicy(p *agentPlan, eg *egressPlan) Object {
	a := p.agent
	spec := NetworkPolicySpec{
		PodSelector: LabelSelector{MatchLabels: agentLabels(a.Name)},
		PolicyTypes: []string{"Ingress", "Egress"},
		Ingress:     []NetworkPolicyRule{},
		Egress:      []NetworkPolicyRule{},
	}
	if a.Container.Network == policy.NetworkEgress {
		ports := eg.ports[a.Name]
		np := []NetworkPolicyPort{{Protocol: "TCP", Port: ports.proxy}}
		if ports.relay != 0 {
			np = append(np, NetworkPolicyPort{Protocol: "TCP", Port: ports.relay})
		}
		spec.Egress = []NetworkPolicyRule{{To: []NetworkPolicyPeer{{PodSelector: &LabelSelector{MatchLabels: egressLabels()}}}, Ports: np}}
	}
	return Object{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy",
		Metadata: r.meta(AgentPolicyName(a.Name), agentLabels(a.Name)), Spec: spec}
}

// namespace is the export's namespace, at Pod Security "restricted".
func (r *renderer) namespace() Object {
	labels := baseLabels("fleet")
	for _, mode := range []string{"enforce", "audit", "warn"} {
		labels["pod-security.kubernetes.io/"+mode] = "restricted"
		labels["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	return Object{APIVersion: "v1", Kind: "Namespace", Metadata: Meta{Name: r.opts.Namespace, Labels: labels}}
}

// homeClaim is the PersistentVolumeClaim of an agent's home, the size of
// its disk limit.
func (r *renderer) homeClaim(p *agentPlan) Object {
	a := p.agent
	return Object{APIVersion: "v1", Kind: "PersistentVolumeClaim", Metadata: r.meta(HomeClaimName(a.Name), agentLabels(a.Name)),
		Spec: PVCSpec{AccessModes: []string{"ReadWriteOnce"},
			Resources: VolumeResourceRequirements{Requests: map[string]string{"storage": quantity(a.Container.DiskBytes)}}}}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package kube

import (
	"regexp"
	"strings"
)

// Defaults of the export's options.
const (
	// DefaultNamespace is the namespace the objects go to.
	DefaultNamespace = "herdctl"
	// DefaultSecret is the Secret the pods take the fleet's env file
	// from (kubectl create secret generic herdctl-env --from-env-file).
	DefaultSecret = "herdctl-env"
	// DefaultImageRepo is the image --image names by default, tagged with
	// herdctl's version (packaging/kubernetes/Containerfile builds it).
	DefaultImageRepo = "localhost/herdctl"
)

// Labels the export puts on its objects and pods.
const (
	LabelName      = "app.kubernetes.io/name" // always "herdctl"
	LabelComponent = "app.kubernetes.io/component"
	LabelAgent     = "herdctl.dev/agent"
	LabelSchedule  = "herdctl.dev/schedule"

	ComponentAgent  = "agent"
	ComponentEgress = "egress"
)

// EgressName names the egress Deployment, its Service, ConfigMap and
// NetworkPolicy. The agents find the Service through the variables
// Kubernetes sets for it (EgressHostVar), so that they need no DNS.
const EgressName = "herdctl-egress"

// EgressHostVar is the variable Kubernetes gives every pod started after
// the Service EgressName exists: the Service's cluster IP.
const EgressHostVar = "HERDCTL_EGRESS_SERVICE_HOST"

// EgressConfigFile is where the egress pod reads its EgressConfig.
const EgressConfigFile = "/etc/herdctl/egress/egress.json"

// Limits of Kubernetes names: a CronJob's name leaves room for the
// suffix of its Jobs' names.
const (
	maxName        = 63
	maxCronJobName = 52
)

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

var labelValue = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)

// objectName is "herdctl-" and parts joined by "-", in lower case with
// "_" written "-"; ok is false when that is no DNS label of at most max
// characters.
func objectName(max int, parts ...string) (string, bool) {
	n := "herdctl-" + strings.ToLower(strings.ReplaceAll(strings.Join(parts, "-"), "_", "-"))
	return n, len(n) <= max && dnsLabel.MatchString(n)
}

// CronJobName is the CronJob of an agent's schedule.
func CronJobName(agent, schedule string) string {
	n, _ := objectName(maxCronJobName, agent, schedule)
	return n
}

// AgentPolicyName is the NetworkPolicy of an agent's pods.
func AgentPolicyName(agent string) string {
	n, _ := objectName(maxName, agent)
	return n
}

// HomeClaimName is the PersistentVolumeClaim of an agent's home.
func HomeClaimName(agent string) string {
	n, _ := objectName(maxName, agent, "home")
	return n
}

func baseLabels(component string) map[string]string {
	return map[string]string{LabelName: "herdctl", LabelComponent: component}
}

// agentLabels select an agent's pods (and its NetworkPolicy's).
func agentLabels(agent string) map[string]string {
	l := baseLabels(ComponentAgent)
	l[LabelAgent] = agent
	return l
}

func with(m map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

package kube

// The Kubernetes API objects the export writes, with only the fields it
// sets. Field names and JSON tags are the API's (k8s.io/api, v1.37).

// Object is one API object. Exactly one of its bodies is set.
type Object struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   Meta              `json:"metadata"`
	Spec       any               `json:"spec,omitempty"`
	Data       map[string]string `json:"data,omitempty"`
}

// Meta is ObjectMeta.
type Meta struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// CronJobSpec is batch/v1 CronJobSpec.
type CronJobSpec struct {
	Schedule                   string          `json:"schedule"`
	TimeZone                   string          `json:"timeZone,omitempty"`
	StartingDeadlineSeconds    *int64          `json:"startingDeadlineSeconds,omitempty"`
	ConcurrencyPolicy          string          `json:"concurrencyPolicy"`
	Suspend                    bool            `json:"suspend"`
	JobTemplate                JobTemplateSpec `json:"jobTemplate"`
	SuccessfulJobsHistoryLimit int32           `json:"successfulJobsHistoryLimit"`
	FailedJobsHistoryLimit     int32           `json:"failedJobsHistoryLimit"`
}

// JobTemplateSpec is batch/v1 JobTemplateSpec.
type JobTemplateSpec struct {
	Metadata Meta    `json:"metadata"`
	Spec     JobSpec `json:"spec"`
}

// JobSpec is batch/v1 JobSpec.
type JobSpec struct {
	ActiveDeadlineSeconds *int64          `json:"activeDeadlineSeconds,omitempty"`
	BackoffLimit          int32           `json:"backoffLimit"`
	Template              PodTemplateSpec `json:"template"`
}

// PodTemplateSpec is v1 PodTemplateSpec.
type PodTemplateSpec struct {
	Metadata Meta    `json:"metadata"`
	Spec     PodSpec `json:"spec"`
}

// PodSpec is v1 PodSpec.
type PodSpec struct {
	RestartPolicy                 string              `json:"restartPolicy"`
	AutomountServiceAccountToken  bool                `json:"automountServiceAccountToken"`
	EnableServiceLinks            bool                `json:"enableServiceLinks"`
	HostNetwork                   bool                `json:"hostNetwork"`
	HostPID                       bool                `json:"hostPID"`
	HostIPC                       bool                `json:"hostIPC"`
	Hostname                      string              `json:"hostname,omitempty"`
	TerminationGracePeriodSeconds *int64              `json:"terminationGracePeriodSeconds,omitempty"`
	SecurityContext               *PodSecurityContext `json:"securityContext"`
	Containers                    []Container         `json:"containers"`
	Volumes                       []Volume            `json:"volumes,omitempty"`
}

// PodSecurityContext is v1 PodSecurityContext.
type PodSecurityContext struct {
	RunAsNonRoot   bool            `json:"runAsNonRoot"`
	RunAsUser      int64           `json:"runAsUser"`
	RunAsGroup     int64           `json:"runAsGroup"`
	FSGroup        *int64          `json:"fsGroup,omitempty"`
	SeccompProfile *SeccompProfile `json:"seccompProfile"`
}

// SeccompProfile is v1 SeccompProfile.
type SeccompProfile struct {
	Type string `json:"type"`
}

// Container is v1 Container.
type Container struct {
	Name            string               `json:"name"`
	Image           string               `json:"image"`
	ImagePullPolicy string               `json:"imagePullPolicy,omitempty"`
	Command         []string             `json:"command"`
	WorkingDir      string               `json:"workingDir,omitempty"`
	Env             []EnvVar             `json:"env,omitempty"`
	EnvFrom         []EnvFromSource      `json:"envFrom,omitempty"`
	Ports           []ContainerPort      `json:"ports,omitempty"`
	Resources       ResourceRequirements `json:"resources"`
	SecurityContext *SecurityContext     `json:"securityContext"`
	VolumeMounts    []VolumeMount        `json:"volumeMounts,omitempty"`
}

// ContainerPort is v1 ContainerPort.
type ContainerPort struct {
	Name          string `json:"name,omitempty"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`
}

// EnvVar is v1 EnvVar.
type EnvVar struct {
	Name      string        `json:"name"`
	Value     string        `json:"value,omitempty"`
	ValueFrom *EnvVarSource `json:"valueFrom,omitempty"`
}

// EnvVarSource is v1 EnvVarSource.
type EnvVarSource struct {
	SecretKeyRef *KeySelector   `json:"secretKeyRef,omitempty"`
	FieldRef     *FieldSelector `json:"fieldRef,omitempty"`
}

// KeySelector is v1 SecretKeySelector.
type KeySelector struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Optional *bool  `json:"optional,omitempty"`
}

// FieldSelector is v1 ObjectFieldSelector.
type FieldSelector struct {
	FieldPath string `json:"fieldPath"`
}

// ResourceRequirements is v1 ResourceRequirements; quantities are
// written by quantity.
type ResourceRequirements struct {
	Limits   map[string]string `json:"limits,omitempty"`
	Requests map[string]string `json:"requests,omitempty"`
}

// SecurityContext is v1 SecurityContext.
type SecurityContext struct {
	RunAsNonRoot             bool            `json:"runAsNonRoot"`
	RunAsUser                int64           `json:"runAsUser"`
	RunAsGroup               int64           `json:"runAsGroup"`
	Privileged               bool            `json:"privileged"`
	AllowPrivilegeEscalation bool            `json:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   bool            `json:"readOnlyRootFilesystem"`
	Capabilities             *Capabilities   `json:"capabilities"`
	SeccompProfile           *SeccompProfile `json:"seccompProfile"`
}

// Capabilities is v1 Capabilities.
type Capabilities struct {
	Drop []string `json:"drop"`
}

// VolumeMount is v1 VolumeMount.
type VolumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
}

// Volume is v1 Volume, with the sources the export uses.
type Volume struct {
	Name                  string                 `json:"name"`
	EmptyDir              *EmptyDirVolumeSource  `json:"emptyDir,omitempty"`
	PersistentVolumeClaim *PVCVolumeSource       `json:"persistentVolumeClaim,omitempty"`
	ConfigMap             *ConfigMapVolumeSource `json:"configMap,omitempty"`
}

// EmptyDirVolumeSource is v1 EmptyDirVolumeSource.
type EmptyDirVolumeSource struct {
	Medium    string `json:"medium,omitempty"`
	SizeLimit string `json:"sizeLimit,omitempty"`
}

// PVCVolumeSource is v1 PersistentVolumeClaimVolumeSource.
type PVCVolumeSource struct {
	ClaimName string `json:"claimName"`
}

// ConfigMapVolumeSource is v1 ConfigMapVolumeSource.
type ConfigMapVolumeSource struct {
	Name string `json:"name"`
}

// PVCSpec is v1 PersistentVolumeClaimSpec.
type PVCSpec struct {
	AccessModes []string                   `json:"accessModes"`
	Resources   VolumeResourceRequirements `json:"resources"`
}

// VolumeResourceRequirements is v1 VolumeResourceRequirements.
type VolumeResourceRequirements struct {
	Requests map[string]string `json:"requests"`
}

// DeploymentSpec is apps/v1 DeploymentSpec.
type DeploymentSpec struct {
	Replicas int32              `json:"replicas"`
	Selector LabelSelector      `json:"selector"`
	Strategy DeploymentStrategy `json:"strategy"`
	Template PodTemplateSpec    `json:"template"`
}

// DeploymentStrategy is apps/v1 DeploymentStrategy.
type DeploymentStrategy struct {
	Type string `json:"type"`
}

// LabelSelector is meta/v1 LabelSelector.
type LabelSelector struct {
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

// ServiceSpec is v1 ServiceSpec.
type ServiceSpec struct {
	Type     string            `json:"type"`
	Selector map[string]string `json:"selector"`
	Ports    []ServicePort     `json:"ports"`
}

// ServicePort is v1 ServicePort.
type ServicePort struct {
	Name       string `json:"name"`
	Port       int32  `json:"port"`
	TargetPort int32  `json:"targetPort"`
	Protocol   string `json:"protocol"`
}

// NetworkPolicySpec is networking/v1 NetworkPolicySpec. Egress and
// Ingress are written even when empty: an empty list with its policy
// type allows nothing.
type NetworkPolicySpec struct {
	PodSelector LabelSelector       `json:"podSelector"`
	PolicyTypes []string            `json:"policyTypes"`
	Ingress     []NetworkPolicyRule `json:"ingress"`
	Egress      []NetworkPolicyRule `json:"egress"`
}

// NetworkPolicyRule is networking/v1 NetworkPolicyIngressRule (From) or
// NetworkPolicyEgressRule (To).
type NetworkPolicyRule struct {
	From  []NetworkPolicyPeer `json:"from,omitempty"`
	To    []NetworkPolicyPeer `json:"to,omitempty"`
	Ports []NetworkPolicyPort `json:"ports,omitempty"`
}

// NetworkPolicyPeer is networking/v1 NetworkPolicyPeer.
type NetworkPolicyPeer struct {
	PodSelector       *LabelSelector `json:"podSelector,omitempty"`
	NamespaceSelector *LabelSelector `json:"namespaceSelector,omitempty"`
	IPBlock           *IPBlock       `json:"ipBlock,omitempty"`
}

// IPBlock is networking/v1 IPBlock.
type IPBlock struct {
	CIDR   string   `json:"cidr"`
	Except []string `json:"except,omitempty"`
}

// NetworkPolicyPort is networking/v1 NetworkPolicyPort.
type NetworkPolicyPort struct {
	Protocol string `json:"protocol"`
	Port     int32  `json:"port"`
}

// EnvFromSource is v1 EnvFromSource.
type EnvFromSource struct {
	SecretRef *SecretEnvSource `json:"secretRef,omitempty"`
}

// SecretEnvSource is v1 SecretEnvSource.
type SecretEnvSource struct {
	Name string `json:"name"`
}

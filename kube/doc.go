// Package kube renders a validated fleet as Kubernetes objects: the
// Kubernetes form of what package units renders for systemd on one host.
// It owns the mapping of herdctl's facts onto Kubernetes' (one CronJob per
// schedule, a pod at Pod Security level "restricted", a NetworkPolicy per
// agent, the egress Deployment and its configuration, a PersistentVolumeClaim
// for a home that must outlive its job) and the objects' names and labels.
//
// It takes the same resolved agents from package policy as units does and
// asks the same owners for every fact: Claude Code's command line and
// environment (policy/claudecli), a schedule's cron form (config), the
// addresses egress may reach (policy/egress), the runner's path (units).
// It is pure: agents and options in, objects out, deterministic, so every
// export is golden-tested. The objects are small structs of our own with
// the Kubernetes API's field names: the k8s.io/api module is not linked.
//
// What has no Kubernetes form is returned as a note (the command prints
// it on stderr); what cannot be exported without weakening the agent's
// confinement (network = "host", a schedule no cron expression fires at
// exactly) is refused with the agent, the field and what to do.
package kube

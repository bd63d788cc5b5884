// Package claudecli owns what a job runs inside its container, wherever
// the container runs: Claude Code's command line, the paths inside the
// container (the claude binary, the agent's home; the workspace is
// policy.WorkspaceDir) and the job's environment. It is pure and links no
// containerd code, so the runner's OCI spec (package policy/spec) and the
// Kubernetes export (package kube) build the same process from the same
// resolved agent.
package claudecli

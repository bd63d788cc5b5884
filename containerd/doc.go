// Package containerd is herdctl's only door to containerd (the v1.7
// client): it prepares the built-in host image, pulls and imports OCI
// images, creates a job's container and task from a spec built by package
// policy, streams the task's output, stops it, and removes containers,
// tasks and snapshots idempotently. Every containerd import of herdctl's
// client side stays in this package, so a move to the v2 client touches
// one place.
package containerd

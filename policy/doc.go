// Package policy decides what an agent may have. It enforces the two
// tiers (what an agent file may set, what only the fleet file may), refuses
// dangerous workspaces, applies floors, ceilings and defaults, and turns an
// effective agent configuration into a resolved Agent: the complete,
// explicit job description the daemon renders units from and the runner
// builds a container from. It also builds that container's OCI spec.
//
// policy reads configuration from package config and never talks to
// containerd, systemd or D-Bus.
package policy

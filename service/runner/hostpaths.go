package runner

import (
	"fmt"

	"github.com/herdctl/herdctl/internal/safepath"
	"github.com/herdctl/herdctl/policy"
)

// bindHostPaths opens the agent's workspace and the fleet's volumes the
// way the daemon resolved them (no symbolic link but root's own in root's
// directories), checks that they are still what the snapshot says (the
// same canonical path; for the workspace, the owner the job runs as), and
// binds each under the job's scratch directory. It returns the bound
// workspace and volume sources for the spec. An agent that swapped a
// component for a link, or moved another user's directory in, between the
// reload and now, gets a failed job with the reason, not that directory.
func bindHostPaths(sc *scratch, a *policy.Agent) (workspace string, volumes []string, err error) {
	h, err := safepath.OpenDir(a.Workspace)
	if err != nil {
		return "", nil, fmt.Errorf("workspace: %w", err)
	}
	defer h.Close()
	if h.Path != a.Workspace {
		return "", nil, fmt.Errorf("workspace %s now leads to %s: run systemctl reload herdctl if that is meant", a.Workspace, h.Path)
	}
	if a.Container.UserFromWorkspace && (h.UID() != a.Container.UID || h.GID() != a.Container.GID) {
		return "", nil, fmt.Errorf("workspace %s now belongs to %d:%d, not %d:%d as when the fleet was loaded: the job would run as its owner; chown it back, or run systemctl reload herdctl if the change is meant",
			a.Workspace, h.UID(), h.GID(), a.Container.UID, a.Container.GID)
	}
	if workspace, err = sc.bind(h, "workspace"); err != nil {
		return "", nil, err
	}
	for i, v := range a.Container.Volumes {
		vh, err := safepath.Resolve(v.Source)
		if err != nil {
			return "", nil, fmt.Errorf("volume %s: %w", v.Source, err)
		}
		if !vh.IsDir() && !vh.IsRegular() {
			vh.Close()
			return "", nil, fmt.Errorf("volume %s is neither a directory nor a file", v.Source)
		}
		src, err := sc.bind(vh, fmt.Sprintf("volume-%d", i))
		vh.Close()
		if err != nil {
			return "", nil, err
		}
		volumes = append(volumes, src)
	}
	return workspace, volumes, nil
}

package runner

import (
	"fmt"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/internal/safepath"
	"github.com/herdctl/herdctl/policy"
	"github.com/herdctl/herdctl/state"
)

// maxEnvFile bounds the env file read for a job's secrets.
const maxEnvFile = 1 << 20

// openSecrets returns a with its container's whole environment: the
// sealed variables expanded from the env file systemd loaded as the job's
// credential. A runner started outside a job unit (herdctl job run, as
// root) reads the env file itself, only when root owns it.
func (r *Runner) openSecrets(a *policy.Agent) (*policy.Agent, error) {
	if len(a.Container.SecretEnv) == 0 {
		return a, nil
	}
	env, ok, err := state.ReadCredentialEnv()
	if err != nil {
		return nil, fmt.Errorf("the job's credential %s: %w", state.CredentialEnvFile, err)
	}
	if !ok {
		b, err := safepath.ReadFile(a.Container.EnvFile, maxEnvFile, safepath.ReadOptions{Owners: []uint32{0}})
		if err != nil {
			return nil, fmt.Errorf("the agent's secrets: the job's unit loaded no env file, and %s cannot be read: %w; run systemctl reload herdctl", a.Container.EnvFile, err)
		}
		if env, err = config.ParseEnvFile(a.Container.EnvFile, b); err != nil {
			return nil, err
		}
	}
	open, err := a.Container.OpenSecrets(env)
	if err != nil {
		return nil, fmt.Errorf("the agent's environment: %w", err)
	}
	c := *a
	c.Container.Env, c.Container.SecretEnv = open, nil
	return &c, nil
}

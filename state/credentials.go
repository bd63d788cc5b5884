package state

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/herdctl/herdctl/config"
)

// CredentialEnvFile is the name of the systemd credential a job unit
// loads from the fleet's env file (LoadCredential=herdctl.env:PATH): the
// runner reads the job's secrets there, in $CREDENTIALS_DIRECTORY, and
// nowhere else. The secrets are never in a unit, a snapshot or a record.
const CredentialEnvFile = "herdctl.env"

// ReadCredentialEnv reads the env file systemd loaded for the job, or
// ok = false when the job's unit loaded none ($CREDENTIALS_DIRECTORY
// unset).
func ReadCredentialEnv() (env map[string]string, ok bool, err error) {
	dir := os.Getenv("CREDENTIALS_DIRECTORY")
	if dir == "" {
		return nil, false, nil
	}
	p := filepath.Join(dir, CredentialEnvFile)
	b, err := ReadFileCapped(p, 1<<20)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	env, err = config.ParseEnvFile(p, b)
	return env, err == nil, err
}

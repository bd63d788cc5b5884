package api

import (
	"errors"

	"github.com/herdctl/herdctl/config"
)

// ConfigErrorsOf lists the errors of a configuration as the API (and
// herdctlctl --json) carries them.
func ConfigErrorsOf(err error) []ConfigError {
	var ce config.Errors
	if !errors.As(err, &ce) {
		return []ConfigError{{Message: err.Error()}}
	}
	out := make([]ConfigError, len(ce))
	for i, e := range ce {
		out[i] = ConfigError{File: e.File, Line: e.Line, Column: e.Col, Field: e.Field, Message: e.Msg}
	}
	return out
}

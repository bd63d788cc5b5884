package main

import (
	"flag"

	"github.com/herdctl/herdctl/state"
)

// layoutFlags adds --state-dir and --runtime-dir.
func layoutFlags(fs *flag.FlagSet) *state.Layout {
	l := state.Default()
	fs.StringVar(&l.StateDir, "state-dir", l.StateDir, "herdctl's state directory")
	fs.StringVar(&l.RuntimeDir, "runtime-dir", l.RuntimeDir, "herdctl's runtime directory")
	return &l
}

// Package state owns what herdctl's daemon and its job runner share on
// disk, and nothing else: the layout of every path under the state and
// runtime directories, the versioned snapshot of a resolved agent that the
// daemon writes for the runner, job records and job ids, prompt files, and
// the journal fields and message ids jobs are logged with.
//
// The daemon (package service/daemon) and the runner (package
// service/runner) import this package and never each other.
package state

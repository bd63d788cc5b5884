// Package hook owns what a hook is told and what it answers: which of an
// agent's hooks a job's outcome selects, the JSON every hook receives on
// its stdin (or as a webhook's body), the signature of that body, and the
// settings and result that pass between the daemon and a webhook's unit.
// It is pure: the daemon (package service/daemon) starts hook units,
// package units renders them, and package hook/webhook sends a webhook.
//
// What an agent controls (its result, the prompt of its job, its error)
// is in the JSON and nowhere else: never in a hook's arguments, its
// environment or its unit.
package hook

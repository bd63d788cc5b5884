// Package bridge is the chat bridge's core, free of any chat library: it
// decides which messages its connectors receive are for an agent (the
// fleet's allowlists), turns them into manual jobs over the daemon's
// D-Bus API (each conversation continuing its session until it expires),
// answers its commands (help, status, new, retry, usage, cancel,
// sessions) itself, keeps a typing indicator up while a job runs, posts
// the job's answer as a reply (split at the platform's limit)
// or its failure as one line, and keeps the replies it owes and the
// conversations' sessions on disk so a restart loses none.
//
// The platforms are behind Connector (packages chat/discord and
// chat/slack), the daemon behind Daemon (package chat/manager): both are
// defined here, where they are used, and faked in the tests.
package bridge

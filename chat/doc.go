// Package chat owns the contract between herdctl's daemon and its chat
// bridge, herdctl-chat.service: the chat snapshot the daemon writes (every
// agent's bots with their tokens, root-only, under /run/herdctl), how the
// bridge receives it (as a systemd credential, LoadCredential=, so that
// only root and the bridge's own user ever read it), the names both
// sides and the packaging use, and how a chat message's attachments pass
// from the bridge to the job's runner (a stage in the bridge's state
// directory, its name, the limits and the files' names).
//
// It links no chat library, so the daemon may import it. The bridge is
// in the packages below: bridge (routing, commands, jobs, replies),
// text (splitting and escaping), discord and slack (the connectors),
// manager (the daemon's D-Bus API as the bridge uses it) and journal
// (its log entries).
package chat

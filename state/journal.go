package state

// Journal fields every job entry carries (journalctl HERDCTL_AGENT=x).
const (
	FieldAgent     = "HERDCTL_AGENT"
	FieldSchedule  = "HERDCTL_SCHEDULE"
	FieldJob       = "HERDCTL_JOB"
	FieldEvent     = "HERDCTL_EVENT"
	FieldSession   = "HERDCTL_SESSION"
	FieldTool      = "HERDCTL_TOOL"
	FieldEventJSON = "HERDCTL_EVENT_JSON"
)

// JournalNamespace is the journald namespace jobs log into (journalctl
// --namespace=herdctl): systemd-journald@herdctl has its own files and
// its own size cap, so no agent can push the host's own logs out of the
// main journal. The daemon, hooks and the chat bridge log to the main one.
const JournalNamespace = "herdctl"

// JournalctlArgs are what every reading of job entries with journalctl
// starts with (herdctlctl's own, and the daemon's for ReadJournal): the
// jobs' namespace interleaved with the main journal ("+", so the daemon's
// own entries about a job or agent come too), JSON, and --all, without
// which journalctl writes null for a field over 4096 bytes (an agent's
// long answer).
func JournalctlArgs() []string {
	return []string{"--namespace=+" + JournalNamespace, "--no-pager", "--all", "-o", "json"}
}

// Message ids of the job start and end journal entries, fixed forever so
// journalctl MESSAGE_ID=... finds every job's start or end.
const (
	MessageIDJobStarted  = "9c77dc1366b04445a3eaf9b0894597be"
	MessageIDJobFinished = "c3b0c14f1866495db55712de35793412"
)

// Journal fields of hooks: the daemon's entry for each hook's result, and
// every line a hook's unit logs (LogExtraFields=), carry FieldHook with
// the hook's name ("on_error[0]") beside FieldJob and FieldAgent.
const (
	FieldHook           = "HERDCTL_HOOK"
	FieldHookType       = "HERDCTL_HOOK_TYPE"
	FieldHookStatus     = "HERDCTL_HOOK_STATUS"
	FieldHookReason     = "HERDCTL_HOOK_REASON"
	FieldHookDurationMS = "HERDCTL_HOOK_DURATION_MS"
	FieldHookHTTPStatus = "HERDCTL_HOOK_HTTP_STATUS"
	FieldHookAttempts   = "HERDCTL_HOOK_ATTEMPTS"
	FieldHookUnit       = "HERDCTL_HOOK_UNIT"
)

// JournalMatch is the journalctl match for the entries of a job (field
// FieldJob) or an agent (FieldAgent): only those written by root (the
// runner and the daemon), since any local user can log an entry with
// HERDCTL_JOB=ID and make a job's events or egress decisions say what it
// likes; and the output of the hook units named, which journald tags
// itself (their _SYSTEMD_UNIT is its own, not the writer's).
func JournalMatch(field, value string, hookUnits ...string) []string {
	m := []string{field + "=" + value, "_UID=0"}
	for _, u := range hookUnits {
		m = append(m, "+", field+"="+value, "_SYSTEMD_UNIT="+u)
	}
	return m
}

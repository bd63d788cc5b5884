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

// Message ids of the job start and end journal entries, fixed forever so
// journalctl MESSAGE_ID=... finds every job's start or end.
const (
	MessageIDJobStarted  = "9c77dc1366b04445a3eaf9b0894597be"
	MessageIDJobFinished = "c3b0c14f1866495db55712de35793412"
)

package api

import "context"

// JournalQuery asks ReadJournal for the journal entries of one job or
// one agent, as `journalctl HERDCTL_JOB=ID` or `HERDCTL_AGENT=NAME`
// would print them. It lets members of group herdctl read their fleet's
// logs without the rights to the whole journal (groups adm or
// systemd-journal).
type JournalQuery struct {
	// Job is a job id or a unique prefix of one; else Agent names the
	// agent (one left out of the fleet for errors in its file counts).
	Job   string `json:"job,omitempty"`
	Agent string `json:"agent,omitempty"`
	// AfterCursor continues after an entry (a page's Cursor); else Lines
	// asks for the last Lines entries (0: all).
	AfterCursor string `json:"after_cursor,omitempty"`
	Lines       int    `json:"lines,omitempty"`
}

// JournalPage is one answer of ReadJournal.
type JournalPage struct {
	// Entries are journal entries as `journalctl -o json --all` prints
	// them, one JSON object each, oldest first.
	Entries []string `json:"entries"`
	// Cursor is the last entry's cursor (the query's AfterCursor when
	// there were none): ask again after it for what came since.
	Cursor string `json:"cursor,omitempty"`
	// More says the page was cut at its size limit: ask again at once.
	More bool `json:"more,omitempty"`
}

// MethodReadJournal is the D-Bus method that serves JournalQuery.
const MethodReadJournal = "ReadJournal"

// ReadJournal calls ReadJournal.
func (c *Client) ReadJournal(ctx context.Context, q JournalQuery) (*JournalPage, error) {
	var p JournalPage
	return &p, c.get(ctx, MethodReadJournal, &p, Encode(q))
}

// Package journal is the chat bridge's logger: journald entries under
// SYSLOG_IDENTIFIER=herdctl-chat with each field a journal field (key
// "chat_agent" becomes HERDCTL_CHAT_AGENT, "job" HERDCTL_JOB, as the
// daemon's own entries do), as package journallog writes them.
package journal

import (
	"go.uber.org/zap"

	"github.com/herdctl/herdctl/internal/journallog"
)

// Identifier is the bridge's SYSLOG_IDENTIFIER.
const Identifier = "herdctl-chat"

// New is the bridge's logger.
func New() *zap.Logger { return journallog.New(Identifier) }

package daemon

import (
	"go.uber.org/zap"

	"github.com/herdctl/herdctl/internal/journallog"
)

// NewLogger is the daemon's logger: journald entries under
// SYSLOG_IDENTIFIER=herdctl with every zap field a journal field (key
// "agent" becomes HERDCTL_AGENT, so journalctl HERDCTL_AGENT=x shows the
// daemon's entries about x beside the jobs'), as package journallog
// writes them.
func NewLogger() *zap.Logger { return journallog.New("herdctl") }

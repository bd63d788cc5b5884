package units

import (
	"strings"

	sd "github.com/coreos/go-systemd/v22/dbus"

	"github.com/herdctl/herdctl/state"
)

// PruneTimer and PruneService are the packaged units that run herdctlctl
// prune once a day; herdctl.service wants the timer.
const (
	PruneTimer   = "herdctl-prune.timer"
	PruneService = "herdctl-prune.service"
)

// TranscriptPruneUnit is the transient unit that removes old Claude Code
// transcripts from the agents' homes (herdctl prune-transcripts): the
// daemon's sandbox may read the agents' files but not remove them.
const TranscriptPruneUnit = "herdctl-prune-transcripts.service"

// transcriptPruneDirectives confine the prune: root with only the
// capabilities to remove files other users own (CAP_DAC_OVERRIDE,
// CAP_FOWNER) and read them, nothing writable but the agents' state and
// its own run directory, no network.
func transcriptPruneDirectives(argv []string, l state.Layout) []directive {
	rw := []string{l.AgentsDir(), l.PruneRunDir()}
	caps := []string{"CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER"}
	const capDACOverride, capDACReadSearch, capFowner = 1, 2, 3
	ds := []directive{
		unitDirective("Description", "herdctl: remove Claude Code transcripts older than the retention", sd.PropDescription("herdctl: remove Claude Code transcripts older than the retention")),
		unitDirective("Documentation", "man:herdctlctl(1)", prop("Documentation", []string{"man:herdctlctl(1)"})),
		serviceDirective("Type", "oneshot", sd.PropType("oneshot")),
		serviceDirective("ExecStart", strings.Join(argv, " "), sd.PropExecStart(argv, true)),
		serviceDirective("CapabilityBoundingSet", strings.Join(caps, " "),
			prop("CapabilityBoundingSet", uint64(1<<capDACOverride|1<<capDACReadSearch|1<<capFowner))),
		serviceDirective("ProtectSystem", "strict", prop("ProtectSystem", "strict")),
		serviceDirective("ReadWritePaths", strings.Join(rw, " "), prop("ReadWritePaths", rw)),
		yes("PrivateNetwork"),
		yes("PrivateTmp"),
		yes("PrivateDevices"),
		yes("ProtectKernelTunables"),
		yes("ProtectKernelModules"),
		yes("ProtectControlGroups"),
		serviceDirective("SyslogIdentifier", "herdctl-prune", prop("SyslogIdentifier", "herdctl-prune")),
		unitDirective("CollectMode", "inactive-or-failed", prop("CollectMode", "inactive-or-failed")),
	}
	return append(ds, sandbox...)
}

// TranscriptPruneProperties are the properties of the transient unit
// that runs argv to prune the transcripts.
func TranscriptPruneProperties(argv []string, l state.Layout) []sd.Property {
	var props []sd.Property
	for _, d := range transcriptPruneDirectives(argv, l) {
		props = append(props, d.prop)
	}
	return props
}

// RenderTranscriptPruneService writes that unit as a file, for review
// (its golden file) and systemd-analyze verify.
func RenderTranscriptPruneService(argv []string, l state.Layout) string {
	return renderUnit(transcriptPruneDirectives(argv, l))
}

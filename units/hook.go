package units

import (
	"fmt"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"

	"github.com/herdctl/herdctl/state"
)

// HookUser runs shell hooks: a system user of their own (sysusers.conf),
// with nothing of herdctl's. Webhooks run as a dynamic user of their own
// instead (DynamicUser=), so that no other process, a shell hook
// included, shares the uid that can read a webhook's secret.
const HookUser = "herdctl-hook"

// HookStateDir is the one place a shell hook may write: a directory of
// the hook user's that systemd keeps (StateDirectory=, $STATE_DIRECTORY),
// /var/lib/herdctl-hook.
const HookStateDir = "herdctl-hook"

// hookPrefix starts the name of every hook unit.
const hookPrefix = Prefix + "hook-"

// HookUnitName is the transient unit of hook event[index] after job id:
// herdctl-hook-ID-on_error-0.service. Job ids are checked (state.IsJobID)
// and events are herdctl's own words.
func HookUnitName(jobID, event string, index int) string {
	return fmt.Sprintf("%s%s-%s-%d.service", hookPrefix, escape(jobID), escape(event), index)
}

// IsHookUnit reports whether unit is a hook unit.
func IsHookUnit(unit string) bool { return strings.HasPrefix(unit, hookPrefix) }

// HookMemoryMax and HookTasksMax bound every hook unit, and
// HookStopTimeout is how long a hook past its time has between SIGTERM
// and SIGKILL.
const (
	HookMemoryMax   = 256 << 20
	HookTasksMax    = 64
	HookStopTimeout = 10 * time.Second
)

// HookService is one hook's transient unit as data. It holds no secret
// and nothing of the job (unit files are world-readable): the job reaches
// the hook on stdin from Stdin, and a webhook's settings from Credential,
// both root-only files systemd opens for the unit.
type HookService struct {
	Name        string
	Description string
	Agent, Job  string
	Hook        string // "on_error[0]"
	Webhook     bool   // a webhook (else a shell hook)
	ExecStart   []string
	// Network is a shell hook's: it may use the host's network.
	Network bool
	// Stdin is the job's JSON; Stdout, for a webhook, where its result
	// goes (a shell hook's output goes to the journal).
	Stdin, Stdout string
	// Credential is a webhook's settings, handed as the credential named
	// CredentialName.
	Credential, CredentialName string
	// Timeout bounds the whole run (TimeoutStartSec= of a oneshot).
	Timeout time.Duration
}

// directives are the hook unit's settings, in file order.
func (h HookService) directives() []directive {
	ds := []directive{
		unitDirective("Description", h.Description, sd.PropDescription(h.Description)),
		unitDirective("Documentation", "man:herdctl.toml(5)", prop("Documentation", []string{"man:herdctl.toml(5)"})),
		unitDirective("X-Herdctl-Agent", h.Agent, sd.Property{}),
		unitDirective("X-Herdctl-Job", h.Job, sd.Property{}),
		// A oneshot: systemd's start job ends when the hook does, with
		// its result, and TimeoutStartSec= bounds the whole run
		// (RuntimeMaxSec= does not apply to a oneshot).
		serviceDirective("Type", "oneshot", sd.PropType("oneshot")),
		serviceDirective("ExecStart", strings.Join(h.ExecStart, " "), sd.PropExecStart(h.ExecStart, false)),
		serviceDirective("TimeoutStartSec", span(h.Timeout), prop("TimeoutStartUSec", usec(h.Timeout))),
		// A hook past its time gets SIGTERM, then SIGKILL soon after.
		serviceDirective("TimeoutStopSec", span(HookStopTimeout), prop("TimeoutStopUSec", usec(HookStopTimeout))),
		serviceDirective("StandardInput", "file:"+h.Stdin, prop("StandardInputFile", h.Stdin)),
	}
	if h.Webhook {
		ds = append(ds,
			serviceDirective("StandardOutput", "file:"+h.Stdout, prop("StandardOutputFile", h.Stdout)),
			serviceDirective("LoadCredential", h.CredentialName+":"+h.Credential,
				prop("LoadCredential", []struct{ ID, Path string }{{h.CredentialName, h.Credential}})),
			yes("DynamicUser"),
		)
	} else {
		ds = append(ds,
			serviceDirective("StandardOutput", "journal", prop("StandardOutput", "journal")),
			serviceDirective("User", HookUser, prop("User", HookUser)),
			serviceDirective("Group", HookUser, prop("Group", HookUser)),
			serviceDirective("StateDirectory", HookStateDir, prop("StateDirectory", []string{HookStateDir})),
			serviceDirective("StateDirectoryMode", "0700", prop("StateDirectoryMode", uint32(0o700))),
		)
	}
	ds = append(ds, serviceDirective("StandardError", "journal", prop("StandardError", "journal")))
	for _, f := range [][2]string{{state.FieldAgent, h.Agent}, {state.FieldJob, h.Job}, {state.FieldHook, h.Hook}} {
		kv := f[0] + "=" + f[1]
		ds = append(ds, serviceDirective("LogExtraFields", kv, prop("LogExtraFields", [][]byte{[]byte(kv)})))
	}
	ds = append(ds, serviceDirective("SyslogIdentifier", "herdctl-hook", prop("SyslogIdentifier", "herdctl-hook")))
	families := []string{"AF_UNIX", "AF_INET", "AF_INET6"}
	if !h.Webhook && !h.Network {
		ds = append(ds, yes("PrivateNetwork"))
		families = []string{"AF_UNIX"}
	}
	ds = append(ds, serviceDirective("RestrictAddressFamilies", strings.Join(families, " "),
		prop("RestrictAddressFamilies", struct {
			Allow    bool
			Families []string
		}{true, families})))
	if h.Webhook {
		// A Go program; a shell hook's may be an interpreter with a JIT.
		ds = append(ds, yes("MemoryDenyWriteExecute"))
	}
	return append(ds, hookSandbox...)
}

// hookSandbox confines every hook: no privilege, nothing of the host
// writable, herdctl's own files out of sight, bounded memory and tasks.
var hookSandbox = []directive{
	yes("NoNewPrivileges"),
	serviceDirective("CapabilityBoundingSet", "", prop("CapabilityBoundingSet", uint64(0))),
	serviceDirective("AmbientCapabilities", "", prop("AmbientCapabilities", uint64(0))),
	serviceDirective("ProtectSystem", "strict", prop("ProtectSystem", "strict")),
	serviceDirective("ProtectHome", "tmpfs", prop("ProtectHome", "tmpfs")),
	serviceDirective("InaccessiblePaths", "-/etc/herdctl -/var/lib/herdctl -/run/herdctl",
		prop("InaccessiblePaths", []string{"-/etc/herdctl", "-/var/lib/herdctl", "-/run/herdctl"})),
	yes("PrivateTmp"),
	yes("PrivateDevices"),
	serviceDirective("DevicePolicy", "closed", prop("DevicePolicy", "closed")),
	yes("PrivateIPC"),
	yes("ProtectKernelTunables"),
	yes("ProtectKernelModules"),
	yes("ProtectKernelLogs"),
	yes("ProtectControlGroups"),
	yes("ProtectClock"),
	yes("ProtectHostname"),
	serviceDirective("ProtectProc", "invisible", prop("ProtectProc", "invisible")),
	serviceDirective("ProcSubset", "pid", prop("ProcSubset", "pid")),
	serviceDirective("RestrictNamespaces", "yes", prop("RestrictNamespaces", uint64(0))),
	yes("RestrictRealtime"),
	yes("RestrictSUIDSGID"),
	yes("LockPersonality"),
	yes("RemoveIPC"),
	serviceDirective("KeyringMode", "private", prop("KeyringMode", "private")),
	serviceDirective("SystemCallArchitectures", "native", prop("SystemCallArchitectures", []string{"native"})),
	serviceDirective("SystemCallFilter", "@system-service", prop("SystemCallFilter", struct {
		Allow bool
		Calls []string
	}{true, []string{"@system-service"}})),
	serviceDirective("SystemCallFilter", "~@privileged @resources", prop("SystemCallFilter", struct {
		Allow bool
		Calls []string
	}{false, []string{"@privileged", "@resources"}})),
	serviceDirective("SystemCallErrorNumber", "EPERM", prop("SystemCallErrorNumber", int32(1))),
	serviceDirective("UMask", "0077", prop("UMask", uint32(0o077))),
	serviceDirective("MemoryMax", fmt.Sprint(HookMemoryMax), prop("MemoryMax", uint64(HookMemoryMax))),
	serviceDirective("TasksMax", fmt.Sprint(HookTasksMax), prop("TasksMax", uint64(HookTasksMax))),
}

// HookProperties are the properties of the hook's transient unit: the
// directives RenderHookService writes. A hook unit that failed stays
// loaded until the daemon has read its result and resets it.
func HookProperties(h HookService) []sd.Property {
	var props []sd.Property
	extra := [][]byte{}
	for _, d := range h.directives() {
		switch {
		case d.prop.Name == "":
			continue
		case d.prop.Name == "LogExtraFields":
			extra = append(extra, []byte(d.value)) // one property holds them all
			continue
		}
		props = append(props, d.prop)
	}
	return append(props, prop("LogExtraFields", extra))
}

// RenderHookService writes the hook unit as a unit file: for review (its
// golden file) and systemd-analyze verify; the daemon starts it as a
// transient unit.
func RenderHookService(h HookService) string { return renderUnit(h.directives()) }

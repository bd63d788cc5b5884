package units

import (
	"fmt"
	"math"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"github.com/herdctl/herdctl/state"
)

// directive is one setting of a job unit, written once for both forms a
// job unit takes: a line of a unit file (RenderService, scheduled jobs) and
// a D-Bus property of a transient unit (TransientProperties, manual jobs).
// A directive without a property (prop.Name == "") exists only in files:
// herdctl's own X- markers.
type directive struct {
	section string // "Unit" or "Service"
	key     string // as written in a unit file
	value   string // as written in a unit file
	prop    sd.Property
}

func unitDirective(key, value string, p sd.Property) directive {
	return directive{section: "Unit", key: key, value: value, prop: p}
}

func serviceDirective(key, value string, p sd.Property) directive {
	return directive{section: "Service", key: key, value: value, prop: p}
}

func prop(name string, v any) sd.Property {
	return sd.Property{Name: name, Value: dbus.MakeVariant(v)}
}

// credential is one LoadCredential= of a transient unit: D-Bus a(ss).
type credential struct{ ID, Path string }

// yes is a boolean directive that is on.
func yes(key string) directive { return serviceDirective(key, "yes", prop(key, true)) }

// Sandbox is what confines the job runner itself (the agent is confined by
// its container). The runner must stay in the host's mount namespace (it
// mounts what the container gets), so nothing here makes one.
var sandbox = []directive{
	yes("NoNewPrivileges"),
	yes("LockPersonality"),
	yes("RestrictRealtime"),
	yes("RestrictSUIDSGID"),
	yes("MemoryDenyWriteExecute"),
	serviceDirective("SystemCallArchitectures", "native", prop("SystemCallArchitectures", []string{"native"})),
	serviceDirective("UMask", "0077", prop("UMask", uint32(0o077))),
}

// directives are every setting of the job unit, in file order.
func (j JobService) directives() []directive {
	ds := []directive{
		unitDirective("Description", j.Description, sd.PropDescription(j.Description)),
		unitDirective("Documentation", "man:herdctl(8)", prop("Documentation", []string{"man:herdctl(8)"})),
		unitDirective("Wants", "containerd.service", sd.PropWants("containerd.service")),
		// The jobs' journal namespace: the runner writes there itself
		// (LogNamespace= would give the unit a mount namespace, and the
		// runner's binds for the container must be the host's).
		unitDirective("Requires", JournalSocket, sd.PropRequires(JournalSocket)),
		unitDirective("After", "containerd.service "+JournalSocket, sd.PropAfter("containerd.service", JournalSocket)),
		unitDirective("X-Herdctl-Agent", j.Agent, sd.Property{}),
		unitDirective("X-Herdctl-Schedule", j.Schedule, sd.Property{}),
		serviceDirective("Type", "exec", sd.PropType("exec")),
		serviceDirective("ExecStart", strings.Join(j.ExecStart, " "), sd.PropExecStart(j.ExecStart, true)),
	}
	for _, e := range j.Environment {
		ds = append(ds, serviceDirective("Environment", e, prop("Environment", []string{e})))
	}
	if j.EnvFile != "" {
		// systemd copies the env file into the job's own credential
		// directory as it starts; the runner reads the secrets there.
		ds = append(ds, serviceDirective("LoadCredential", state.CredentialEnvFile+":"+j.EnvFile,
			prop("LoadCredential", []credential{{state.CredentialEnvFile, j.EnvFile}})))
	}
	ds = append(ds,
		serviceDirective("RuntimeMaxSec", span(j.RuntimeMax), prop("RuntimeMaxUSec", usec(j.RuntimeMax))),
		serviceDirective("TimeoutStopSec", span(j.StopTimeout), prop("TimeoutStopUSec", usec(j.StopTimeout))),
		// SIGTERM to the runner only: it stops the task and records the job.
		serviceDirective("KillMode", "mixed", prop("KillMode", "mixed")),
		// Every stream-json event is a journal entry; never drop them. (0
		// would mean "journald's default" to systemd 252, which then does
		// not pass it on: a burst no job reaches in a second is what works.)
		serviceDirective("LogRateLimitIntervalSec", "1s", prop("LogRateLimitIntervalUSec", uint64(time.Second.Microseconds()))),
		serviceDirective("LogRateLimitBurst", fmt.Sprint(LogRateLimitBurst), prop("LogRateLimitBurst", uint32(LogRateLimitBurst))),
		serviceDirective("SyslogIdentifier", JobIdentifier, prop("SyslogIdentifier", JobIdentifier)),
	)
	return append(ds, sandbox...)
}

// TransientProperties turns a job service into the properties of a
// transient unit (StartTransientUnit): the same directives RenderService
// writes to a file. A finished transient job unit is garbage-collected
// (CollectMode=inactive-or-failed); its journal stays.
func TransientProperties(j JobService) []sd.Property {
	var props []sd.Property
	env := []string{}
	for _, d := range j.directives() {
		switch {
		case d.prop.Name == "":
			continue
		case d.prop.Name == "Environment":
			env = append(env, d.value) // one property holds them all
			continue
		}
		props = append(props, d.prop)
	}
	props = append(props, prop("Environment", env))
	return append(props, prop("CollectMode", "inactive-or-failed"))
}

// usec is a span for systemd's D-Bus API: 0 or less is infinity.
func usec(d time.Duration) uint64 {
	if d <= 0 {
		return math.MaxUint64
	}
	return uint64(d.Microseconds())
}

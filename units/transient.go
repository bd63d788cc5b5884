package units

import (
	"math"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// TransientProperties turns a job service into the properties of a
// transient unit (StartTransientUnit), the same settings RenderService
// writes to a file. A finished transient job unit is garbage-collected
// (CollectMode=inactive-or-failed); its journal stays.
func TransientProperties(j JobService) []sd.Property {
	return []sd.Property{
		sd.PropDescription(j.Description),
		sd.PropType("exec"),
		sd.PropExecStart(j.ExecStart, true),
		sd.PropWants("containerd.service"),
		sd.PropAfter("containerd.service"),
		prop("Documentation", []string{"man:herdctl(8)"}),
		prop("Environment", j.Environment),
		prop("RuntimeMaxUSec", usec(j.RuntimeMax)),
		prop("TimeoutStopUSec", usec(j.StopTimeout)),
		prop("KillMode", "mixed"),
		prop("LogRateLimitIntervalUSec", uint64(time.Second.Microseconds())),
		prop("LogRateLimitBurst", uint32(LogRateLimitBurst)),
		prop("SyslogIdentifier", "herdctl-job"),
		prop("CollectMode", "inactive-or-failed"),
	}
}

func prop(name string, v any) sd.Property {
	return sd.Property{Name: name, Value: dbus.MakeVariant(v)}
}

// usec is a span for systemd's D-Bus API: 0 or less is infinity.
func usec(d time.Duration) uint64 {
	if d <= 0 {
		return math.MaxUint64
	}
	return uint64(d.Microseconds())
}

package kube

import (
	"os"
	"path/filepath"
	"strings"
)

// LocalZone is the host's time zone as an IANA name, the way systemd's
// timers read it: $TZ when it names one, else the target of
// /etc/localtime under a zoneinfo directory, else /etc/timezone. "" when
// none says.
func LocalZone() string {
	if tz := strings.TrimPrefix(os.Getenv("TZ"), ":"); tz != "" && !strings.HasPrefix(tz, "/") {
		return tz
	}
	if t, err := os.Readlink("/etc/localtime"); err == nil {
		if _, zone, ok := strings.Cut(filepath.ToSlash(t), "zoneinfo/"); ok {
			return zone
		}
	}
	if b, err := os.ReadFile("/etc/timezone"); err == nil {
		return strings.TrimSpace(string(b))
	}
	return ""
}

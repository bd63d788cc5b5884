package kube

import "testing"

func TestLocalZoneFromTZ(t *testing.T) {
	for tz, want := range map[string]string{"Europe/Berlin": "Europe/Berlin", ":America/New_York": "America/New_York"} {
		t.Setenv("TZ", tz)
		if got := LocalZone(); got != want {
			t.Errorf("TZ=%s: %q, want %q", tz, got, want)
		}
	}
}

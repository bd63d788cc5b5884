package state

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"time"
)

// NewJobID makes a job id: the start time (UTC) and a random suffix,
// e.g. 20261130-020031-4fa9c2. Ids sort by start time.
func NewJobID(now time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

var jobIDRe = regexp.MustCompile(`^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$`)

// IsJobID reports whether s has the form NewJobID makes. Anything that
// becomes part of a path or a unit name is checked with it first.
func IsJobID(s string) bool { return jobIDRe.MatchString(s) }

var jobIDPrefixRe = regexp.MustCompile(`^[0-9]{1,8}(-[0-9]{0,6}(-[0-9a-f]{0,6})?)?$`)

// IsJobIDPrefix reports whether s may begin a job id (herdctlctl takes a
// unique prefix for the whole id).
func IsJobIDPrefix(s string) bool { return jobIDPrefixRe.MatchString(s) }

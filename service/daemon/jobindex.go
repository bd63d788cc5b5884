package daemon

import (
	"bytes"
	"encoding/hex"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
	"github.com/herdctl/herdctl/units"
)

// The job index is what the daemon keeps in memory of every job record:
// what its own logic finds, filters, counts, sums and orders jobs by, one
// compact entry per job (jobEntry), sorted by id. Retention keeps months
// of jobs, so an entry holds no text: names are interned, a session id is
// its 16 bytes. The records of unfinished (queued or running) jobs are
// kept whole too: they are few, and the queue, reconcile and view need
// them. Whatever hands a job out (GetJob, the page ListJobs returns,
// hooks) reads its record from disk. The index is under Daemon.mu.
type jobIndex struct {
	entries []jobEntry          // sorted by id
	open    map[string]*api.Job // the records of unfinished jobs, by id
	names   interner            // agents and schedules
	words   interner            // statuses and triggers
	odd     interner            // session ids that are not UUIDs
}

// jobEntry is what the index keeps of one job.
type jobEntry struct {
	idTime       uint64  // the id's date and time: YYYYMMDDhhmmss as a number
	started      int64   // timeNanos(Started)
	finished     int64   // timeNanos(*Finished) when hasFinished
	spent        float64 // Job.Spent()
	inputTokens  int64
	outputTokens int64
	session      sessionKey
	resume       sessionKey
	agent        uint32 // in names
	schedule     uint32 // in names
	turns        int32
	egressDenied int32
	status       uint16  // in words
	trigger      uint16  // in words
	idRand       [3]byte // the id's random part
	flags        uint8
}

// jobEntry flags.
const (
	hasFinished uint8 = 1 << iota
	sessionUUID       // session holds a UUID's bytes
	sessionOdd        // session holds an index in odd
	resumeUUID
	resumeOdd
)

// sessionKey is a session id: a UUID's 16 bytes, or the index in odd of
// any other string (the entry's flags say which).
type sessionKey [16]byte

// jobKey is a job id (state.NewJobID's form) as the index orders it.
type jobKey struct {
	time uint64
	rand [3]byte
}

// parseJobKey parses an id of the form state.IsJobID accepts.
func parseJobKey(id string) (jobKey, bool) {
	var k jobKey
	if !state.IsJobID(id) {
		return k, false
	}
	for i := 0; i < 15; i++ {
		if id[i] != '-' {
			k.time = k.time*10 + uint64(id[i]-'0')
		}
	}
	if _, err := hex.Decode(k.rand[:], []byte(id[16:])); err != nil {
		return k, false
	}
	return k, true
}

func (k jobKey) compare(o jobKey) int {
	if k.time != o.time {
		if k.time < o.time {
			return -1
		}
		return 1
	}
	return bytes.Compare(k.rand[:], o.rand[:])
}

// appendID appends the id k was parsed from.
func (k jobKey) appendID(b []byte) []byte {
	var d [14]byte
	t := k.time
	for i := 13; i >= 0; i-- {
		d[i] = byte('0' + t%10)
		t /= 10
	}
	b = append(b, d[:8]...)
	b = append(b, '-')
	b = append(b, d[8:]...)
	b = append(b, '-')
	return hex.AppendEncode(b, k.rand[:])
}

func (k jobKey) String() string { return string(k.appendID(make([]byte, 0, 22))) }

func (e *jobEntry) key() jobKey { return jobKey{e.idTime, e.idRand} }

// id is the job's id.
func (e *jobEntry) id() string { return e.key().String() }

// startedAt is when the job started.
func (e *jobEntry) startedAt() time.Time { return nanosTime(e.started) }

// end is when the job ended, or started when its record says no end
// (jobEnd of the record).
func (e *jobEntry) end() time.Time {
	if e.flags&hasFinished != 0 {
		return nanosTime(e.finished)
	}
	return nanosTime(e.started)
}

// finishedAt is the job's end, zero when its record has none.
func (e *jobEntry) finishedAt() time.Time {
	if e.flags&hasFinished == 0 {
		return time.Time{}
	}
	return nanosTime(e.finished)
}

// timeNanos and nanosTime keep a time as an int64 that orders as it
// does; the zero time is math.MinInt64.
func timeNanos(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

func nanosTime(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// put takes rec into the index, replacing what it held of rec's job. A
// record whose id is not one herdctl makes is left out (false).
func (x *jobIndex) put(rec *api.Job) bool {
	k, ok := parseJobKey(rec.ID)
	if !ok {
		return false
	}
	e := jobEntry{idTime: k.time, idRand: k.rand, started: timeNanos(rec.Started), spent: rec.Spent(),
		inputTokens: rec.InputTokens, outputTokens: rec.OutputTokens,
		agent: x.names.id(rec.Agent), schedule: x.names.id(rec.Schedule),
		turns: int32(rec.Turns), egressDenied: int32(rec.EgressDenied),
		status: uint16(x.words.id(rec.Status)), trigger: uint16(x.words.id(rec.Trigger))}
	if rec.Finished != nil {
		e.flags |= hasFinished
		e.finished = timeNanos(*rec.Finished)
	}
	e.session, e.flags = x.sessionKey(rec.SessionID, e.flags, sessionUUID, sessionOdd)
	e.resume, e.flags = x.sessionKey(rec.Resume, e.flags, resumeUUID, resumeOdd)
	i, found := x.search(k)
	if found {
		x.entries[i] = e
	} else {
		x.entries = slices.Insert(x.entries, i, e)
	}
	if api.Finished(rec.Status) {
		delete(x.open, rec.ID)
	} else {
		if x.open == nil {
			x.open = map[string]*api.Job{}
		}
		x.open[rec.ID] = rec
	}
	return true
}

// sessionKey encodes a session id into a key and flags.
func (x *jobIndex) sessionKey(s string, flags, uuid, odd uint8) (sessionKey, uint8) {
	var k sessionKey
	switch {
	case s == "":
	case state.IsSessionID(s):
		hex.Decode(k[:], []byte(strings.ReplaceAll(s, "-", "")))
		flags |= uuid
	default:
		i := x.odd.id(s)
		k[0], k[1], k[2], k[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
		flags |= odd
	}
	return k, flags
}

// sessionString is the session id k and flags encode.
func (x *jobIndex) sessionString(k sessionKey, flags, uuid, odd uint8) string {
	switch {
	case flags&uuid != 0:
		var b [36]byte
		hex.Encode(b[0:8], k[0:4])
		hex.Encode(b[9:13], k[4:6])
		hex.Encode(b[14:18], k[6:8])
		hex.Encode(b[19:23], k[8:10])
		hex.Encode(b[24:36], k[10:16])
		b[8], b[13], b[18], b[23] = '-', '-', '-', '-'
		return string(b[:])
	case flags&odd != 0:
		return x.odd.str(uint32(k[0]) | uint32(k[1])<<8 | uint32(k[2])<<16 | uint32(k[3])<<24)
	}
	return ""
}

// session and resume are e's session ids.
func (x *jobIndex) session(e *jobEntry) string {
	return x.sessionString(e.session, e.flags, sessionUUID, sessionOdd)
}

func (x *jobIndex) resume(e *jobEntry) string {
	return x.sessionString(e.resume, e.flags, resumeUUID, resumeOdd)
}

// hasSession says whether e's session is s.
func (x *jobIndex) hasSession(e *jobEntry, s string) bool { return x.sessionIs(s)(e) }

// sessionIs returns a test of whether an entry's session is s, which
// allocates nothing per entry.
func (x *jobIndex) sessionIs(s string) func(e *jobEntry) bool {
	switch {
	case s == "":
		return func(e *jobEntry) bool { return e.flags&(sessionUUID|sessionOdd) == 0 }
	case state.IsSessionID(s):
		k, _ := x.sessionKey(s, 0, sessionUUID, sessionOdd)
		return func(e *jobEntry) bool { return e.flags&sessionUUID != 0 && e.session == k }
	}
	i, ok := x.odd.lookup(s)
	return func(e *jobEntry) bool {
		return ok && e.flags&sessionOdd != 0 && e.session == sessionKey{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)}
	}
}

func (x *jobIndex) agent(e *jobEntry) string    { return x.names.str(e.agent) }
func (x *jobIndex) schedule(e *jobEntry) string { return x.names.str(e.schedule) }
func (x *jobIndex) status(e *jobEntry) string   { return x.words.str(uint32(e.status)) }
func (x *jobIndex) trigger(e *jobEntry) string  { return x.words.str(uint32(e.trigger)) }

// isAgent says whether e is a job of agent.
func (x *jobIndex) isAgent(e *jobEntry, agent string) bool {
	return x.names.str(e.agent) == agent
}

// search finds where k is or would be in entries.
func (x *jobIndex) search(k jobKey) (int, bool) {
	return slices.BinarySearchFunc(x.entries, k, func(e jobEntry, k jobKey) int { return e.key().compare(k) })
}

// get finds the entry of job id; the pointer is good while Daemon.mu is
// held and the index unchanged.
func (x *jobIndex) get(id string) *jobEntry {
	k, ok := parseJobKey(id)
	if !ok {
		return nil
	}
	if i, found := x.search(k); found {
		return &x.entries[i]
	}
	return nil
}

// jobStatus is the status of job id as the daemon last knew it: an
// unfinished job's record may have been changed in place (failJob).
func (x *jobIndex) jobStatus(id string) (string, bool) {
	if rec := x.open[id]; rec != nil {
		return rec.Status, true
	}
	if e := x.get(id); e != nil {
		return x.status(e), true
	}
	return "", false
}

// remove drops the jobs ids, in one pass over the index.
func (x *jobIndex) remove(ids []string) {
	gone := make(map[jobKey]bool, len(ids))
	for _, id := range ids {
		if k, ok := parseJobKey(id); ok {
			gone[k] = true
		}
		delete(x.open, id)
	}
	x.entries = slices.DeleteFunc(x.entries, func(e jobEntry) bool { return gone[e.key()] })
	if cap(x.entries) > 2*len(x.entries)+64 {
		x.entries = slices.Clone(x.entries) // a large prune gives the memory back
	}
}

// withPrefix lists the ids that begin with p.
func (x *jobIndex) withPrefix(p string) []string {
	var out []string
	pb := []byte(p)
	var buf [32]byte
	for i := range x.entries {
		if b := x.entries[i].key().appendID(buf[:0]); bytes.HasPrefix(b, pb) {
			out = append(out, string(b))
		}
	}
	return out
}

// manualAgent is the agent of the manual job whose unit is name ("" when
// name is no manual job's unit): the unit's name ends with the job's id.
func (x *jobIndex) manualAgent(name string) string {
	base, ok := strings.CutSuffix(name, ".service")
	if !ok || len(base) < 22 {
		return ""
	}
	id := base[len(base)-22:]
	e := x.get(id)
	if e == nil {
		return ""
	}
	if a := x.agent(e); units.ManualServiceName(a, id) == name {
		return a
	}
	return ""
}

// interner keeps one copy of each string it is given; 0 is "".
type interner struct {
	strs []string
	ids  map[string]uint32
}

func (in *interner) id(s string) uint32 {
	if s == "" {
		return 0
	}
	if i, ok := in.ids[s]; ok {
		return i
	}
	if in.ids == nil {
		in.ids = map[string]uint32{}
		in.strs = []string{""}
	}
	s = strings.Clone(s)
	i := uint32(len(in.strs))
	in.strs = append(in.strs, s)
	in.ids[s] = i
	return i
}

func (in *interner) str(i uint32) string {
	if int(i) >= len(in.strs) {
		return ""
	}
	return in.strs[i]
}

// lookup is s's id without adding it.
func (in *interner) lookup(s string) (uint32, bool) {
	if s == "" {
		return 0, true
	}
	i, ok := in.ids[s]
	return i, ok
}

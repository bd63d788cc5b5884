package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/herdctl/herdctl/state"
)

// Pending is a reply the bridge owes: a job it started for a message,
// until its answer is posted.
type Pending struct {
	Job string `json:"job"`
	// Conversation is where the message came from, ReplyIn where the
	// reply goes, ReplyTo the message it answers.
	Conversation Conversation `json:"conversation"`
	ReplyIn      Conversation `json:"reply_in"`
	ReplyTo      string       `json:"reply_to"`
	Started      time.Time    `json:"started"`
	// Sent counts the parts of the answer already posted, so that a
	// restart in the middle of a long answer posts only the rest.
	Sent int `json:"sent,omitempty"`
	// Ended is when the bridge first saw the job finished; Attempts and
	// LastError count the failed posts since.
	Ended     time.Time `json:"ended,omitzero"`
	Attempts  int       `json:"attempts,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	// Note is a line of the bridge's that comes before the answer (a
	// session that expired).
	Note string `json:"note,omitempty"`
	// Progress is the progress message's id, once posted; Summarized
	// says it was given the job's summary line.
	Progress   string `json:"progress,omitempty"`
	Summarized bool   `json:"summarized,omitempty"`
	// Stage is the stage of the message's attachments, removed once
	// the answer is posted.
	Stage string `json:"stage,omitempty"`
}

// Session is the Claude session a conversation continues, and the last
// job it started (what retry runs again; its prompt stays in herdctl's
// job record, never in the bridge's state).
type Session struct {
	ID      string    `json:"id"`
	Updated time.Time `json:"updated"`
	LastJob string    `json:"last_job,omitempty"`
	// Reset is when the conversation last started afresh (new, or an
	// expired session): a job started before it that ends later does
	// not give the conversation its session again.
	Reset time.Time `json:"reset,omitzero"`
}

// Bounds of the state file.
const (
	// MaxPending is how many replies the bridge owes at most; a message
	// beyond it is answered that the bridge is full.
	MaxPending = 1000
	// MaxSessions is how many conversations keep their session; the
	// least recently used go first.
	MaxSessions = 10000
	// storeVersion is the version of the state file.
	storeVersion = 1
	// maxStateFile bounds the state file read at start.
	maxStateFile = 64 << 20
)

// Store keeps what the bridge must not forget across a restart, in one
// file (0600) in its state directory, rewritten atomically on every
// change.
type Store struct {
	path string
	mu   sync.Mutex
	st   stateFile
}

type stateFile struct {
	Version  int                `json:"version"`
	Pending  []*Pending         `json:"pending"`
	Sessions map[string]Session `json:"sessions"`
}

// OpenStore reads the state file at path, or starts empty when there is
// none.
func OpenStore(path string) (*Store, error) {
	s := &Store{path: path, st: stateFile{Version: storeVersion, Sessions: map[string]Session{}}}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular() || fi.Size() > maxStateFile:
		return nil, fmt.Errorf("%s: not a regular file of at most %d bytes", path, maxStateFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w (move it away to start afresh; the replies it owes are lost then)", path, err)
	}
	if st.Version != storeVersion {
		return nil, fmt.Errorf("%s: version %d, this herdctl-chat reads %d", path, st.Version, storeVersion)
	}
	if st.Sessions == nil {
		st.Sessions = map[string]Session{}
	}
	s.st = st
	return s, nil
}

// save writes the state; the caller holds mu.
func (s *Store) save() error {
	b, err := json.MarshalIndent(s.st, "", " ")
	if err != nil {
		return err
	}
	return state.WriteFileAtomic(s.path, append(b, '\n'), 0o600)
}

// Pending lists copies of the replies owed, oldest first.
func (s *Store) Pending() []Pending {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Pending, len(s.st.Pending))
	for i, p := range s.st.Pending {
		out[i] = *p
	}
	return out
}

// Get is a copy of the reply owed for job.
func (s *Store) Get(job string) (Pending, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.st.Pending {
		if p.Job == job {
			return *p, true
		}
	}
	return Pending{}, false
}

// Add records a reply owed.
func (s *Store) Add(p Pending) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Pending = append(s.st.Pending, &p)
	return s.save()
}

// Full reports whether the bridge owes as many replies as it may.
func (s *Store) Full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.Pending) >= MaxPending
}

// Update changes the pending reply of job with f and saves.
func (s *Store) Update(job string, f func(p *Pending)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.st.Pending {
		if p.Job == job {
			f(p)
			return s.save()
		}
	}
	return nil
}

// Done forgets the reply of job, and records session (when not "") for
// each conversation given.
func (s *Store) Done(job, session string, now time.Time, convs ...Conversation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var started time.Time
	keep := s.st.Pending[:0]
	for _, p := range s.st.Pending {
		if p.Job != job {
			keep = append(keep, p)
		} else {
			started = p.Started
		}
	}
	s.st.Pending = keep
	if session != "" {
		for _, c := range convs {
			v := s.st.Sessions[c.Key()]
			if !started.IsZero() && v.Reset.After(started) {
				continue // started afresh while the job ran
			}
			v.ID, v.Updated = session, now
			s.st.Sessions[c.Key()] = v
		}
		s.trimSessions()
	}
	return s.save()
}

// Session is the session conversation c continues, "" for a new one.
func (s *Store) Session(c Conversation) string {
	return s.Conversation(c).ID
}

// Conversation is what the bridge keeps of conversation c.
func (s *Store) Conversation(c Conversation) Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Sessions[c.Key()]
}

// Started records job as the last one each conversation given started.
func (s *Store) Started(job string, now time.Time, convs ...Conversation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range convs {
		v := s.st.Sessions[c.Key()]
		v.LastJob, v.Updated = job, now
		s.st.Sessions[c.Key()] = v
	}
	s.trimSessions()
	return s.save()
}

// Reset makes each conversation given start a new session with its next
// message (its last job stays, for retry).
func (s *Store) Reset(now time.Time, convs ...Conversation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range convs {
		if v, ok := s.st.Sessions[c.Key()]; ok {
			v.ID, v.Updated, v.Reset = "", now, now
			s.st.Sessions[c.Key()] = v
		}
	}
	return s.save()
}

func (s *Store) trimSessions() {
	if len(s.st.Sessions) <= MaxSessions {
		return
	}
	keys := make([]string, 0, len(s.st.Sessions))
	for k := range s.st.Sessions {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return s.st.Sessions[keys[i]].Updated.Before(s.st.Sessions[keys[j]].Updated) })
	for _, k := range keys[:len(keys)-MaxSessions] {
		delete(s.st.Sessions, k)
	}
}

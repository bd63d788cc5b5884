package daemon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// Bounds of ReadJournal: a page holds at most journalPageBytes of
// entries (the client asks again for more), an entry over
// journalEntryBytes comes as a stub that says so (a line an agent printed
// can make one of tens of MiB, and a reply over the bus's limit makes the
// bus daemon drop the daemon's connection), and at most journalReaders
// journalctl processes run at once.
const (
	journalPageBytes  = 1 << 20
	journalEntryBytes = 256 << 10
	journalReaders    = 4
)

// journalSlots bounds the journalctl processes ReadJournal runs.
var journalSlots = make(chan struct{}, journalReaders)

// cursorRe is what a journald cursor is made of (s=…;i=…;b=…;m=…;t=…;x=…).
var cursorRe = regexp.MustCompile(`^[A-Za-z0-9=;]{1,512}$`)

// ReadJournal returns a page of the journal entries of a job or an agent
// of the fleet, read with journalctl (Journalctl if set): what
// herdctlctl logs shows to members of group herdctl who may not read
// the whole journal. The caller is authorized by the D-Bus layer.
func (d *Daemon) ReadJournal(ctx context.Context, q api.JournalQuery) (*api.JournalPage, error) {
	match, err := d.journalMatch(q)
	if err != nil {
		return nil, err
	}
	args := append(state.JournalctlArgs(), "--quiet")
	switch {
	case q.AfterCursor != "":
		if !cursorRe.MatchString(q.AfterCursor) {
			return nil, errorf(ErrInvalidArgs, "%q is not a journal cursor: pass back a page's cursor as it came", q.AfterCursor)
		}
		args = append(args, "--after-cursor="+q.AfterCursor)
	case q.Lines < 0:
		return nil, errorf(ErrInvalidArgs, "lines is %d: give the number of last entries wanted, or 0 for all", q.Lines)
	case q.Lines > 0:
		args = append(args, "--lines="+strconv.Itoa(q.Lines))
	}
	select {
	case journalSlots <- struct{}{}:
		defer func() { <-journalSlots }()
	default:
		return nil, errorf(ErrBusy, "%d journal reads are under way: try again in a moment", journalReaders)
	}
	return readJournal(ctx, d.journalctl(), append(args, match...), q.AfterCursor)
}

func (d *Daemon) journalctl() string {
	if d.Journalctl != "" {
		return d.Journalctl
	}
	return "journalctl"
}

// journalMatch is the journalctl match for q's job or agent, which must
// be known to the daemon: a job in the index (by id or unique prefix),
// an agent of the fleet, one left out for errors, or one with jobs.
func (d *Daemon) journalMatch(q api.JournalQuery) ([]string, error) {
	if (q.Job == "") == (q.Agent == "") {
		return nil, errorf(ErrInvalidArgs, "name a job or an agent, one of the two")
	}
	if q.Job != "" {
		id, err := d.findJob(q.Job)
		if err != nil {
			return nil, err
		}
		var units []string
		for _, h := range d.hookRuns(id) {
			if h.Unit != "" {
				units = append(units, h.Unit)
			}
		}
		return state.JournalMatch(state.FieldJob, id, units...), nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	known := d.agents[q.Agent] != nil || slices.ContainsFunc(d.broken, func(b config.BrokenAgent) bool { return b.Name == q.Agent })
	if a, ok := d.index.names.lookup(q.Agent); ok && !known {
		known = slices.ContainsFunc(d.index.entries, func(j jobEntry) bool { return j.agent == a })
	}
	if !known {
		return nil, errorf(ErrNotFound, "no agent %q in the fleet and no jobs of one: list agents with herdctlctl agents", q.Agent)
	}
	return state.JournalMatch(state.FieldAgent, q.Agent), nil
}

// readEntry reads one line of journalctl -o json; a line over
// journalEntryBytes is read to its end but replaced by a stub with the
// entry's cursor, time, job and agent, and its size. journalctl writes an
// entry's fields in no set order, so they are looked for in all of it.
func readEntry(r *bufio.Reader) ([]byte, error) {
	var buf []byte
	var stub *entryStub
	size := 0
	for {
		chunk, err := r.ReadSlice('\n')
		size += len(chunk)
		switch {
		case stub != nil:
			stub.scan(chunk)
		case size <= journalEntryBytes+1:
			buf = append(buf, chunk...)
		default:
			stub = &entryStub{fields: map[string]string{}}
			stub.scan(buf)
			stub.scan(chunk)
			buf = nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if stub != nil {
			return stub.entry(size), err
		}
		return bytes.TrimSuffix(buf, []byte("\n")), err
	}
}

// stubFields are what a stub keeps of an entry too big to pass.
var stubFields = []string{"__CURSOR", "__REALTIME_TIMESTAMP", state.FieldJob, state.FieldAgent}

// stubFieldRe finds one of them, as journalctl writes it ("NAME" : "VALUE").
var stubFieldRe = regexp.MustCompile(`"(` + strings.Join(stubFields, "|") + `)"\s*:\s*"([^"\\]{0,512})"`)

// entryStub collects the stub's fields from an entry read in pieces; the
// end of each piece is kept to be read again with the next, so that a
// field cut between two is found whole.
type entryStub struct {
	fields map[string]string
	carry  []byte
}

func (s *entryStub) scan(chunk []byte) {
	text := append(s.carry, chunk...)
	for _, m := range stubFieldRe.FindAllSubmatch(text, -1) {
		if _, ok := s.fields[string(m[1])]; !ok {
			s.fields[string(m[1])] = string(m[2])
		}
	}
	keep := min(len(text), 1024)
	s.carry = append([]byte(nil), text[len(text)-keep:]...)
}

func (s *entryStub) entry(size int) []byte {
	out := map[string]string{}
	for _, f := range stubFields {
		if v := s.fields[f]; v != "" {
			out[f] = v
		}
	}
	out["MESSAGE"] = fmt.Sprintf("(an entry of %d bytes, too big to pass over D-Bus, is left out: as root, journalctl %s --cursor='%s', its first entry)",
		size, strings.Join(state.JournalctlArgs(), " "), s.fields["__CURSOR"])
	b, _ := json.Marshal(out)
	return b
}

// readJournal runs journalctl with args and returns what it printed,
// up to journalPageBytes.
func readJournal(ctx context.Context, journalctl string, args []string, after string) (*api.JournalPage, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, journalctl, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &capped{w: &stderr, n: 4096}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running journalctl: %w", err)
	}
	page := &api.JournalPage{Cursor: after, Entries: []string{}}
	size := 0
	r := bufio.NewReaderSize(out, 64<<10)
	for {
		line, rerr := readEntry(r)
		if len(line) > 0 {
			if size+len(line) > journalPageBytes && len(page.Entries) > 0 {
				page.More = true
				break
			}
			var e struct {
				Cursor string `json:"__CURSOR"`
			}
			if json.Unmarshal(line, &e) == nil && e.Cursor != "" {
				page.Entries = append(page.Entries, string(line))
				page.Cursor = e.Cursor
				size += len(line)
			}
		}
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				err = rerr
			}
			break
		}
	}
	if page.More {
		cancel() // journalctl has more to say: stop it
		cmd.Wait()
		return page, nil
	}
	werr := cmd.Wait()
	if err == nil && werr != nil {
		err = fmt.Errorf("journalctl: %w: %s", werr, bytes.TrimSpace(stderr.Bytes()))
	}
	return page, err
}

// capped writes at most n bytes to w and drops the rest.
type capped struct {
	w io.Writer
	n int
}

func (c *capped) Write(p []byte) (int, error) {
	if k := min(len(p), c.n); k > 0 {
		c.w.Write(p[:k])
		c.n -= k
	}
	return len(p), nil
}

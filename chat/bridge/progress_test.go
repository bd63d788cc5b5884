package bridge

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/service/api"
	"github.com/herdctl/herdctl/state"
)

// entry is a journal entry as journalctl -o json writes it.
func entry(msg, tool string) string {
	f := map[string]string{"MESSAGE": msg, state.FieldEvent: "assistant"}
	if tool != "" {
		f[state.FieldTool] = tool
	}
	b, _ := json.Marshal(f)
	return string(b)
}

// TestProgress: a job that runs gets one progress message, edited with
// the tool the agent uses now (its argument sanitised: no mention, no
// terminal escape) and the time it has run; when the job ends the
// message gets its summary and the answer follows; no edit comes after.
func TestProgress(t *testing.T) {
	d := newFakeDaemon()
	d.journal = map[string][]string{}
	r := newRigWith(t, "", d, func(b *Bridge) { b.ProgressEvery = 30 * time.Millisecond })
	r.say("m1", "300", "200", "water the beans")
	r.eventually("a trigger", func() bool { return len(d.triggered()) == 1 })
	job := "20260101-000000-000001"
	p := r.posts(1)[0]
	if !strings.HasPrefix(p.text, "⏳ Working for ") || p.replyTo != "m1" {
		t.Errorf("progress message: %+v", p)
	}
	d.mu.Lock()
	d.journal[job] = append(d.journal[job], entry("assistant: let me look | tool Bash: echo @everyone <@300> \x1b[2Jgone | tool Read: x", "Bash"))
	d.mu.Unlock()
	r.eventually("an edit naming the tool", func() bool {
		for _, e := range r.c.edited() {
			if strings.Contains(e.text, "Bash: `echo @\u200beveryone <@\u200b300> [2Jgone`") {
				return true
			}
		}
		return false
	})
	for _, e := range r.c.edited() {
		if e.id != "p1" || strings.Contains(e.text, "@everyone") || strings.Contains(e.text, "\x1b") || strings.Contains(e.text, "<@300>") {
			t.Errorf("edit: %+v", e)
		}
	}
	d.mu.Lock()
	d.jobs[job].CostUSD, d.jobs[job].DurationMS = 0.0123, 65_000
	d.mu.Unlock()
	d.finish(job, api.StatusCompleted, "watered", "", "")
	ps := r.posts(2)
	if ps[1].text != "watered" || ps[1].replyTo != "m1" {
		t.Errorf("answer: %+v", ps[1])
	}
	es := r.c.edited()
	if last := es[len(es)-1]; last.text != "✓ Done in 1m 05s · $0.0123 · job "+job || last.id != "p1" {
		t.Errorf("summary: %+v", last)
	}
	n := len(es)
	time.Sleep(150 * time.Millisecond)
	if len(r.c.edited()) != n {
		t.Errorf("edits after the job ended: %+v", r.c.edited()[n:])
	}
	d.mu.Lock()
	reads := d.journalReads
	d.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.journalReads != reads {
		t.Error("the journal is still read after the job ended")
	}
}

// TestQuickJobNoProgress: a job that ends before ProgressEvery gets its
// answer alone.
func TestQuickJobNoProgress(t *testing.T) {
	d := newFakeDaemon()
	r := newRigWith(t, "", d, func(b *Bridge) { b.ProgressEvery = time.Hour })
	r.say("m1", "300", "200", "hi")
	r.eventually("a trigger", func() bool { return len(d.triggered()) == 1 })
	d.finish("20260101-000000-000001", api.StatusCompleted, "hello", "", "")
	if ps := r.posts(1); ps[0].text != "hello" || len(r.c.edited()) != 0 {
		t.Errorf("%+v %+v", ps, r.c.edited())
	}
}

func TestLatestTool(t *testing.T) {
	cases := []struct {
		name    string
		entries []string
		want    string
	}{
		{"none", []string{entry("assistant: hi", "")}, ""},
		{"the last", []string{entry("tool Read: /a", "Read"), entry("tool Bash: ls", "Bash")}, "Bash: `ls`"},
		{"a forged tool name", []string{entry("tool x: y", "<@everyone>")}, ""},
		{"garbage", []string{"{", `{"MESSAGE":[1,2],"HERDCTL_TOOL":"Bash"}`}, ""},
		{"no argument", []string{entry("tool TodoWrite: ", "TodoWrite")}, "TodoWrite"},
	}
	for _, c := range cases {
		if got := latestTool(c.entries); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

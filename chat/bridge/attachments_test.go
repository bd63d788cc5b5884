package bridge

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herdctl/herdctl/chat"
	"github.com/herdctl/herdctl/service/api"
)

// attach sends a message with attachments (name → content; a declared
// size of 0 is the content's).
func (r *rig) attach(id, text string, files []Attachment, contents map[string]string) {
	r.c.mu.Lock()
	if r.c.files == nil {
		r.c.files = map[string]string{}
	}
	for u, c := range contents {
		r.c.files[u] = c
	}
	r.c.mu.Unlock()
	r.c.in <- Inbound{Conversation: Conversation{Platform: Discord, Agent: "gardener", Channel: "200"}, ID: id,
		Guild: "100", User: "300", Mentioned: true, Text: text, Attachments: files}
}

// TestAttachments: the files are staged with sanitised, distinct names
// for the runner, the prompt names them, the trigger names the stage;
// the stage goes once the answer is posted.
func TestAttachments(t *testing.T) {
	stages := t.TempDir()
	r := newRigWith(t, "", nil, func(b *Bridge) { b.StageDir = stages })
	r.attach("m1", "read these", []Attachment{
		{Name: "notes.txt", Size: 5, URL: "u1"},
		{Name: "../../etc/passwd", Size: 3, URL: "u2"},
		{Name: "notes.txt", Size: 2, URL: "u3"},
	}, map[string]string{"u1": "hello", "u2": "abc", "u3": "hi"})
	r.eventually("a trigger", func() bool { return len(r.d.triggered()) == 1 })
	tr := r.d.triggered()[0]
	if !chat.IsStageName(tr.o.Inbox) || tr.prompt != "read these\n\n(Attached to this message, now in /workspace/inbox/: notes.txt, passwd, notes-2.txt)" {
		t.Fatalf("trigger: %+v", tr)
	}
	dir := filepath.Join(stages, tr.o.Inbox)
	for n, want := range map[string]string{"notes.txt": "hello", "passwd": "abc", "notes-2.txt": "hi"} {
		if b, err := os.ReadFile(filepath.Join(dir, n)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v", n, b, err)
		}
	}
	r.d.finish("20260101-000000-000001", api.StatusCompleted, "read", "", "")
	r.posts(1)
	r.eventually("the stage removed", func() bool { _, err := os.Stat(dir); return os.IsNotExist(err) })
}

// TestAttachmentLimits (attack): too many files, a file over 8 MiB by
// its own word, and an attachment bomb (a small declared size, a large
// body) start nothing, leave nothing staged and are answered with one
// line.
func TestAttachmentLimits(t *testing.T) {
	stages := t.TempDir()
	r := newRigWith(t, "", nil, func(b *Bridge) { b.StageDir = stages })
	six := make([]Attachment, 6)
	for i := range six {
		six[i] = Attachment{Name: "f.txt", Size: 1, URL: "x"}
	}
	r.attach("m1", "six", six, map[string]string{"x": "x"})
	if p := r.posts(1)[0]; p.text != "✗ 6 files are attached; at most 5 may be, of 8 MiB each. Nothing was started." {
		t.Errorf("six files: %q", p.text)
	}
	r.attach("m2", "big", []Attachment{{Name: "big.iso", Size: 9 << 20, URL: "big"}}, map[string]string{"big": "x"})
	if p := r.posts(2)[1]; p.text != "✗ big.iso is 9.0 MiB; a file may have at most 8 MiB. Nothing was started." {
		t.Errorf("9 MiB: %q", p.text)
	}
	r.attach("m3", "bomb", []Attachment{{Name: "small.txt", Size: 10, URL: "bomb"}}, map[string]string{"bomb": strings.Repeat("A", 9<<20)})
	if p := r.posts(3)[2]; p.text != "✗ small.txt is larger than 8 MiB. Nothing was started." {
		t.Errorf("bomb: %q", p.text)
	}
	r.attach("m4", "gone", []Attachment{{Name: "gone.txt", Size: 10, URL: "missing"}}, nil)
	if p := r.posts(4)[3]; !strings.HasPrefix(p.text, "✗ fetching gone.txt: HTTP 404") {
		t.Errorf("missing: %q", p.text)
	}
	time.Sleep(50 * time.Millisecond)
	if len(r.d.triggered()) != 0 {
		t.Errorf("started: %+v", r.d.triggered())
	}
	if ents, _ := os.ReadDir(stages); len(ents) != 0 {
		t.Errorf("left staged: %v", ents)
	}
}

// TestLongAnswerFile: with long_answers = "file", an answer longer than
// one message is one file with its start as the message; a short one is
// a message.
func TestLongAnswerFile(t *testing.T) {
	r := newRigWith(t, "", nil, func(b *Bridge) { b.LongAnswers = map[string]string{"gardener": "file"} })
	r.say("m1", "300", "200", "write a lot")
	r.eventually("a trigger", func() bool { return len(r.d.triggered()) == 1 })
	long := "# Report\n\n" + strings.Repeat("All is well in the garden. ", 200)
	r.d.finish("20260101-000000-000001", api.StatusCompleted, long, "", "")
	p := r.posts(1)[0]
	r.c.mu.Lock()
	uploads := append([]string(nil), r.c.uploads...)
	r.c.mu.Unlock()
	if len(uploads) != 1 || uploads[0] != "answer.md\n"+strings.TrimSpace(long)+"\n" || p.replyTo != "m1" || !strings.HasPrefix(p.text, "# Report All is well") ||
		!strings.HasSuffix(p.text, "(The whole answer is in answer.md.)") || len(p.text) > 2000 {
		t.Errorf("post %+v, uploads %d", p, len(uploads))
	}
	r.eventually("the reply done", func() bool { return len(r.b.Store.Pending()) == 0 })
	r.say("m2", "300", "200", "say little")
	r.eventually("a second trigger", func() bool { return len(r.d.triggered()) == 2 })
	r.d.finish("20260101-000000-000002", api.StatusCompleted, "Little.", "", "")
	if p := r.posts(2)[1]; p.text != "Little." {
		t.Errorf("short answer: %q", p.text)
	}
	time.Sleep(50 * time.Millisecond)
	if len(r.c.posted()) != 2 {
		t.Errorf("posts: %+v", r.c.posted())
	}
}

package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/herdctl/herdctl/chat"
	"github.com/herdctl/herdctl/policy"
)

// stageLife is how long a stage is kept whose job's answer never came
// (a restart lost it): then it is removed at the bridge's next start.
const stageLife = 2 * ReplyDeadline

// errTooLarge is a file that turned out larger than the limit.
var errTooLarge = fmt.Errorf("larger than %d MiB", chat.MaxAttachmentBytes>>20)

// capped writes to a file and fails past chat.MaxAttachmentBytes: a
// platform's word on a file's size is not trusted.
type capped struct {
	f *os.File
	n int64
}

func (w *capped) Write(p []byte) (int, error) {
	if w.n+int64(len(p)) > chat.MaxAttachmentBytes {
		return 0, errTooLarge
	}
	n, err := w.f.Write(p)
	w.n += int64(n)
	return n, err
}

// refuseAttachments is the one line that refuses m's attachments, ""
// when they are within the limits by their own word.
func refuseAttachments(m Inbound) string {
	if len(m.Attachments) > chat.MaxAttachments {
		return fmt.Sprintf("✗ %d files are attached; at most %d may be, of %d MiB each. Nothing was started.", len(m.Attachments), chat.MaxAttachments, chat.MaxAttachmentBytes>>20)
	}
	for _, a := range m.Attachments {
		if a.Size > chat.MaxAttachmentBytes {
			return fmt.Sprintf("✗ %s is %.1f MiB; a file may have at most %d MiB. Nothing was started.", chat.AttachmentName(a.Name), float64(a.Size)/(1<<20), chat.MaxAttachmentBytes>>20)
		}
	}
	return ""
}

// stage fetches m's attachments into a new stage directory under dir,
// with sanitised, distinct names, and returns the stage's name and the
// files' names. A file that turns out larger than the limit, or cannot
// be fetched, fails it all (and nothing is left).
func (b *Bridge) stage(ctx context.Context, c Connector, m Inbound) (string, []string, error) {
	var r [16]byte
	rand.Read(r[:])
	name := hex.EncodeToString(r[:])
	root := b.stageDir()
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", nil, err
	}
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", nil, err
	}
	var names []string
	taken := map[string]bool{}
	for _, a := range m.Attachments {
		n := unique(chat.AttachmentName(a.Name), taken)
		f, err := os.OpenFile(filepath.Join(dir, n), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
		fctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err = c.Fetch(fctx, a, &capped{f: f})
		cancel()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.RemoveAll(dir)
			if errors.Is(err, errTooLarge) {
				return "", nil, fmt.Errorf("%s is %w", n, errTooLarge)
			}
			return "", nil, fmt.Errorf("fetching %s: %w", n, err)
		}
		names = append(names, n)
	}
	return name, names, nil
}

// unique is name, or name with -2, -3… before its extension, not yet in
// taken.
func unique(name string, taken map[string]bool) string {
	n := name
	ext := filepath.Ext(name)
	for i := 2; taken[n]; i++ {
		n = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(name, ext), i, ext)
	}
	taken[n] = true
	return n
}

func (b *Bridge) stageDir() string {
	if b.StageDir != "" {
		return b.StageDir
	}
	return chat.StageDir
}

// unstage removes a stage.
func (b *Bridge) unstage(name string) {
	if chat.IsStageName(name) {
		os.RemoveAll(filepath.Join(b.stageDir(), name))
	}
}

// pruneStages removes the stages no reply owed names that are older
// than stageLife.
func (b *Bridge) pruneStages() {
	owed := map[string]bool{}
	for _, p := range b.Store.Pending() {
		owed[p.Stage] = true
	}
	ents, _ := os.ReadDir(b.stageDir())
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && !owed[e.Name()] && b.now().Sub(fi.ModTime()) > stageLife {
			b.Log.Info("removing a stage of attachments no answer is owed for", zap.String("chat_event", "stage_removed"), zap.String("chat_stage", e.Name()))
			os.RemoveAll(filepath.Join(b.stageDir(), e.Name()))
		}
	}
}

// attachedLine is what the prompt says of the files.
func attachedLine(names []string) string {
	return fmt.Sprintf("\n\n(Attached to this message, now in %s/%s/: %s)", policy.WorkspaceDir, chat.InboxDir, strings.Join(names, ", "))
}

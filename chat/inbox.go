package chat

import (
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// Attachments: the files of a chat message, which the bridge stages in
// its state directory and the job's runner copies into the agent's
// workspace, under InboxDir, as the agent's uid, before the job starts.
const (
	// InboxDir is the directory of the workspace that receives them.
	InboxDir = "inbox"
	// StageDir holds the bridge's staged files: one directory per
	// message, named by a StageName, in StateDir.
	StageDir = StateDir + "/inbox"
	// MaxAttachments is how many files one message may bring.
	MaxAttachments = 5
	// MaxAttachmentBytes is how large each may be.
	MaxAttachmentBytes = 8 << 20
	// maxNameBytes bounds a file's name.
	maxNameBytes = 100
)

var stageNameRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// IsStageName says s names a stage directory: 32 hex digits, the
// bridge's random choice, never a path.
func IsStageName(s string) bool { return stageNameRe.MatchString(s) }

// StagePath is stage directory name's path.
func StagePath(name string) string { return filepath.Join(StageDir, name) }

// AttachmentName is a file name from a chat message made safe to create
// in the inbox: its last path element only (no directory, no ..), no
// control or unusual characters (each becomes _), no leading dot (no
// hidden file, no . or ..), at most 100 bytes with its extension kept;
// "file" when nothing is left. It is what the runner checks a staged
// name against, too: AttachmentName(AttachmentName(s)) is the same.
func AttachmentName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-+ ()", r)):
			return r
		case r >= 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			return r
		}
		return '_'
	}, strings.ToValidUTF8(s, "_"))
	s = strings.TrimLeft(strings.TrimSpace(s), ". ")
	if len(s) > maxNameBytes {
		ext := filepath.Ext(s)
		if len(ext) > 16 || !utf8Valid(ext) {
			ext = ""
		}
		s = strings.ToValidUTF8(s[:maxNameBytes-len(ext)], "") + ext
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "file"
	}
	return s
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

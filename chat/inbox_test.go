package chat

import (
	"strings"
	"testing"
)

// TestAttachmentName (attack): a file name from a chat message cannot
// leave the inbox, hide, or carry control characters.
func TestAttachmentName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{"..", "file"},
		{".", "file"},
		{"../", "file"},
		{`..\..\windows\system32`, "system32"},
		{".bashrc", "bashrc"},
		{"... .hidden", "hidden"},
		{"a\x00b\x1b[2J.txt", "a_b__2J.txt"},
		{"new\nline.txt", "new_line.txt"},
		{"$(rm -rf ~);.sh", "_(rm -rf _)_.sh"},
		{"Grüße.txt", "Grüße.txt"},
		{"", "file"},
		{strings.Repeat("a", 300) + ".tar.gz", strings.Repeat("a", 97) + ".gz"},
	}
	for _, c := range cases {
		got := AttachmentName(c.in)
		if got != c.want {
			t.Errorf("AttachmentName(%q) = %q, want %q", c.in, got, c.want)
		}
		if AttachmentName(got) != got {
			t.Errorf("AttachmentName(%q) is not stable", got)
		}
	}
}

func FuzzAttachmentName(f *testing.F) {
	for _, s := range []string{"a.txt", "../x", "..", "\x00", ".a", "a/b\\c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := AttachmentName(s)
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\\x00") || strings.HasPrefix(n, ".") || len(n) > maxNameBytes {
			t.Fatalf("AttachmentName(%q) = %q", s, n)
		}
		for _, r := range n {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("AttachmentName(%q) = %q holds a control character", s, n)
			}
		}
		if AttachmentName(n) != n {
			t.Fatalf("not stable: %q -> %q -> %q", s, n, AttachmentName(n))
		}
	})
}

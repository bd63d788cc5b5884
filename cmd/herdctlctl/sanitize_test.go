package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafe(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"plain text passes", "Checks the disks: 42% used", "Checks the disks: 42% used"},
		{"letters of any script pass", "Grüße, 日本語, emoji 🌹", "Grüße, 日本語, emoji 🌹"},
		{"a CSI sequence is shown", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"an OSC title sequence is shown", "\x1b]0;owned\x07", `\x1b]0;owned\x07`},
		{"other C0 controls are shown", "a\x00b\x08c\x0bd", `a\x00b\x08c\x0bd`},
		{"a carriage return is shown", "ok\rFAIL", `ok\rFAIL`},
		{"a newline is shown on one line", "one\ntwo", `one\ntwo`},
		{"DEL is shown", "a\x7fb", `a\x7fb`},
		{"the 8-bit CSI is shown", "a\u009bb", `a\u009bb`},
		{"C1 NEL is shown", "a\u0085b", `a\u0085b`},
		{"a right-to-left override is shown", "a\u202eb\u202c", `a\u202eb\u202c`},
		{"bidi isolates are shown", "\u2066\u2067\u2068\u2069", `\u2066\u2067\u2068\u2069`},
		{"bidi marks are shown", "\u200e\u200f\u061c", `\u200e\u200f\u061c`},
		{"zero-width characters are shown", "ad\u200bm\u200ci\u200dn\u2060", `ad\u200bm\u200ci\u200dn\u2060`},
		{"a byte order mark is shown", "\ufeffname", `\ufeffname`},
		{"a soft hyphen is shown", "pass\u00adword", `pass\u00adword`},
		{"tag characters are shown", "x\U000e0041\U000e007f", `x\U000e0041\U000e007f`},
		{"line and paragraph separators are shown", "a\u2028b\u2029c", `a\u2028b\u2029c`},
		{"Hangul fillers are shown", "a\u3164b", `a\u3164b`},
		{"invalid UTF-8 is shown as bytes", "a\xffb\xc3", `a\xffb\xc3`},
		{"an encoded surrogate is shown as bytes", "\xed\xa0\x80", `\xed\xa0\x80`},
		{"a tab is expanded to the next stop", "ab\tc", "ab      c"},
		{"a backslash is left alone", `C:\path`, `C:\path`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := safe(c.in); got != c.want {
				t.Errorf("safe(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestCell(t *testing.T) {
	for _, c := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"short text is whole", "timed out", 20, "timed out"},
		{"text of exactly the width is whole", "0123456789", 10, "0123456789"},
		{"long text is cut with an ellipsis", "0123456789abc", 10, "012345678…"},
		{"several lines show the first", "first\nsecond", 20, "first…"},
		{"a trailing newline is not a second line", "first\n", 20, "first"},
		{"CRLF ends a line", "first\r\nsecond", 20, "first…"},
		{"an escape is not cut in half", "abcdefg\x1b[31m", 10, "abcdefg…"},
		{"no limit", strings.Repeat("x", 100), 0, strings.Repeat("x", 100)},
		{"empty", "", 10, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := cell(c.in, c.max)
			if got != c.want {
				t.Errorf("cell(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
			}
			if c.max > 0 && utf8.RuneCountInString(got) > c.max {
				t.Errorf("cell(%q, %d) is %d wide", c.in, c.max, utf8.RuneCountInString(got))
			}
		})
	}
}

func TestSafeLines(t *testing.T) {
	got := safeLines("one\r\ntwo\x1b[2J\n\tthree\n\n")
	want := []string{"one", `two\x1b[2J`, "        three"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("safeLines = %q, want %q", got, want)
	}
}

// FuzzSafe: whatever the input, the output is valid UTF-8 without a
// control or invisible character, and sanitizing it again changes
// nothing.
func FuzzSafe(f *testing.F) {
	for _, s := range []string{hostileEscapes, hostileBidi, hostileInvalid, hostileC1, hostileHidden, hostileLine, hostileLines} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := safe(s)
		if !utf8.ValidString(out) {
			t.Fatalf("safe(%q) = %q: invalid UTF-8", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || hidden(r) {
				t.Fatalf("safe(%q) = %q holds %U", s, out, r)
			}
		}
		if again := safe(out); again != out {
			t.Fatalf("safe is not idempotent: %q, then %q", out, again)
		}
		for _, l := range safeLines(s) {
			if strings.ContainsAny(l, "\n\r\x1b") {
				t.Fatalf("safeLines(%q) has a line %q", s, l)
			}
		}
	})
}

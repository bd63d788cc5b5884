package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Everything an agent can write reaches the operator's terminal through
// this file: its output in the journal, a job's prompt, error and exit
// reason, its description, the messages of errors about its file, and
// the daemon's error messages that quote them. An agent is a hostile
// program: an escape sequence could retitle the terminal, rewrite the
// lines above, or hide text; a bidi override or an invisible character
// could make a line read differently from what it holds. So nothing
// that is not plainly visible text is passed through: it is shown as an
// escape (\x1b, \u202e), and invalid UTF-8 as \xNN. Output is idempotent
// under sanitizing: safe(safe(s)) == safe(s).

// tabWidth is where tab stops are when a tab is expanded.
const tabWidth = 8

// ellipsis marks a value cut short in a table.
const ellipsis = "…"

// safe returns s fit to print as one line: newlines are shown as \n.
func safe(s string) string {
	out, _ := escapeLine(s, 0)
	return out
}

// safeLines splits s into lines, each fit to print: for a value printed
// on several lines on purpose. A "\r\n" line end is a line end; line
// ends at the end are dropped.
func safeLines(s string) []string {
	lines := rawLines(s)
	for i, l := range lines {
		lines[i], _ = escapeLine(l, 0)
	}
	return lines
}

func rawLines(s string) []string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// safeText is s fit to print with its line breaks kept.
func safeText(s string) string { return strings.Join(safeLines(s), "\n") }

// cell is s as a table shows it: its first line only, at most max
// characters wide (0: no limit), with … when anything was left out. An
// escape is never cut in half.
func cell(s string, max int) string {
	lines := rawLines(s)
	first, cut := escapeLine(lines[0], 0)
	if max > 0 && width(first) > max {
		first, cut = escapeLine(lines[0], max-1)
	}
	if cut || len(lines) > 1 {
		return first + ellipsis
	}
	return first
}

// escapeLine escapes s as one line, stopping before the text would be
// wider than limit characters (0: no limit); cut says it stopped early.
// Every character it writes is one column wide to text/tabwriter and to
// our tables (a rune).
func escapeLine(s string, limit int) (out string, cut bool) {
	var b strings.Builder
	col := 0
	emit := func(tok string) bool {
		w := utf8.RuneCountInString(tok)
		if limit > 0 && col+w > limit {
			return false
		}
		b.WriteString(tok)
		col += w
		return true
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var tok string
		switch {
		case r == utf8.RuneError && size == 1:
			tok = fmt.Sprintf(`\x%02x`, s[i])
		case r == '\t':
			tok = strings.Repeat(" ", tabWidth-col%tabWidth)
		case r == '\n':
			tok = `\n`
		case r == '\r':
			tok = `\r`
		case r < 0x20 || r == 0x7f:
			tok = fmt.Sprintf(`\x%02x`, r)
		case hidden(r) && r <= 0xffff:
			tok = fmt.Sprintf(`\u%04x`, r)
		case hidden(r):
			tok = fmt.Sprintf(`\U%08x`, r)
		default:
			tok = s[i : i+size]
		}
		if !emit(tok) {
			return b.String(), true
		}
		i += size
	}
	return b.String(), false
}

// hidden reports whether r is not plain visible text above ASCII: a C1
// control, a format character (bidi embeddings, overrides and isolates,
// marks, zero-width spaces and joiners, the byte order mark, invisible
// operators, tag characters), a line or paragraph separator, a filler
// that draws nothing, a variation selector that changes nothing, or a
// noncharacter.
//
// The zero-width joiner goes too, though emoji sequences use it: a name
// or a line that looks like another is worse than a family emoji shown
// as three.
func hidden(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
		return true
	case unicode.Is(unicode.Noncharacter_Code_Point, r):
		return true
	case r == 0x034f, // combining grapheme joiner
		r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0, // Hangul fillers
		r >= 0x180b && r <= 0x180f,   // Mongolian variation selectors and vowel separator
		r >= 0xe0100 && r <= 0xe01ef: // variation selectors 17-256
		return true
	}
	return false
}

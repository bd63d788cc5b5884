// Package text owns what the chat bridge does to text on its way in and
// out: cleaning a message before it becomes a prompt, splitting an answer
// at a platform's message limit without breaking its code blocks, Slack's
// escaping, and one-line summaries. Pure functions, no I/O.
package text

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits of one message, in the units Measure counts.
const (
	// DiscordLimit is Discord's limit on a message's content.
	DiscordLimit = 2000
	// SlackLimit is the length Slack asks a message's text to stay
	// under (it truncates at 40,000 and shows long ones badly).
	SlackLimit = 4000
)

// UTF16Len counts s in UTF-16 code units: what JavaScript, and so the
// platforms, count as characters (never fewer than the code points).
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
		if utf16.RuneLen(r) < 0 {
			n += 2 // invalid: counted as the replacement and then some
		}
	}
	return n
}

// Clean makes an untrusted message fit to be a prompt: valid UTF-8,
// line ends as \n, and no control characters but tab and newline (no
// NUL, no terminal escapes, no C1 controls), trimmed.
func Clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == '\r':
			b.WriteByte('\n')
		case unicode.IsControl(r):
			// C0, DEL and C1: dropped.
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// OneLine is s on one line of at most max characters: whitespace runs
// become one space, control characters are dropped, and a cut ends in …
func OneLine(s string, max int) string {
	s = strings.Join(strings.Fields(Clean(s)), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:max-1]), " ") + "…"
}

// EscapeSlack escapes the three characters Slack's message text gives a
// meaning to (&, <, >): an agent's answer can then never mention
// @channel or a user, nor make a link that hides its target.
func EscapeSlack(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Snippet is untrusted text (a tool's argument an agent chose) made fit
// to quote in one line of the bridge's own: on one line of at most max
// characters, without control characters or terminal escapes, with no
// backtick to break out of inline code, and with every @ followed by a
// zero-width space so that no mention (@everyone, <@id>, <!channel>
// after Slack's escaping) can ring anyone, whatever the platform allows.
func Snippet(s string, max int) string {
	s = OneLine(s, max)
	s = strings.ReplaceAll(s, "`", "'")
	return strings.ReplaceAll(s, "@", "@\u200b")
}

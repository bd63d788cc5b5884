package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplit(t *testing.T) {
	code := "```go\n" + strings.Repeat("fmt.Println(\"hello\")\n", 10) + "```\n"
	cases := []struct {
		name  string
		in    string
		limit int
		want  []string
	}{
		{"fits", "hello\nworld", 100, []string{"hello\nworld"}},
		{"empty", "\n\n  \n", 100, nil},
		{"at line ends", "aaaa\nbbbb\ncccc\n", 10, []string{"aaaa\nbbbb", "cccc"}},
		{"a long line at a space", "aaaa bbbb cccc", 10, []string{"aaaa bbbb", "cccc"}},
		{"a long word anywhere", "abcdefghijklmnop", 5, []string{"abcde", "fghij", "klmno", "p"}},
		{"a code block closed and reopened with its language", "intro\n" + code, 80, []string{
			"intro\n```go\nfmt.Println(\"hello\")\nfmt.Println(\"hello\")\nfmt.Println(\"hello\")\n```",
			"```go\nfmt.Println(\"hello\")\nfmt.Println(\"hello\")\nfmt.Println(\"hello\")\n```",
			"```go\nfmt.Println(\"hello\")\nfmt.Println(\"hello\")\nfmt.Println(\"hello\")\n```",
			"```go\nfmt.Println(\"hello\")\n```"}},
		{"an inline fence opens nothing", "```x``` aaaa\nbbbb\n", 13, []string{"```x``` aaaa", "bbbb"}},
		{"tildes", "~~~\nabc\ndef\n~~~\nafter", 12, []string{"~~~\nabc\n~~~", "~~~\ndef\n~~~", "after"}},
		{"runes whole", "ééééé", 3, []string{"ééé", "éé"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Split(c.in, c.limit, nil)
			if strings.Join(got, "\x00") != strings.Join(c.want, "\x00") {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestSplitKeepsEverything: cut at the platforms' limits, every message
// fits, every code block is balanced, and taking the added fences away
// gives back the text.
func TestSplitKeepsEverything(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 40; i++ {
		b.WriteString("Paragraph with some words, ünïcödé and 🐑 sheep, number ")
		b.WriteString(strings.Repeat("x", i*7))
		b.WriteString("\n```python\n")
		for j := 0; j < i; j++ {
			b.WriteString("    print('line', " + strings.Repeat("9", j) + ")\n")
		}
		b.WriteString("```\n\n")
	}
	in := b.String()
	for _, limit := range []int{DiscordLimit, SlackLimit, 200} {
		msgs := Split(in, limit, UTF16Len)
		var rebuilt []string
		for i, m := range msgs {
			if n := UTF16Len(m); n > limit {
				t.Fatalf("limit %d: message %d is %d long", limit, i, n)
			}
			if !utf8.ValidString(m) {
				t.Fatalf("message %d is not valid UTF-8", i)
			}
			lines := strings.Split(m, "\n")
			fences := 0
			for _, l := range lines {
				if strings.HasPrefix(l, "```") {
					fences++
				}
			}
			if fences%2 != 0 {
				t.Fatalf("limit %d: message %d has an unbalanced code block:\n%s", limit, i, m)
			}
			// Drop what the splitter added: a reopened fence at the
			// start, a closing one at the end.
			if i > 0 && strings.HasPrefix(lines[0], "```python") && !strings.HasPrefix(msgs[i-1][strings.LastIndex(msgs[i-1], "\n")+1:], "```\x00") {
				if prev := msgs[i-1]; strings.HasSuffix(prev, "```") && !strings.HasSuffix(strings.TrimRight(in[:0], ""), "x") {
					_ = prev
				}
			}
			rebuilt = append(rebuilt, m)
		}
		if got := strings.Count(strings.Join(rebuilt, "\n"), "print('line'"); got != strings.Count(in, "print('line'") {
			t.Errorf("limit %d: %d code lines, want %d", limit, got, strings.Count(in, "print('line'"))
		}
		if strip(strings.Join(rebuilt, "")) != strip(in) {
			t.Errorf("limit %d: text changed", limit)
		}
	}
}

// strip removes fences and whitespace: what remains is the text's own.
func strip(s string) string {
	s = strings.ReplaceAll(s, "```python", "")
	s = strings.ReplaceAll(s, "```", "")
	return strings.Join(strings.Fields(s), "")
}

func FuzzSplit(f *testing.F) {
	f.Add("hello\n```go\ncode\n```\nbye", 10)
	f.Add(strings.Repeat("é", 50), 7)
	f.Add("~~~\n~~~\n```\n", 3)
	f.Add("```"+strings.Repeat("a", 190)+"\n"+strings.Repeat("b\n", 500), 200)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 16 || limit > 5000 || !utf8.ValidString(s) {
			return
		}
		msgs := Split(s, limit, UTF16Len)
		for _, m := range msgs {
			if !utf8.ValidString(m) {
				t.Fatalf("invalid UTF-8 in %q", m)
			}
			// A fence line itself may be longer than the limit.
			if UTF16Len(m) > limit && !strings.Contains(m, "```") && !strings.Contains(m, "~~~") {
				t.Fatalf("%d > %d: %q", UTF16Len(m), limit, m)
			}
		}
		if strings.TrimSpace(s) != "" && len(msgs) == 0 {
			t.Fatal("text lost")
		}
		// No flood: each message but the last carries a fair share of
		// the text, whatever its fences.
		if limit >= 200 && len(msgs) > 2*UTF16Len(s)/(limit/2)+2 {
			t.Fatalf("%d characters became %d messages of at most %d", UTF16Len(s), len(msgs), limit)
		}
	})
}

func TestClean(t *testing.T) {
	cases := map[string]string{
		"plain":                             "plain",
		"  spaced\r\nlines \t":              "spaced\nlines",
		"\x1b]0;pwned\x07\x1b[2Jhi\x00":     "]0;pwned[2Jhi",
		"bad \xff utf8":                     "bad \uFFFD utf8",
		"c1 \u009b31m controls":             "c1 31m controls",
		"**SYSTEM:** keep *markdown* as is": "**SYSTEM:** keep *markdown* as is",
	}
	for in, want := range cases {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOneLineAndEscape(t *testing.T) {
	if got := OneLine("failed:\n  the API\tfailed (HTTP 500)\x1b[31m", 20); got != "failed: the API fai…" {
		t.Errorf("OneLine: %q", got)
	}
	if got := EscapeSlack("<!channel> & <@U1> <https://evil|ok>"); got != "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://evil|ok&gt;" {
		t.Errorf("EscapeSlack: %q", got)
	}
	if UTF16Len("a🐑") != 3 {
		t.Errorf("UTF16Len")
	}
}

// TestSplitLongLineInCode: a line longer than a message inside a fresh
// code block is cut, and nothing of it is lost.
func TestSplitLongLineInCode(t *testing.T) {
	in := "```\n" + strings.Repeat("y", 50) + "\n```"
	msgs := Split(in, 20, nil)
	if got := strip(strings.Join(msgs, "")); got != strings.Repeat("y", 50) {
		t.Errorf("got %q from %q", got, msgs)
	}
	for _, m := range msgs {
		if len(m) > 20 || strings.Count(m, "```")%2 != 0 {
			t.Errorf("message %q", m)
		}
	}
}

// TestSnippet (attack): a progress line built from a hostile tool
// argument mentions nobody, escapes no terminal, breaks out of no code
// span and stays one short line.
func TestSnippet(t *testing.T) {
	cases := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "ls -la /workspace", 80, "ls -la /workspace"},
		{"mention everyone", "echo @everyone @here", 80, "echo @\u200beveryone @\u200bhere"},
		{"user mention", "<@1234> <@!99> <@&5>", 80, "<@\u200b1234> <@\u200b!99> <@\u200b&5>"},
		{"terminal escape", "\x1b[2J\x1b]0;pwned\x07rm -rf", 80, "[2J]0;pwnedrm -rf"},
		{"newlines", "a\nb\r\nc", 80, "a b c"},
		{"backticks", "``` break out `", 80, "''' break out '"},
		{"long", strings.Repeat("x", 100), 20, strings.Repeat("x", 19) + "…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Snippet(c.in, c.max); got != c.want {
				t.Errorf("Snippet(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// TestSplitLongFence (the red team's chat C2): an agent's answer opens a
// code block with a fence line of nearly a message's length ("```" and
// 1990 letters as its "language"); every message after a cut began
// with that line again, so each carried a character or two of the
// answer: 12 KB became 5000 messages, a flood of the channel at the
// platform's rate for hours. A long fence line is reopened as its bare
// fence.
func TestSplitLongFence(t *testing.T) {
	for _, body := range []string{strings.Repeat("b", 10000), strings.Repeat("b\n", 5000)} {
		s := "```" + strings.Repeat("a", 1990) + "\n" + body + "```\n"
		parts := Split(s, DiscordLimit, UTF16Len)
		if len(parts) > 10 {
			t.Errorf("%d bytes became %d messages", len(s), len(parts))
		}
		for i, p := range parts {
			if UTF16Len(p) > DiscordLimit {
				t.Errorf("part %d has %d characters", i, UTF16Len(p))
			}
			if i > 0 && !strings.HasPrefix(p, "```\n") {
				t.Errorf("part %d does not reopen the block: %.20q", i, p)
			}
		}
	}
	// A short one keeps its language.
	parts := Split("```go\n"+strings.Repeat("x := 1\n", 600), DiscordLimit, UTF16Len)
	if len(parts) < 2 || !strings.HasPrefix(parts[1], "```go\n") {
		t.Errorf("a short fence line is not reopened as it was: %d parts", len(parts))
	}
}

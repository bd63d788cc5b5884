package text

import (
	"strings"
	"unicode/utf8"
)

// Split cuts s into messages of at most limit (as measure counts them),
// at line ends where it can. A code block cut in two is closed at the end
// of one message and opened again, with its language, at the start of the
// next, so each message renders on its own. A line too long for one
// message is cut at a space, or anywhere when it has none. Empty messages
// are left out.
func Split(s string, limit int, measure func(string) int) []string {
	if measure == nil {
		measure = utf8.RuneCountInString
	}
	sp := splitter{limit: limit, measure: measure, openedAt: -1}
	for _, line := range strings.SplitAfter(s, "\n") {
		if line == "" {
			continue
		}
		sp.add(line)
	}
	sp.flush()
	return sp.out
}

type splitter struct {
	limit   int
	measure func(string) int
	out     []string
	cur     strings.Builder
	body    bool // cur holds more than a reopened fence
	// open is the line that opened the code block we are in ("```go"),
	// "" outside one; marker is its fence (``` or ~~~).
	open, marker string
	// openedAt is where in cur the code block opened, when it opened in
	// this message and nothing followed yet; -1 otherwise.
	openedAt int
}

// closing is what must end the current message if it is cut here.
func (sp *splitter) closing(tail string) string {
	if sp.open == "" {
		return ""
	}
	if strings.HasSuffix(tail, "\n") {
		return sp.marker
	}
	return "\n" + sp.marker
}

func (sp *splitter) fits(extra string) bool {
	all := sp.cur.String() + extra
	switch {
	case sp.closes(extra):
		return sp.measure(all) <= sp.limit
	case sp.opens(extra) != "":
		// Room to close it again.
		return sp.measure(all+"\n"+sp.opens(extra)) <= sp.limit
	}
	return sp.measure(all+sp.closing(all)) <= sp.limit
}

// closes reports whether line ends the current code block.
func (sp *splitter) closes(line string) bool {
	t := strings.TrimSpace(line)
	return sp.open != "" && strings.HasPrefix(t, sp.marker) && strings.Trim(t, sp.marker[:1]) == ""
}

func (sp *splitter) add(line string) {
	if !sp.fits(line) && sp.body {
		sp.cut()
	}
	for !sp.fits(line) {
		// One line longer than a message: as much of it as fits.
		n := sp.longestPrefix(line)
		sp.cur.WriteString(line[:n])
		sp.body, sp.openedAt = true, -1
		line = line[n:]
		sp.cut()
	}
	at := sp.cur.Len()
	sp.cur.WriteString(line)
	sp.body = true
	sp.openedAt = -1
	if sp.opens(line) != "" {
		sp.openedAt = at
	}
	sp.fence(line)
}

// opens is the fence line opens (``` or ~~~), outside a code block,
// or "".
func (sp *splitter) opens(line string) string {
	if sp.open != "" {
		return ""
	}
	t := strings.TrimSpace(line)
	for _, m := range []string{"```", "~~~"} {
		if strings.HasPrefix(t, m) && strings.Count(t, m) == 1 {
			return m
		}
	}
	return ""
}

// longestPrefix is the length of the longest prefix of line that fits
// in the current message, cut after a space when there is one in its
// second half, and never empty.
func (sp *splitter) longestPrefix(line string) int {
	var ends []int // rune boundaries after each rune
	for i := range line {
		if i > 0 {
			ends = append(ends, i)
		}
	}
	ends = append(ends, len(line))
	// The largest k with fits(line[:ends[k]]); -1 when not even one rune.
	lo, hi := -1, len(ends)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if sp.fits(line[:ends[mid]]) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo < 0 {
		return ends[0]
	}
	n := ends[lo]
	if i := strings.LastIndexAny(line[:n], " \t"); i >= n/2 {
		return i + 1
	}
	return n
}

// cut ends the current message (closing an open code block) and starts
// the next (reopening it).
func (sp *splitter) cut() {
	msg := sp.cur.String()
	if sp.openedAt >= 0 {
		// The block opened here and holds nothing yet: it starts the
		// next message instead.
		msg = msg[:sp.openedAt]
	} else {
		msg += sp.closing(msg)
	}
	sp.openedAt = -1
	sp.emit(msg)
	sp.cur.Reset()
	sp.body = false
	if sp.open != "" {
		sp.cur.WriteString(sp.open + "\n")
	}
}

func (sp *splitter) flush() {
	if sp.body {
		sp.emit(sp.cur.String())
	}
}

func (sp *splitter) emit(msg string) {
	if msg = strings.TrimRight(msg, " \t\n"); strings.TrimSpace(msg) != "" {
		sp.out = append(sp.out, msg)
	}
}

// fence follows code blocks: a line starting with ``` or ~~~ opens one
// (unless it also closes it, as in ```x```), and a line of the same
// fence alone closes it.
func (sp *splitter) fence(line string) {
	if sp.open != "" {
		if sp.closes(line) {
			sp.open, sp.marker = "", ""
		}
		return
	}
	if m := sp.opens(line); m != "" {
		sp.open, sp.marker = strings.TrimRight(strings.TrimLeft(line, " "), "\n"), m
		if utf8.RuneCountInString(sp.open) > maxFenceLine {
			// Reopened as it is, a fence line of nearly a message's
			// length (the agent's to write) would leave each later
			// message room for a character or two of the answer.
			sp.open = m
		}
	}
}

// maxFenceLine is the longest fence line reopened as it is (a fence and
// its language: "```typescript"); a longer one is reopened as its bare
// fence.
const maxFenceLine = 32

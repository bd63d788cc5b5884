package main

import (
	"io"
	"strings"
	"unicode/utf8"

	"github.com/herdctl/herdctl/service/api"
)

// Colours, as systemctl uses them.
const (
	green   = "32"
	yellow  = "33"
	boldYel = "1;33"
	boldRed = "1;31"
	bold    = "1"
)

// paint wraps s in the SGR code when colour is on. s must already be
// safe: paint adds the only escape sequences herdctlctl writes.
func paint(colour bool, code, s string) string {
	if !colour || code == "" || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// statusColour is the colour of a job status, the way systemctl colours
// unit states.
func statusColour(s string) string {
	switch s {
	case api.StatusCompleted:
		return green
	case api.StatusRunning, api.StatusQueued:
		return boldYel
	case api.StatusFailed, api.StatusTimedOut:
		return boldRed
	case api.StatusSkipped:
		return yellow
	}
	return ""
}

// col is one table cell: its text, and its colour when colour is on.
type col struct {
	text, colour string
}

// table lays rows out in columns two spaces apart, as text/tabwriter
// would, but measures a cell by its text alone, so colour takes no width
// and columns line up the same with colour on and off. Every cell is
// sanitized on the way out.
type table struct {
	indent string
	rows   [][]col
}

// add appends a row of uncoloured cells.
func (t *table) add(cells ...string) {
	row := make([]col, len(cells))
	for i, c := range cells {
		row[i] = col{text: c}
	}
	t.rows = append(t.rows, row)
}

// addCols appends a row of cells with their colours.
func (t *table) addCols(cells ...col) { t.rows = append(t.rows, cells) }

// write prints the table; no line ends in blanks.
func (t *table) write(w io.Writer, colour bool) error {
	var widths []int
	for _, row := range t.rows {
		for i, c := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], width(safe(c.text)))
		}
	}
	var b strings.Builder
	for _, row := range t.rows {
		var line strings.Builder
		line.WriteString(t.indent)
		for i, c := range row {
			text := safe(c.text)
			line.WriteString(paint(colour, c.colour, text))
			if i < len(row)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-width(text)+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n") // empty last cells
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// width is how many columns s takes: one a rune, as text/tabwriter counts.
func width(s string) int { return utf8.RuneCountInString(s) }

// field is one "Label: value" line of a view such as job ID.
type field struct {
	label, value, colour string
	// text is a value of several lines on purpose (a prompt, an error):
	// its lines are kept. Any other value is one line, its line breaks
	// shown as \n.
	text bool
	// hang indents the value's later lines this much more than its
	// first, for a list of values of several lines each.
	hang int
}

// fields lays out "Label: value" lines the way systemctl status does:
// labels right-aligned on their colon, values in one column, and a text
// of several lines indented under its first line. A field with an empty
// value is left out; one with an empty label continues the one above.
type fields struct {
	indent string
	rows   []field
}

// add appends a one-line field.
func (f *fields) add(label, value string) { f.rows = append(f.rows, field{label: label, value: value}) }

// addColour appends a one-line field coloured when colour is on.
func (f *fields) addColour(label, value, colour string) {
	f.rows = append(f.rows, field{label: label, value: value, colour: colour})
}

// addText appends a field whose value may have several lines.
func (f *fields) addText(label, value string) {
	f.rows = append(f.rows, field{label: label, value: value, text: true})
}

// addItem appends a text that continues the field above, as one item of
// a list: its later lines are indented under its first.
func (f *fields) addItem(value string) {
	f.rows = append(f.rows, field{value: value, text: true, hang: 2})
}

// write prints the fields.
func (f *fields) write(w io.Writer, colour bool) error {
	labelWidth := 0
	for _, r := range f.rows {
		if r.value != "" {
			labelWidth = max(labelWidth, width(r.label))
		}
	}
	var b strings.Builder
	for _, r := range f.rows {
		if r.value == "" {
			continue
		}
		lines := []string{safe(r.value)}
		if r.text {
			lines = safeLines(r.value)
		}
		pad := strings.Repeat(" ", labelWidth-width(r.label))
		for i, line := range lines {
			switch {
			case i > 0 && line == "":
				b.WriteByte('\n') // no trailing blanks
				continue
			case i == 0 && r.label != "":
				b.WriteString(f.indent + pad + safe(r.label) + ": ")
			case i == 0:
				b.WriteString(f.indent + strings.Repeat(" ", labelWidth+2))
			default:
				b.WriteString(f.indent + strings.Repeat(" ", labelWidth+2+r.hang))
			}
			b.WriteString(paint(colour, r.colour, line) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

package config

import (
	"fmt"
	"strings"
)

// Location is where a value stands: a file, a position in it, and the
// field path inside that file (for example "agents[1].overrides.model").
type Location struct {
	File  string
	Line  int
	Col   int
	Field string
}

func (l Location) String() string {
	var b strings.Builder
	b.WriteString(l.File)
	if l.Line > 0 {
		fmt.Fprintf(&b, ":%d", l.Line)
		if l.Col > 0 {
			fmt.Fprintf(&b, ":%d", l.Col)
		}
	}
	return b.String()
}

// Error is one problem in the configuration, with its location.
type Error struct {
	Location
	Msg string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Location, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Location, e.Msg)
}

// Errorf returns an *Error at loc.
func Errorf(loc Location, format string, args ...any) *Error {
	return &Error{Location: loc, Msg: fmt.Sprintf(format, args...)}
}

// Errors is a list of configuration problems; Load reports all it finds
// rather than only the first.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Err returns nil for an empty list, and the list otherwise.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

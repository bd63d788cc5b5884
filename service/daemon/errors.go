package daemon

import (
	"errors"
	"fmt"
)

// Kinds of daemon errors callers branch on (errors.Is). The D-Bus layer
// (bus.go) gives each its D-Bus error name; the daemon does not know them.
var (
	ErrNotFound      = errors.New("not found")
	ErrInvalidArgs   = errors.New("invalid arguments")
	ErrBusy          = errors.New("busy")
	ErrInvalidConfig = errors.New("invalid configuration")
	ErrRefused       = errors.New("refused")
	ErrDisabled      = errors.New("disabled")
)

// kindError is an error of a kind, with a message for the operator.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// errorf returns an error of kind whose message is the formatted text.
func errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

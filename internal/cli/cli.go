// Package cli holds what herdctl's two commands share: exit codes, the
// way errors are printed, and flag sets with man-page-style help.
package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/internal/version"
)

// Exit codes, the same for both commands.
const (
	ExitOK          = 0
	ExitJobFailed   = 1
	ExitUsage       = 2 // bad arguments, or an invalid configuration
	ExitUnreachable = 3 // the daemon is not reachable
	ExitDenied      = 4 // the caller may not do this
)

// ExitError carries an exit code out of a command.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Exitf returns an *ExitError with a formatted message.
func Exitf(code int, format string, args ...any) error {
	return &ExitError{Code: code, Err: fmt.Errorf(format, args...)}
}

// Main runs a command's body and exits with its code, printing its error
// as "prog: message" on stderr.
func Main(prog string, run func() error) {
	err := run()
	if err == nil {
		os.Exit(ExitOK)
	}
	code := ExitJobFailed
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
	}
	var ce config.Errors
	if errors.As(err, &ce) {
		code = ExitUsage
	}
	if !errors.Is(err, ErrSilent) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", prog, err)
	}
	os.Exit(code)
}

// ErrSilent marks an error whose message was already printed.
var ErrSilent = errors.New("already reported")

// NewFlagSet makes a flag set whose -h/--help prints usage text written
// like a man page's synopsis and description, with the options spelled
// as they are used: --json, and -f for one-letter ones.
func NewFlagSet(name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n%s\n", synopsis, description)
		first := true
		fs.VisitAll(func(f *flag.Flag) {
			if first {
				fmt.Fprintf(w, "\nOptions:\n")
				first = false
			}
			dash := "--"
			if len(f.Name) == 1 {
				dash = "-"
			}
			arg, help := flag.UnquoteUsage(f)
			if arg != "" {
				arg = " " + arg
			}
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && !strings.Contains(help, "default") {
				help += " (default " + f.DefValue + ")"
			}
			fmt.Fprintf(w, "  %s%s%s\n      %s\n", dash, f.Name, arg, help)
		})
	}
	return fs
}

// Parse parses args; -h prints help and ends with exit 0, a bad flag
// with exit 2.
//
// Flags may come before or after the arguments ("logs gardener -n 5"), as
// with most Linux commands; everything after "--" is an argument.
func Parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(os.Stdout)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				os.Exit(ExitOK)
			}
			return &ExitError{Code: ExitUsage, Err: ErrSilent}
		}
		// fs.Parse stops at the first argument, or after "--".
		consumed := len(args) - fs.NArg()
		rest := fs.Args()
		if consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Leave the arguments where fs.Args sees them.
	return fs.Parse(append([]string{"--"}, positional...))
}

// WriteJSON writes v indented, with a final newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Dispatch runs the subcommand named by args[0] with the rest of args.
// No command prints usage to stderr (exit 2); help, -h and --help print it
// to stdout; an unknown command is a usage error.
func Dispatch(prog, usage string, args []string, commands map[string]func([]string) error) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return &ExitError{Code: ExitUsage, Err: ErrSilent}
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	case "--version":
		fmt.Printf("%s %s\n", prog, version.Version)
		return nil
	}
	run, ok := commands[args[0]]
	if !ok {
		return Exitf(ExitUsage, "unknown command %q: run %s --help", args[0], prog)
	}
	return run(args[1:])
}

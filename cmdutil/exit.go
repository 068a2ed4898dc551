// Package cmdutil is what every command shares: exit codes, the error that
// carries one, the factory of injected dependencies, and small helpers for
// reading STAGE [APP] and writing tables.
package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/stagedeck/stagedeck/sanitize"
)

// Exit codes shared by every command.
const (
	ExitOK          = 0
	ExitPending     = 1 // something pending, out of sync, degraded, failed; differences
	ExitRefused     = 1 // refused by a check or not confirmed: nothing was sent or pushed
	ExitUsage       = 2 // usage, config or bad input
	ExitUnreachable = 3 // git or Argo CD unreachable
	// ExitBrokenPipe is what a shell reports for a process its reader left.
	ExitBrokenPipe = 128 + 13
)

// ExitError carries an exit code with the one-line message; a nil Err
// exits with Code and prints nothing.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// Exit is an error that only sets the exit code.
func Exit(code int) error { return &ExitError{Code: code} }

// WithCode gives err an exit code unless it already has one.
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	return &ExitError{Code: code, Err: err}
}

// ForceCode gives err the exit code a command promises for all its errors.
func ForceCode(code int, err error) error {
	if err == nil {
		return nil
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return &ExitError{Code: code, Err: ee.Err}
	}
	return &ExitError{Code: code, Err: err}
}

// CodeOf is the exit code err stands for: its own, else 2 (usage).
func CodeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitUsage
}

// Report writes err as one line on stderr and returns the exit code:
// every error a command returns ends here.
func Report(stderr io.Writer, err error) int {
	if errors.Is(err, syscall.EPIPE) {
		return ExitBrokenPipe // the reader left (`status | head`): nothing to say
	}
	code := CodeOf(err)
	var ee *ExitError
	if err == nil || errors.As(err, &ee) && ee.Err == nil {
		return code
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	fmt.Fprintln(stderr, "stagedeck: "+sanitize.Line(msg))
	return code
}

// Command stagedeck is a terminal console for the owners of GitOps stages:
// what is in the ops repository, what Argo CD deployed, and the pinned
// sync and git-revert rollback that move between them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/stagedeck/stagedeck/sanitize"
)

// Set by the release build (-ldflags "-X main.version=...").
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// Exit codes shared by every command.
const (
	exitOK          = 0
	exitPending     = 1 // something pending, out of sync, degraded, failed; differences
	exitRefused     = 1 // refused by a check or not confirmed: nothing was sent or pushed
	exitUsage       = 2 // usage, config or bad input
	exitUnreachable = 3 // git or Argo CD unreachable
)

// exitError carries an exit code with the one-line message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: code, err: err}
}

// forceCode gives err the exit code a command promises for all its errors.
func forceCode(code int, err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return &exitError{code: code, err: ee.err}
	}
	return &exitError{code: code, err: err}
}

func main() {
	// SIGHUP (a dropped SSH session) and SIGPIPE (`status | head`) end the
	// run like ctrl+c does, so deferred cleanup (the demo's temp dir) runs.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the process exit code; every
// error becomes one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	// stderr only ever carries text for a person: cleaned as it is written.
	stderr = sanitize.NewWriter(stderr)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	code := exitUsage
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	fmt.Fprintln(stderr, "stagedeck: "+sanitize.Line(sanitize.Userinfo(msg)))
	return code
}

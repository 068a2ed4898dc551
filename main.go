// Command stagedeck is a terminal console for the owners of GitOps stages:
// what is in the ops repository, what Argo CD deployed, and the pinned
// sync and git-revert rollback that move between them. This file only
// wires: the commands live in cmd/, the console in console/ and tui/.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/stagedeck/stagedeck/cmd/root"
	versioncmd "github.com/stagedeck/stagedeck/cmd/version"
)

// Set by the release build (-ldflags "-X main.version=...").
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	// SIGHUP (a dropped SSH session) ends the run like ctrl+c does, so
	// deferred cleanup (the demo's temp dir) runs. SIGPIPE is ignored: a
	// closed stdout (`status | head`) is a write error the command returns;
	// a connection Argo CD closed is one the client handles. (Asking to be
	// told of SIGPIPE would also hear every peer that closed a socket.)
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	stopProfile := profile(os.Getenv("STAGEDECK_CPUPROFILE"))
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return root.Run(ctx, args, os.Stdin, stdout, stderr, versioncmd.Info{Version: version, Commit: commit, Date: date})
}

// profile writes a CPU profile of the whole run to path (for the fleet-scale
// work: `STAGEDECK_CPUPROFILE=cpu.out stagedeck status`); "" does nothing.
func profile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stagedeck: STAGEDECK_CPUPROFILE:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "stagedeck: STAGEDECK_CPUPROFILE:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

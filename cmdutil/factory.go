package cmdutil

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagedeck/stagedeck/session"
)

// IOStreams are a command's standard streams. ErrOut is already cleaned
// for a terminal; Out is raw, so JSON keeps exact values.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// Factory hands every command its dependencies; tests build one by hand.
type Factory struct {
	IO    IOStreams
	Flags *session.Flags
	// Open opens a session for the global flags, with its exit code set:
	// 2 for config and input, 3 when git is out of reach.
	Open func(ctx context.Context, fetch bool) (*session.Session, error)
	// Now is the clock for ages and --since; the demo's is frozen.
	Now func() time.Time
}

// New is the factory of the real program: flags filled by cobra, streams
// from the process.
func New(streams IOStreams) *Factory {
	f := &Factory{IO: streams, Flags: &session.Flags{}, Now: time.Now}
	f.Open = func(ctx context.Context, fetch bool) (*session.Session, error) {
		s, err := session.Open(ctx, *f.Flags, fetch)
		if err != nil {
			code := ExitUsage
			if session.IsUnreachable(err) {
				code = ExitUnreachable
			}
			return nil, WithCode(code, err)
		}
		return s, nil
	}
	return f
}

// StageCompletion completes stage names from the config.
func StageCompletion(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if f.Flags.Demo {
			return session.DemoStageNames(), cobra.ShellCompDirectiveNoFileComp
		}
		cfg, err := session.LoadConfig(*f.Flags)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return cfg.StageNames(), cobra.ShellCompDirectiveNoFileComp
	}
}

// CheckOutput refuses an -o value other than table or json.
func CheckOutput(output string) error {
	if output != "table" && output != "json" {
		return WithCode(ExitUsage, fmtErr("unknown output %q: use -o table or -o json", output))
	}
	return nil
}

// Package root wires the commands into one cobra tree: no subcommand opens
// the console, the others are for scripts and SSH one-liners.
package root

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	diffcmd "github.com/stagedeck/stagedeck/cmd/diff"
	logcmd "github.com/stagedeck/stagedeck/cmd/log"
	rollbackcmd "github.com/stagedeck/stagedeck/cmd/rollback"
	servecmd "github.com/stagedeck/stagedeck/cmd/serve"
	statuscmd "github.com/stagedeck/stagedeck/cmd/status"
	synccmd "github.com/stagedeck/stagedeck/cmd/sync"
	terminatecmd "github.com/stagedeck/stagedeck/cmd/terminate"
	versioncmd "github.com/stagedeck/stagedeck/cmd/version"
	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/console"
	"github.com/stagedeck/stagedeck/sanitize"
)

// NewCmd builds the command tree on f.
func NewCmd(f *cmdutil.Factory, info versioncmd.Info) *cobra.Command {
	root := &cobra.Command{
		Use:   "stagedeck",
		Short: "A terminal console for the owners of GitOps stages",
		Long: "stagedeck shows every stage of a two-repo GitOps flow: what the ops repository holds,\n" +
			"what Argo CD deployed, and what is pending; it syncs exactly the reviewed revision\n" +
			"and rolls back with git revert. Run `stagedeck --demo` to try it without a cluster.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += ": did you mean " + strings.Join(s, " or ") + "?"
			}
			return cmdutil.WithCode(cmdutil.ExitUsage, errors.New(msg+" (stagedeck --help lists the commands)"))
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return console.Run(cmd.Context(), *f.Flags)
		},
	}
	root.PersistentFlags().StringVar(&f.Flags.Config, "config", "", "config file (default ./stagedeck.yaml, then $XDG_CONFIG_HOME/stagedeck/config.yaml)")
	root.PersistentFlags().BoolVar(&f.Flags.Demo, "demo", false, "run against the built-in demo sandbox (no cluster needed)")
	root.PersistentFlags().BoolVar(&f.Flags.ReadOnly, "read-only", false, "refuse every sync, terminate, commit and push")
	root.SuggestionsMinimumDistance = 2
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cmdutil.WithCode(cmdutil.ExitUsage, err) })
	root.AddCommand(
		statuscmd.NewCmd(f, nil),
		versioncmd.NewCmd(f, info),
		diffcmd.NewCmd(f, nil),
		synccmd.NewCmd(f, nil),
		rollbackcmd.NewCmd(f, nil),
		logcmd.NewCmd(f, nil),
		terminatecmd.NewCmd(f, nil),
		servecmd.NewCmd(f, info, nil),
	)
	root.CompletionOptions.HiddenDefaultCmd = false
	return root
}

// Run executes a command line and returns the process exit code; every
// error becomes one line on stderr.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, info versioncmd.Info) int {
	// stderr only ever carries text for a person: cleaned as it is written.
	stderr = sanitize.NewWriter(stderr)
	f := cmdutil.New(cmdutil.IOStreams{In: stdin, Out: stdout, ErrOut: stderr})
	root := NewCmd(f, info)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return cmdutil.Report(stderr, root.ExecuteContext(ctx))
}

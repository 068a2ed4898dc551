// Package terminate is `stagedeck terminate`: end the running sync of a
// stage's apps, and check that Argo CD took it.
package terminate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/deploy"
	"github.com/stagedeck/stagedeck/review"
	"github.com/stagedeck/stagedeck/sanitize"
	"github.com/stagedeck/stagedeck/session"
)

// Options are one run's inputs and dependencies.
type Options struct {
	IO   cmdutil.IOStreams
	Open func(ctx context.Context, fetch bool) (*session.Session, error)

	Args    []string // STAGE [APP]
	Confirm []string
}

// NewCmd builds the command; runF replaces Run in tests of the flags.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO, Open: f.Open}
	cmd := &cobra.Command{
		Use:   "terminate STAGE [APP]",
		Short: "End a running sync of a stage's apps (or one app)",
		Long: "Terminate the running operation of every app of STAGE that has one (or of APP).\n" +
			"Only apps with an operation running are sent a terminate; nothing else is sent.\n" +
			"A protected stage needs --confirm STAGE. Exit 0 terminated, 1 refused or nothing\n" +
			"running, 2 bad input, 3 Argo CD unreachable.",
		Example: "  stagedeck terminate tst\n  stagedeck terminate prod api --confirm prod",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
		ValidArgsFunction: cmdutil.StageCompletion(f),
	}
	cmd.Flags().StringSliceVar(&opts.Confirm, "confirm", nil, "the stage's name, required for protected stages")
	return cmd
}

// Run sends a terminate to each app of the stage with an operation running.
func Run(ctx context.Context, opts *Options) error {
	s, err := opts.Open(ctx, false)
	if err != nil {
		return err
	}
	defer s.Close()
	st, ok := s.Cfg.StageByName(opts.Args[0])
	if !ok {
		return cmdutil.UnknownStage(s, opts.Args[0])
	}
	if st.Protected && !slices.Contains(opts.Confirm, st.Name) {
		return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("%s is protected: add --confirm %s to terminate its sync (nothing was sent)", st.Name, st.Name))
	}
	c, err := s.ClientFor(st.Name)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUsage, err)
	}
	b, err := board.Collect(ctx, s.Sources())
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUnreachable, err)
	}
	if bst, _ := b.Stage(st.Name); bst.ArgoError != "" {
		return cmdutil.WithCode(cmdutil.ExitUnreachable, errors.New(bst.ArgoError))
	}
	bst, _ := b.Stage(st.Name)
	app := ""
	if len(opts.Args) == 2 {
		app = opts.Args[1]
	}
	targets, err := review.Targets(bst, app)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUsage, err)
	}
	var running []string
	var runningApps []board.App
	for _, a := range review.AppsOf(bst, targets) {
		if a.OperationRunning {
			running = append(running, a.Name)
			runningApps = append(runningApps, a)
		}
	}
	if len(running) == 0 {
		return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("no operation is running in %s: nothing was sent", st.Name))
	}
	// A terminate leaves what it stops half deployed: every protected stage
	// the stopped apps deploy into needs its name, as for their sync.
	if missing := config.Unconfirmed(s.Cfg.Touching(board.AppPaths(runningApps)), opts.Confirm); len(missing) > 0 {
		return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("this terminate stops a sync into protected stage %s: add --confirm %s (nothing was sent)",
			strings.Join(missing, ", "), strings.Join(missing, " --confirm ")))
	}
	out := sanitize.NewWriter(opts.IO.Out)
	var errs []error
	var sent []string
	for _, name := range running {
		if err := deploy.Terminate(ctx, c, name); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(out, "%s: terminate sent\n", name)
		sent = append(sent, name)
	}
	if err := errors.Join(errs...); err != nil {
		return cmdutil.WithCode(cmdutil.SyncErrCode(err), err)
	}
	// The outcome is checked, not assumed: Argo CD can lose a
	// terminate that races its controller (the phase goes back to
	// Running). Nothing is re-sent; the owner is told.
	var stuck []string
	for _, name := range sent {
		phase := deploy.FollowTerminate(ctx, c, name, deploy.TerminateWait)
		if phase == "Running" {
			stuck = append(stuck, name)
			continue
		}
		fmt.Fprintf(out, "%s: %s\n", name, sanitize.Line(phase))
	}
	if len(stuck) > 0 {
		return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("%s still Running after %s: Argo CD did not take the terminate; run stagedeck terminate %s again",
			strings.Join(stuck, ", "), deploy.TerminateWait, st.Name))
	}
	return nil
}

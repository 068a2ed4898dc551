package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagedeck/stagedeck/argo"
	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/sanitize"
)

func newTerminateCmd(g *globalFlags) *cobra.Command {
	var confirm []string
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
			ctx := cmd.Context()
			s, err := openSession(ctx, g, false)
			if err != nil {
				return err
			}
			defer s.Close()
			st, ok := s.cfg.StageByName(args[0])
			if !ok {
				return withCode(exitUsage, fmt.Errorf("no stage %q: stages are %s", args[0], strings.Join(s.cfg.StageNames(), ", ")))
			}
			if st.Protected && !slices.Contains(confirm, st.Name) {
				return withCode(exitRefused, fmt.Errorf("%s is protected: add --confirm %s to terminate its sync (nothing was sent)", st.Name, st.Name))
			}
			c, err := s.clientFor(st.Name)
			if err != nil {
				return withCode(exitUsage, err)
			}
			b, err := board.Collect(ctx, s.sources())
			if err != nil {
				return withCode(exitUnreachable, err)
			}
			if bst, _ := b.Stage(st.Name); bst.ArgoError != "" {
				return withCode(exitUnreachable, errors.New(bst.ArgoError))
			}
			bst, _ := b.Stage(st.Name)
			app := ""
			if len(args) == 2 {
				app = args[1]
			}
			targets, err := diffTargets(bst, app)
			if err != nil {
				return withCode(exitUsage, err)
			}
			var running []string
			for _, a := range appsOf(bst, targets) {
				if a.OperationRunning {
					running = append(running, a.Name)
				}
			}
			if len(running) == 0 {
				return withCode(exitRefused, fmt.Errorf("no operation is running in %s: nothing was sent", st.Name))
			}
			out := sanitize.NewWriter(cmd.OutOrStdout())
			var errs []error
			var sent []string
			for _, name := range running {
				if err := c.Terminate(ctx, name); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(out, "%s: terminate sent\n", name)
				sent = append(sent, name)
			}
			if err := errors.Join(errs...); err != nil {
				return withCode(syncErrCode(err), err)
			}
			// The outcome is checked, not assumed: Argo CD can lose a
			// terminate that races its controller (the phase goes back to
			// Running). Nothing is re-sent; the owner is told.
			var stuck []string
			for _, name := range sent {
				phase := followTerminate(ctx, c, name, terminateWait)
				if phase == "Running" {
					stuck = append(stuck, name)
					continue
				}
				fmt.Fprintf(out, "%s: %s\n", name, sanitize.Line(phase))
			}
			if len(stuck) > 0 {
				return withCode(exitRefused, fmt.Errorf("%s still Running after %s: Argo CD did not take the terminate; run stagedeck terminate %s again",
					strings.Join(stuck, ", "), terminateWait, st.Name))
			}
			return nil
		},
		ValidArgsFunction: stageCompletion(g),
	}
	cmd.Flags().StringSliceVar(&confirm, "confirm", nil, "the stage's name, required for protected stages")
	return cmd
}

// terminateWait is how long terminate watches for the operation to end.
const terminateWait = 15 * time.Second

// followTerminate polls the app until its operation left Running and
// Terminating, and returns the last phase seen ("Running" if it never did).
func followTerminate(ctx context.Context, c *argo.Client, app string, wait time.Duration) string {
	deadline := time.Now().Add(wait)
	phase := "Running"
	for {
		cctx, cancel := argo.WithTimeout(ctx)
		a, err := c.Get(cctx, app, "")
		cancel()
		if err == nil {
			phase = a.Operation.Phase
			if phase != "Running" && phase != "Terminating" {
				if a.Operation.Message != "" {
					phase += ": " + a.Operation.Message
				}
				return phase
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if phase == "Terminating" {
				return "Terminating (Argo CD is ending it)"
			}
			return "Running"
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// Package diff is `stagedeck diff`: the pending config diff of a stage or
// app, Argo CD's manifests, a comparison with another stage, or one commit;
// secrets redacted. Exit codes follow `argocd app diff`.
package diff

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/review"
	"github.com/stagedeck/stagedeck/sanitize"
	"github.com/stagedeck/stagedeck/session"
)

// Options are one run's inputs and dependencies.
type Options struct {
	IO   cmdutil.IOStreams
	Open func(ctx context.Context, fetch bool) (*session.Session, error)

	Args      []string // STAGE [APP]
	Manifests bool
	Against   string
	Commit    string
}

// NewCmd builds the command; runF replaces Run in tests of the flags.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO, Open: f.Open}
	cmd := &cobra.Command{
		Use:   "diff STAGE [APP]",
		Short: "Print what a stage would change on its next sync, secrets redacted",
		Long: "Print the pending config diff of a stage (or one app): what is in git between the\n" +
			"deployed revision and head. --manifests prints Argo CD's live vs desired manifests,\n" +
			"--against OTHER what promoting STAGE's directory to OTHER would change, --commit SHA\n" +
			"one commit's changes. Secret and SealedSecret values are never printed.\n" +
			"Exit 0 no difference, 1 differences, 2 error (as `argocd app diff`).",
		Example: "  stagedeck diff tst\n  stagedeck diff tst web --manifests\n  stagedeck diff tst --against perf",
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
	cmd.Flags().BoolVar(&opts.Manifests, "manifests", false, "diff Argo CD's live vs desired manifests instead of git")
	cmd.Flags().StringVar(&opts.Against, "against", "", "compare with another stage's directory")
	cmd.Flags().StringVar(&opts.Commit, "commit", "", "only this commit's changes")
	return cmd
}

// Run prints the diff: exit 0 no difference, 1 differences, 2 error.
func Run(ctx context.Context, opts *Options) error {
	if opts.Manifests && (opts.Against != "" || opts.Commit != "") {
		return cmdutil.WithCode(cmdutil.ExitUsage, errors.New("--manifests cannot be combined with --against or --commit"))
	}
	s, err := opts.Open(ctx, true)
	if err != nil {
		return cmdutil.ForceCode(cmdutil.ExitUsage, err)
	}
	defer s.Close()
	b, err := board.Collect(ctx, s.Sources())
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUsage, err)
	}
	st, app, targets, err := cmdutil.StageArgs(s, b, opts.Args)
	if err != nil {
		return err
	}
	var out string
	switch {
	case opts.Against != "":
		other, ok := b.Stage(opts.Against)
		if !ok {
			return cmdutil.WithCode(cmdutil.ExitUsage, fmt.Errorf("no stage %q to compare with: stages are %s", opts.Against, strings.Join(s.Cfg.StageNames(), ", ")))
		}
		dirA, dirB := st.Path, other.Path
		if app != "" {
			rel := strings.TrimPrefix(strings.TrimPrefix(targets[0].Path, st.Path), "/")
			dirA, dirB = st.Path+"/"+rel, other.Path+"/"+rel
		}
		out, err = review.Compare(ctx, s.Repo, b.Repo.Head, dirA, dirB)
	case opts.Manifests:
		if s.Cfg.GitOnly() {
			return cmdutil.WithCode(cmdutil.ExitUsage, errors.New("--manifests needs Argo CD: the config has no argocd section"))
		}
		out, err = review.Manifests(ctx, func(stage string) (review.ResourceLister, error) { return s.ClientFor(stage) }, targets)
	default:
		out, err = review.Pending(ctx, s.Repo, review.Request{Targets: targets, Head: b.Repo.Head, Commit: opts.Commit})
	}
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUsage, err)
	}
	fmt.Fprint(sanitize.NewWriter(opts.IO.Out), out)
	if strings.Contains(out, "diff --git") {
		return cmdutil.Exit(cmdutil.ExitPending)
	}
	return nil
}

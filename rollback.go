package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/opsrepo"
	"github.com/stagedeck/stagedeck/patch"
	"github.com/stagedeck/stagedeck/sanitize"
)

// rollbackExitCode maps rollback errors: 1 refused or conflicted, 3 remote
// unreachable, 2 for the rest (bad input).
func rollbackExitCode(err error) int {
	switch {
	case errors.Is(err, opsrepo.ErrReadOnly):
		return exitUsage
	case errors.Is(err, opsrepo.ErrAuth):
		return exitUnreachable
	case errors.Is(err, opsrepo.ErrConflict), errors.Is(err, opsrepo.ErrNothingToDo),
		errors.Is(err, opsrepo.ErrPushRejected), errors.Is(err, opsrepo.ErrNoRemote):
		return exitRefused
	case errors.Is(err, opsrepo.ErrUnreachable):
		return exitUnreachable
	}
	return exitUsage
}

// prepareRollback checks the stage and builds the rollback commit.
func prepareRollback(ctx context.Context, s *session, stage, revert, to, reason string) (*opsrepo.Plan, opsrepo.Rollback, error) {
	st, ok := s.cfg.StageByName(stage)
	if !ok {
		return nil, opsrepo.Rollback{}, withCode(exitUsage, fmt.Errorf("no stage %q: stages are %s", stage, strings.Join(s.cfg.StageNames(), ", ")))
	}
	if strings.TrimSpace(reason) == "" {
		return nil, opsrepo.Rollback{}, withCode(exitUsage, errors.New("a rollback needs --reason TEXT: it goes into the commit"))
	}
	op, err := s.operator()
	if err != nil {
		return nil, opsrepo.Rollback{}, withCode(exitUsage, fmt.Errorf("%w (nothing was committed)", err))
	}
	rb := opsrepo.Rollback{Stage: st.Name, Path: st.Path, Revert: revert, RestoreTo: to, Reason: reason, Operator: op}
	plan, err := s.repo.PrepareRollback(ctx, rb)
	if err != nil {
		return nil, rb, withCode(rollbackExitCode(err), err)
	}
	return plan, rb, nil
}

func newRollbackCmd(g *globalFlags) *cobra.Command {
	var revert, to, reason string
	var confirm []string
	var yes, syncAfter, alsoDeploy, fromRunning bool
	cmd := &cobra.Command{
		Use:   "rollback STAGE (--revert SHA | --to SHA) --reason TEXT",
		Short: "Roll a stage back with a new commit in the ops repo (git revert, never a rewrite)",
		Long: "Roll a stage back in git: --revert SHA undoes one commit inside the stage directory\n" +
			"(later changes to other lines are kept; overlapping ones refuse); --to SHA makes the\n" +
			"stage directory identical to its state at SHA. The exact diff is shown first, then\n" +
			"the commit is pushed (never forced); if someone pushed meanwhile it is rebuilt on\n" +
			"their commit or refused. --sync then syncs the apps whose directories the commit\n" +
			"changes, and only those. When those apps have other commits never deployed, --sync\n" +
			"needs a choice: --also-deploy deploys them too, --from-running rolls back from what\n" +
			"runs (those commits are undone in git too, and named in the commit message).\n" +
			"Exit 0 pushed, 1 refused or conflicted, 2 bad input, 3 remote unreachable.",
		Example: "  stagedeck rollback prod --to 3f2a1bc --reason 'INC-42' --confirm prod --yes --sync\n  stagedeck rollback tst --revert 9e8d7c6 --reason 'bad values'",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (revert == "") == (to == "") {
				return withCode(exitUsage, errors.New("give exactly one of --revert SHA or --to SHA"))
			}
			ctx := cmd.Context()
			s, err := openSession(ctx, g, true)
			if err != nil {
				return err
			}
			defer s.Close()
			st, ok := s.cfg.StageByName(args[0])
			if ok && st.Protected && !slices.Contains(confirm, st.Name) {
				return withCode(exitRefused, fmt.Errorf("%s is protected: add --confirm %s to roll it back (nothing was committed or pushed)", st.Name, st.Name))
			}
			if alsoDeploy && fromRunning {
				return withCode(exitUsage, errors.New("give one of --also-deploy or --from-running"))
			}
			if (alsoDeploy || fromRunning) && (!syncAfter || to != "") {
				return withCode(exitUsage, errors.New("--also-deploy and --from-running choose what a --sync after a --revert deploys"))
			}
			plan, rb, err := prepareRollback(ctx, s, args[0], revert, to, reason)
			if err != nil {
				return err
			}
			// The sync that follows deploys exactly the rollback: only the apps
			// whose directories the commit changes, and never, unasked, commits
			// those apps have not deployed yet.
			var apps []board.App
			if syncAfter && !s.cfg.GitOnly() {
				if apps, err = appsChangedBy(ctx, s, st.Name, plan.Paths()); err != nil {
					return withCode(exitUsage, err)
				}

				var also []string
				if revert != "" { // a restore deploys the restored content, nothing else
					also = board.Undeployed(apps, revert)
				}
				switch {
				case len(also) == 0:
				case fromRunning:
					for _, a := range apps {
						rb.FromRunning = append(rb.FromRunning, opsrepo.RunningApp{Path: a.Path, Deployed: a.DeployedRevision})
					}
					if plan, err = s.repo.PrepareRollback(ctx, rb); err != nil {
						return withCode(rollbackExitCode(err), err)
					}
				case alsoDeploy:
					fmt.Fprintf(cmd.ErrOrStderr(), "note: the sync also deploys commits never deployed before: %s\n", strings.Join(also, "; "))
				default:
					return withCode(exitRefused, fmt.Errorf("the sync after this rollback would also deploy commits never deployed: %s: "+
						"add --also-deploy to deploy them too, or --from-running to roll back from what is running (they are undone in git and named in the commit); nothing was pushed or sent",
						strings.Join(also, "; ")))
				}
			}
			// Protection follows the paths the commit changes: a parent
			// stage's rollback that rewrites a protected child needs the
			// child's confirmation too.
			touched := s.cfg.Touching(plan.Paths())
			if missing := config.Unconfirmed(touched, confirm); len(missing) > 0 {
				return withCode(exitRefused, fmt.Errorf("this rollback changes protected stage %s: add --confirm %s (nothing was committed or pushed)",
					strings.Join(missing, ", "), strings.Join(missing, " --confirm ")))
			}
			rb.Allow = func(paths []string) error {
				if missing := config.Unconfirmed(s.cfg.Touching(paths), confirm); len(missing) > 0 {
					return fmt.Errorf("changes protected stage %s, not confirmed", strings.Join(missing, ", "))
				}
				return nil
			}
			out, errOut := sanitize.NewWriter(cmd.OutOrStdout()), cmd.ErrOrStderr()
			subject, _, _ := strings.Cut(plan.Message, "\n")
			fmt.Fprintf(out, "# %s\n# on %s (%s@%s) as %s\n# changes stages: %s\n", sanitize.Line(subject), opsrepo.Short(plan.Parent.String()),
				sanitize.Userinfo(s.repo.URL()), s.repo.Branch(), sanitize.Line(rb.Operator.String()), strings.Join(config.Names(touched), ", "))
			fmt.Fprint(out, patch.Unified(plan.Pairs, diffContext))
			if !yes {
				ok, err := confirmTTY(cmd.InOrStdin(), errOut, "Commit and push this rollback? [y/N] ")
				if err != nil {
					return withCode(exitUsage, errors.New("not a terminal: add --yes to push the rollback"))
				}
				if !ok {
					return withCode(exitRefused, errors.New("not confirmed: nothing was committed or pushed"))
				}
			}
			res, err := s.repo.Publish(ctx, plan, rb)
			if err != nil {
				return withCode(rollbackExitCode(err), err)
			}
			note := ""
			if res.Rebased {
				note = fmt.Sprintf(" (the remote had moved; rebuilt on its new head, attempt %d)", res.Attempts)
			}
			fmt.Fprintf(out, "pushed %s to %s %s%s\n", opsrepo.Short(res.Commit.String()), sanitize.Userinfo(s.repo.URL()), s.repo.Branch(), note)
			if res.Rebased && syncAfter && !s.cfg.GitOnly() && len(rb.FromRunning) == 0 {
				// Rebuilt on someone else's commits: the sync must not ship
				// new ones of theirs on these apps' paths unreviewed.
				fresh, err := appsChangedBy(ctx, s, st.Name, board.AppPaths(apps))
				if err != nil {
					return err
				}
				reviewed := map[string]bool{}
				for _, a := range board.Undeployed(apps, revert) {
					reviewed[a] = true
				}
				var unseen []string
				for _, a := range board.Undeployed(fresh, revert, res.Commit.String()) {
					if !reviewed[a] {
						unseen = append(unseen, a)
					}
				}
				if len(unseen) > 0 {
					return withCode(exitRefused, fmt.Errorf("pushed %s, but the remote had moved and a sync now would also deploy commits you did not see: %s: review them, then stagedeck sync %s --revision %s",
						opsrepo.Short(res.Commit.String()), strings.Join(unseen, "; "), st.Name, opsrepo.Short(res.Commit.String())))
				}
			}
			return afterRollback(ctx, s, st.Name, res.Commit.String(), reason, confirm, syncAfter, board.AppNames(apps), cmd.InOrStdin(), out, errOut)
		},
		ValidArgsFunction: stageCompletion(g),
	}
	cmd.Flags().StringVar(&revert, "revert", "", "undo this commit's changes inside the stage directory")
	cmd.Flags().StringVar(&to, "to", "", "make the stage directory identical to its state at this commit")
	cmd.Flags().StringVar(&reason, "reason", "", "why (required): the commit's Reason trailer")
	cmd.Flags().StringSliceVar(&confirm, "confirm", nil, "the name of each protected stage the rollback changes (repeat, or comma-separated)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&syncAfter, "sync", false, "sync the apps the rollback changes to its commit, and wait")
	cmd.Flags().BoolVar(&alsoDeploy, "also-deploy", false, "with --sync: also deploy the other commits those apps have not deployed yet")
	cmd.Flags().BoolVar(&fromRunning, "from-running", false, "with --sync: roll back from what is running, undoing the commits those apps have not deployed")
	return cmd
}

// afterRollback syncs manual apps to the pushed commit when asked, and says
// what Argo CD will do otherwise.
func afterRollback(ctx context.Context, s *session, stage, commit, reason string, confirm []string, syncAfter bool, apps []string, in io.Reader, out, errOut io.Writer) error {
	if s.cfg.GitOnly() {
		fmt.Fprintln(out, "git-only mode: sync the stage in Argo CD when you are ready")
		return nil
	}
	if !syncAfter {
		fmt.Fprintf(out, "next: stagedeck sync %s --revision %s (auto-sync apps pick it up on their own)\n", stage, opsrepo.Short(commit))
		return nil
	}
	if len(apps) == 0 {
		fmt.Fprintln(out, "no app deploys the files this rollback changes: nothing to sync")
		return nil
	}
	return runSync(ctx, s, syncOptions{stage: stage, apps: apps, revision: commit, reason: "rollback: " + reason, confirm: confirm, wait: true, yes: true, timeout: 10 * time.Minute}, in, out, errOut)
}

// appsChangedBy lists the stage's apps whose directories paths change.
func appsChangedBy(ctx context.Context, s *session, stage string, paths []string) ([]board.App, error) {
	b, err := board.Collect(ctx, s.sources())
	if err != nil {
		return nil, err
	}
	st, ok := b.Stage(stage)
	if !ok {
		return nil, fmt.Errorf("no stage %q", stage)
	}
	if st.ArgoError != "" {
		// Without Argo CD nobody knows what runs: no push promising a sync.
		return nil, withCode(exitUnreachable, fmt.Errorf("argo cd state of %s unknown: %s: nothing was pushed", stage, st.ArgoError))
	}
	var out []board.App
	for _, a := range st.Apps {
		if config.OverlapsAny(a.Path, paths) {
			out = append(out, a)
		}
	}
	return out, nil
}

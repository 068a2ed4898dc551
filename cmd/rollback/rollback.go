// Package rollback is `stagedeck rollback`: a new commit in the ops repo
// (git revert, or a restore of the stage directory), shown, pushed without
// force, and optionally synced to exactly what it changes.
package rollback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagedeck/stagedeck/board"
	synccmd "github.com/stagedeck/stagedeck/cmd/sync"
	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/opsrepo"
	"github.com/stagedeck/stagedeck/patch"
	"github.com/stagedeck/stagedeck/review"
	"github.com/stagedeck/stagedeck/sanitize"
	"github.com/stagedeck/stagedeck/session"
)

// Options are one run's inputs and dependencies.
type Options struct {
	IO   cmdutil.IOStreams
	Open func(ctx context.Context, fetch bool) (*session.Session, error)

	Args                               []string // STAGE
	Revert, To, Reason                 string
	Confirm                            []string
	Yes, Sync, AlsoDeploy, FromRunning bool
}

// NewCmd builds the command; runF replaces Run in tests of the flags.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO, Open: f.Open}
	cmd := &cobra.Command{
		Use:   "rollback STAGE (--revert SHA | --to SHA) --reason TEXT",
		Short: "Roll a stage back with a new commit in the ops repo (git revert, never a rewrite)",
		Long: "Roll a stage back in git: --revert SHA undoes one commit inside the stage directory\n" +
			"(later changes to other lines are kept; overlapping ones refuse); --to SHA makes the\n" +
			"stage directory identical to its state at SHA. The exact diff is shown first, then\n" +
			"the commit is pushed (never forced); if someone pushed meanwhile it is rebuilt on\n" +
			"their commit or refused. --sync then syncs the apps whose directories the commit\n" +
			"changes, and only those (an app with auto-sync deploys it on its own and is left\n" +
			"out). When those apps have other commits never deployed, --sync\n" +
			"needs a choice: --also-deploy deploys them too, --from-running rolls back from what\n" +
			"runs (those commits are undone in git too, and named in the commit message).\n" +
			"Exit 0 pushed, 1 refused or conflicted, 2 bad input, 3 remote unreachable.",
		Example: "  stagedeck rollback prod --to 3f2a1bc --reason 'INC-42' --confirm prod --yes --sync\n  stagedeck rollback tst --revert 9e8d7c6 --reason 'bad values'",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
		ValidArgsFunction: cmdutil.StageCompletion(f),
	}
	cmd.Flags().StringVar(&opts.Revert, "revert", "", "undo this commit's changes inside the stage directory")
	cmd.Flags().StringVar(&opts.To, "to", "", "make the stage directory identical to its state at this commit")
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why (required): the commit's Reason trailer")
	cmd.Flags().StringSliceVar(&opts.Confirm, "confirm", nil, "the name of each protected stage the rollback changes (repeat, or comma-separated)")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&opts.Sync, "sync", false, "sync the apps the rollback changes to its commit, and wait")
	cmd.Flags().BoolVar(&opts.AlsoDeploy, "also-deploy", false, "with --sync: also deploy the other commits those apps have not deployed yet")
	cmd.Flags().BoolVar(&opts.FromRunning, "from-running", false, "with --sync: roll back from what is running, undoing the commits those apps have not deployed")
	return cmd
}

// ExitCode maps rollback errors: 1 refused or conflicted, 3 remote
// unreachable, 2 for the rest (bad input).
func ExitCode(err error) int {
	switch {
	case errors.Is(err, opsrepo.ErrReadOnly):
		return cmdutil.ExitUsage
	case errors.Is(err, opsrepo.ErrAuth):
		return cmdutil.ExitUnreachable
	case errors.Is(err, opsrepo.ErrConflict), errors.Is(err, opsrepo.ErrNothingToDo),
		errors.Is(err, opsrepo.ErrPushRejected), errors.Is(err, opsrepo.ErrNoRemote):
		return cmdutil.ExitRefused
	case errors.Is(err, opsrepo.ErrUnreachable):
		return cmdutil.ExitUnreachable
	}
	return cmdutil.ExitUsage
}

// prepareRollback checks the stage and builds the rollback commit;
// readers (nil in git-only mode) names the apps that read its files.
func prepareRollback(ctx context.Context, s *session.Session, stage, revert, to, reason string, readers func([]string) []string) (*opsrepo.Plan, opsrepo.Rollback, error) {
	st, ok := s.Cfg.StageByName(stage)
	if !ok {
		return nil, opsrepo.Rollback{}, cmdutil.UnknownStage(s, stage)
	}
	if strings.TrimSpace(reason) == "" {
		return nil, opsrepo.Rollback{}, cmdutil.WithCode(cmdutil.ExitUsage, errors.New("a rollback needs --reason TEXT: it goes into the commit"))
	}
	op, err := s.Operator()
	if err != nil {
		return nil, opsrepo.Rollback{}, cmdutil.WithCode(cmdutil.ExitUsage, fmt.Errorf("%w (nothing was committed)", err))
	}
	rb := opsrepo.Rollback{Stage: st.Name, Path: st.Path, Revert: revert, RestoreTo: to, Reason: reason, Operator: op, Readers: readers}
	plan, err := s.Repo.PrepareRollback(ctx, rb)
	if err != nil {
		return nil, rb, cmdutil.WithCode(ExitCode(err), err)
	}
	return plan, rb, nil
}

// Run builds, shows, pushes and (with Sync) deploys the rollback.
func Run(ctx context.Context, opts *Options) error {
	if (opts.Revert == "") == (opts.To == "") {
		return cmdutil.WithCode(cmdutil.ExitUsage, errors.New("give exactly one of --revert SHA or --to SHA"))
	}
	s, err := opts.Open(ctx, true)
	if err != nil {
		return err
	}
	defer s.Close()
	st, ok := s.Cfg.StageByName(opts.Args[0])
	if ok && st.Protected && !slices.Contains(opts.Confirm, st.Name) {
		return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("%s is protected: add --confirm %s to roll it back (nothing was committed or pushed)", st.Name, st.Name))
	}
	if opts.AlsoDeploy && opts.FromRunning {
		return cmdutil.WithCode(cmdutil.ExitUsage, errors.New("give one of --also-deploy or --from-running"))
	}
	if (opts.AlsoDeploy || opts.FromRunning) && (!opts.Sync || opts.To != "") {
		return cmdutil.WithCode(cmdutil.ExitUsage, errors.New("--also-deploy and --from-running choose what a --sync after a --revert deploys"))
	}
	// Which apps read the files it changes (a values file an Application
	// names may be in another stage's directory) is Argo CD's to say.
	var readers func([]string) []string
	var b *board.Board
	if !s.Cfg.GitOnly() {
		if b, err = board.Collect(ctx, s.Sources()); err != nil {
			return cmdutil.WithCode(cmdutil.ExitUsage, err)
		}
		for _, st := range b.Stages {
			if st.ArgoError != "" && len(st.Apps) == 0 {
				fmt.Fprintf(opts.IO.ErrOut, "note: Argo CD state of %s unknown (%s): whether its apps read the files this rollback changes cannot be told, so it counts as changed\n",
					sanitize.Line(st.Name), sanitize.Line(st.ArgoError))
			}
		}
		readers = b.Readers()
	}
	plan, rb, err := prepareRollback(ctx, s, opts.Args[0], opts.Revert, opts.To, opts.Reason, readers)
	if err != nil {
		return err
	}
	// The sync that follows deploys exactly the rollback: only the apps
	// whose directories the commit changes, and never, unasked, commits
	// those apps have not deployed yet.
	var apps []board.App
	autoOnly := false // every app the rollback changes has auto-sync
	if opts.Sync && !s.Cfg.GitOnly() {
		if apps, err = appsChangedBy(b, st.Name, plan.Paths()); err != nil {
			return cmdutil.WithCode(cmdutil.ExitUsage, err)
		}
		// An app with auto-sync deploys the pushed rollback on its own when
		// it follows the branch, and is not to be pinned: the sync is for
		// the manual ones.
		manual := apps[:0:0]
		for _, a := range apps {
			if !a.AutoSync {
				manual = append(manual, a)
				continue
			}
			autoOnly = true
			switch t := a.TargetRevision; t {
			case "", "HEAD", s.Repo.Branch(), "refs/heads/" + s.Repo.Branch():
				fmt.Fprintf(opts.IO.ErrOut, "note: %s has auto-sync: Argo CD deploys the rollback on its own (it is not synced here)\n", sanitize.Line(a.Name))
			default:
				fmt.Fprintf(opts.IO.ErrOut, "warning: %s has auto-sync to %s, not %s: it will not pick the rollback up (it is not synced here)\n",
					sanitize.Line(a.Name), sanitize.Line(t), sanitize.Line(s.Repo.Branch()))
			}
		}
		apps = manual
		autoOnly = autoOnly && len(apps) == 0

		var also, never []string
		if opts.Revert != "" { // a restore deploys the restored content, nothing else
			also = board.Undeployed(apps, opts.Revert)
			for _, a := range apps {
				if a.DeployedRevision == "" {
					never = append(never, sanitize.Line(a.Name))
				}
			}
		}
		fromRunning := "or --from-running to roll back from what is running (they are undone in git and named in the commit)"
		if len(never) > 0 { // nothing runs to roll back from
			fromRunning = "(--from-running cannot: " + strings.Join(never, ", ") + " never deployed, so nothing runs to roll back from)"
		}
		switch {
		case len(also) == 0:
		case opts.FromRunning && len(never) > 0:
			return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("--from-running: %s never deployed, so nothing runs to roll back from: use --also-deploy, or roll back without --sync and sync it on its own; nothing was pushed or sent",
				strings.Join(never, ", ")))
		case opts.FromRunning:
			for _, a := range apps {
				rb.FromRunning = append(rb.FromRunning, opsrepo.RunningApp{Path: a.Path, Deployed: a.DeployedRevision})
			}
			if plan, err = s.Repo.PrepareRollback(ctx, rb); err != nil {
				return cmdutil.WithCode(ExitCode(err), err)
			}
		case opts.AlsoDeploy:
			fmt.Fprintf(opts.IO.ErrOut, "note: the sync also deploys commits never deployed before: %s\n", strings.Join(also, "; "))
		default:
			return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("the sync after this rollback would also deploy commits never deployed: %s: "+
				"add --also-deploy to deploy them too, %s; nothing was pushed or sent",
				strings.Join(also, "; "), fromRunning))
		}
	}
	// Protection follows the paths the commit changes: a parent
	// stage's rollback that rewrites a protected child needs the
	// child's confirmation too.
	touched := s.Cfg.Touching(plan.Paths())
	if missing := config.Unconfirmed(s.Cfg.Touching(board.AppPaths(apps)), opts.Confirm); len(missing) > 0 {
		// The sync that follows needs the confirmation of every stage its
		// apps deploy into: asked now, not after the push.
		return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("the sync after this rollback deploys into protected stage %s: add --confirm %s (nothing was committed or pushed)",
			strings.Join(missing, ", "), strings.Join(missing, " --confirm ")))
	}
	if missing := config.Unconfirmed(touched, opts.Confirm); len(missing) > 0 {
		return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("this rollback changes protected stage %s: add --confirm %s (nothing was committed or pushed)",
			strings.Join(missing, ", "), strings.Join(missing, " --confirm ")))
	}
	rb.Allow = func(paths []string) error {
		if missing := config.Unconfirmed(s.Cfg.Touching(paths), opts.Confirm); len(missing) > 0 {
			return fmt.Errorf("changes protected stage %s, not confirmed", strings.Join(missing, ", "))
		}
		return nil
	}
	out, errOut := sanitize.NewWriter(opts.IO.Out), opts.IO.ErrOut
	subject, _, _ := strings.Cut(plan.Message, "\n")
	fmt.Fprintf(out, "# %s\n# on %s (%s@%s) as %s\n# changes stages: %s\n", sanitize.Line(subject), opsrepo.Short(plan.Parent.String()),
		sanitize.Userinfo(s.Repo.URL()), s.Repo.Branch(), sanitize.Line(rb.Operator.String()), strings.Join(config.Names(touched), ", "))
	fmt.Fprint(out, patch.Unified(plan.Pairs, review.Context))
	if !opts.Yes {
		ok, err := cmdutil.ConfirmTTY(opts.IO.In, errOut, "Commit and push this rollback? [y/N] ")
		if err != nil {
			return cmdutil.WithCode(cmdutil.ExitUsage, errors.New("not a terminal: add --yes to push the rollback"))
		}
		if !ok {
			return cmdutil.WithCode(cmdutil.ExitRefused, errors.New("not confirmed: nothing was committed or pushed"))
		}
	}
	res, err := s.Repo.Publish(ctx, plan, rb)
	if err != nil {
		return cmdutil.WithCode(ExitCode(err), err)
	}
	note := ""
	if res.Rebased {
		note = fmt.Sprintf(" (the remote had moved; rebuilt on its new head, attempt %d)", res.Attempts)
	}
	fmt.Fprintf(out, "pushed %s to %s %s%s\n", opsrepo.Short(res.Commit.String()), sanitize.Userinfo(s.Repo.URL()), s.Repo.Branch(), note)
	if res.Rebased && opts.Sync && !s.Cfg.GitOnly() && len(rb.FromRunning) == 0 {
		// Rebuilt on someone else's commits: the sync must not ship
		// new ones of theirs on these apps' paths unreviewed.
		now, err := board.Collect(ctx, s.Sources())
		if err != nil {
			return err
		}
		fresh, err := appsChangedBy(now, st.Name, board.AppPaths(apps))
		if err != nil {
			return err
		}
		reviewed := map[string]bool{}
		for _, a := range board.Undeployed(apps, opts.Revert) {
			reviewed[a] = true
		}
		var unseen []string
		for _, a := range board.Undeployed(fresh, opts.Revert, res.Commit.String()) {
			if !reviewed[a] {
				unseen = append(unseen, a)
			}
		}
		if len(unseen) > 0 {
			return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("pushed %s, but the remote had moved and a sync now would also deploy commits you did not see: %s: review them, then stagedeck sync %s --revision %s",
				opsrepo.Short(res.Commit.String()), strings.Join(unseen, "; "), st.Name, opsrepo.Short(res.Commit.String())))
		}
	}
	if autoOnly {
		fmt.Fprintln(out, "every app this rollback changes has auto-sync: nothing to sync by hand")
		return nil
	}
	return afterRollback(ctx, s, st.Name, res.Commit.String(), opts.Reason, opts.Confirm, opts.Sync, board.AppNames(apps), cmdutil.IOStreams{In: opts.IO.In, Out: out, ErrOut: errOut})
}

// afterRollback syncs manual apps to the pushed commit when asked, and says
// what Argo CD will do otherwise.
func afterRollback(ctx context.Context, s *session.Session, stage, commit, reason string, confirm []string, syncAfter bool, apps []string, streams cmdutil.IOStreams) error {
	if s.Cfg.GitOnly() {
		fmt.Fprintln(streams.Out, "git-only mode: sync the stage in Argo CD when you are ready")
		return nil
	}
	if !syncAfter {
		fmt.Fprintf(streams.Out, "next: stagedeck sync %s --revision %s (auto-sync apps pick it up on their own)\n", stage, opsrepo.Short(commit))
		return nil
	}
	if len(apps) == 0 {
		fmt.Fprintln(streams.Out, "no app deploys the files this rollback changes: nothing to sync")
		return nil
	}
	return synccmd.Sync(ctx, s, synccmd.Spec{Stage: stage, Apps: apps, Revision: commit, Reason: "rollback: " + reason, Confirm: confirm, Wait: true, Yes: true, Timeout: 10 * time.Minute}, streams)
}

// appsChangedBy lists the stage's apps on b whose directories paths change.
func appsChangedBy(b *board.Board, stage string, paths []string) ([]board.App, error) {
	st, ok := b.Stage(stage)
	if !ok {
		return nil, fmt.Errorf("no stage %q", stage)
	}
	if st.ArgoError != "" {
		// Without Argo CD nobody knows what runs: no push promising a sync.
		return nil, cmdutil.WithCode(cmdutil.ExitUnreachable, fmt.Errorf("argo cd state of %s unknown: %s: nothing was pushed", stage, st.ArgoError))
	}
	var out []board.App
	for _, a := range st.Apps {
		if slices.ContainsFunc(a.Paths(), func(p string) bool { return config.OverlapsAny(p, paths) }) {
			out = append(out, a)
		}
	}
	return out, nil
}

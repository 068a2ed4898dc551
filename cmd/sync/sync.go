// Package sync is `stagedeck sync`: a stage (or one app) to the exact
// revision the owner reviewed, checked before anything is sent, sent once.
package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagedeck/stagedeck/appstate"
	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/deploy"
	"github.com/stagedeck/stagedeck/opsrepo"
	"github.com/stagedeck/stagedeck/review"
	"github.com/stagedeck/stagedeck/sanitize"
	"github.com/stagedeck/stagedeck/session"
)

// Options are one run's inputs and dependencies.
type Options struct {
	IO   cmdutil.IOStreams
	Open func(ctx context.Context, fetch bool) (*session.Session, error)

	Args     []string // STAGE [APP]
	Revision string   // as typed; checked to be a commit of the branch
	Spec     Spec
}

// Spec is one sync's inputs, from the CLI or a rollback.
type Spec struct {
	Stage, App, Revision, Reason string
	Apps                         []string // only these apps (a rollback's); "" App and nil = all
	Confirm                      []string
	DryRun, Prune, Wait, Yes     bool
	Timeout                      time.Duration
}

// NewCmd builds the command; runF replaces Run in tests of the flags.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO, Open: f.Open}
	o := &opts.Spec
	cmd := &cobra.Command{
		Use:   "sync STAGE [APP]",
		Short: "Sync a stage (or one app) to the exact revision you reviewed",
		Long: "Sync every app of STAGE (or one) to --revision, the ops-repo commit you reviewed; a\n" +
			"newer head is never deployed by accident. Permissions and sync windows are checked\n" +
			"before anything is sent, and the request is sent once. A protected stage also needs\n" +
			"--confirm STAGE (and every protected stage its apps deploy into). An app with\n" +
			"auto-sync follows its branch and is not pinned (only --dry-run is). Of an app with\n" +
			"several sources, those from the ops repository are pinned. Exit 0 succeeded,\n" +
			"1 refused, not confirmed, failed or degraded, 2 bad input, 3 Argo CD unreachable.",
		Example: "  stagedeck sync tst --revision 3f2a1bc --yes --wait\n  stagedeck sync prod api --revision 3f2a1bc --confirm prod --reason 'JIRA-42' --wait",
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
	cmd.Flags().StringVar(&opts.Revision, "revision", "", "the reviewed ops-repo commit to deploy (required)")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "ask Argo CD for a dry run")
	cmd.Flags().BoolVar(&o.Prune, "prune", false, "prune resources no longer in git")
	cmd.Flags().StringVar(&o.Reason, "reason", "", "why: sent with the request as sync info")
	cmd.Flags().BoolVar(&o.Wait, "wait", false, "follow the operation until it finished and the apps are healthy or degraded")
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().StringSliceVar(&o.Confirm, "confirm", nil, "the name of each protected stage the apps deploy into (repeat, or comma-separated)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 10*time.Minute, "how long --wait waits")
	return cmd
}

// Run checks the revision is a commit of the branch, then syncs.
func Run(ctx context.Context, opts *Options) error {
	s, err := opts.Open(ctx, true)
	if err != nil {
		return err // 2 config, 3 unreachable
	}
	defer s.Close()
	spec := opts.Spec
	spec.Stage = opts.Args[0]
	if len(opts.Args) == 2 {
		spec.App = opts.Args[1]
	}
	rev, err := deploy.ReviewedRevision(ctx, s.Repo, opts.Revision)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUsage, err)
	}
	spec.Revision = rev
	return Sync(ctx, s, spec, opts.IO)
}

// Sync syncs a stage (or one app) to a revision already checked to be
// on the branch: pre-checks, confirmation, one request per app, and with
// wait, following each to its end.
func Sync(ctx context.Context, s *session.Session, o Spec, io cmdutil.IOStreams) error {
	in, out, errOut := io.In, sanitize.NewWriter(io.Out), io.ErrOut
	cfgStage, ok := s.Cfg.StageByName(o.Stage)
	if !ok {
		return cmdutil.UnknownStage(s, o.Stage)
	}
	if cfgStage.Protected && !slices.Contains(o.Confirm, cfgStage.Name) {
		return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("%s is protected: add --confirm %s to sync it (nothing was sent)", cfgStage.Name, cfgStage.Name))
	}
	rev, app, dryRun, prune, reason, timeout := o.Revision, o.App, o.DryRun, o.Prune, o.Reason, o.Timeout
	op, err := s.Operator()
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUsage, fmt.Errorf("%w (nothing was sent)", err))
	}
	operator := op.String()
	if s.ReadOnly {
		return cmdutil.WithCode(cmdutil.ExitUsage, errors.New("read-only mode: refusing to sync (nothing was sent)"))
	}
	c, err := s.ClientFor(cfgStage.Name)
	if err != nil {
		return cmdutil.WithCode(cmdutil.SyncErrCode(err), err)
	}
	b, err := board.Collect(ctx, s.Sources())
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUnreachable, err)
	}
	st, _ := b.Stage(cfgStage.Name)
	if st.ArgoError != "" {
		return cmdutil.WithCode(cmdutil.ExitUnreachable, errors.New(st.ArgoError))
	}
	targets, err := review.Targets(st, app)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUsage, err)
	}
	apps := review.AppsOf(st, targets)
	if o.Apps != nil {
		var only []board.App
		for _, a := range apps {
			if slices.Contains(o.Apps, a.Name) {
				only = append(only, a)
			}
		}
		apps = only
	}
	if len(apps) == 0 {
		return cmdutil.WithCode(cmdutil.ExitUsage, fmt.Errorf("stage %s has no Argo CD apps to sync", st.Name))
	}
	// Protection follows the paths of the apps sent: an app of a parent
	// stage that deploys a protected child's directory needs its name too.
	appPaths := board.AppPaths(apps) // every source's: an app with several may deploy into another stage
	touched := s.Cfg.Touching(appPaths)
	if missing := config.Unconfirmed(touched, o.Confirm); len(missing) > 0 {
		return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("this sync deploys into protected stage %s: add --confirm %s (nothing was sent)",
			strings.Join(missing, ", "), strings.Join(missing, " --confirm ")))
	}
	fmt.Fprintf(errOut, "syncing %s as %s; stages changed: %s\n", st.Name, sanitize.Line(operator), strings.Join(config.Names(touched), ", "))
	if rev != b.Repo.Head {
		// Only commits that touch these apps count: newer commits elsewhere
		// in the repository change nothing here.
		if head, err := s.Repo.Resolve(b.Repo.Head); err == nil {
			if p, err := s.Repo.Pending(ctx, head, rev, appPaths); err == nil {
				seen := map[string]bool{}
				var newer []string
				for _, path := range appPaths {
					for _, c := range p.Commits[path] {
						if !seen[c.SHA] {
							seen[c.SHA] = true
							newer = append(newer, c.ShortSHA()+" "+sanitize.Line(c.Subject))
						}
					}
				}
				if len(newer) > 0 {
					fmt.Fprintf(errOut, "note: %d newer commit(s) on these apps' paths will not be deployed: %s\n", len(newer), strings.Join(newer, "; "))
				}
			}
		}
	}
	// Argo CD refuses a pinned sync of an app with auto-sync: refused
	// here, before anything is sent, not halfway through the stage.
	var refused []string
	for _, a := range apps {
		if why := appstate.PinRefusal(a.AutoSync, a.TargetRevision, rev, dryRun); why != "" {
			refused = append(refused, a.Name+": "+why)
		}
	}
	if len(refused) > 0 {
		return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("refused before sending: %s", strings.Join(refused, "; ")))
	}
	for _, ch := range deploy.Checks(ctx, c, apps) {
		if !ch.Allowed {
			refused = append(refused, ch.App.Name+": "+ch.Problem)
		}
	}
	if len(refused) > 0 {
		return cmdutil.WithCode(cmdutil.ExitRefused, fmt.Errorf("refused before sending: %s", strings.Join(refused, "; ")))
	}
	if !o.Yes {
		ok, err := cmdutil.ConfirmTTY(in, errOut, fmt.Sprintf("Sync %d app(s) of %s to %s? [y/N] ", len(apps), st.Name, opsrepo.Short(rev)))
		if err != nil {
			return cmdutil.WithCode(cmdutil.ExitUsage, err)
		}
		if !ok {
			return cmdutil.WithCode(cmdutil.ExitRefused, errors.New("not confirmed: nothing was sent"))
		}
	}
	type sent struct {
		app                  board.App
		requested, prevStart time.Time
	}
	// Every app is checked as Argo CD has it before any is sent: an app
	// with an operation running refuses the stage, not its second half.
	prepared := make([]deploy.Prepared, len(apps))
	for i, a := range apps {
		req := appstate.SyncRequest{App: a.Name, Project: a.Project, Revision: rev, DryRun: dryRun, Prune: prune, Reason: reason, Operator: operator,
			RepoURLs: s.Repo.RemoteURLs()}
		if prepared[i], err = deploy.Prepare(ctx, c, req); err != nil {
			return cmdutil.WithCode(cmdutil.SyncErrCode(err), fmt.Errorf("%w (nothing was sent)", err))
		}
	}
	var started []sent
	for i, a := range apps {
		requested, err := deploy.Send(ctx, c, prepared[i])
		prev := prepared[i].PrevStarted
		if err != nil {
			msg := err.Error()
			if len(started) > 0 {
				msg += fmt.Sprintf(" (already sent: %s)", names(started, func(x sent) string { return x.app.Name }))
			}
			return cmdutil.WithCode(cmdutil.SyncErrCode(err), errors.New(msg))
		}
		fmt.Fprintf(out, "%s: sync to %s sent\n", a.Name, opsrepo.Short(rev))
		started = append(started, sent{a, requested, prev})
	}
	if !o.Wait {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	failed := false
	for _, x := range started {
		f := c.Follow(wctx, x.app.Name, rev, x.requested, x.prevStart, dryRun)
		last := ""
		for {
			obs, err := f.Next()
			if err != nil {
				f.Close()
				if errors.Is(err, context.DeadlineExceeded) {
					return cmdutil.WithCode(cmdutil.ExitPending, fmt.Errorf("%s: not finished after %s (it may still be running; nothing was re-sent)", x.app.Name, timeout))
				}
				return cmdutil.WithCode(cmdutil.ExitPending, err)
			}
			line := deploy.ProgressLine(x.app.Name, obs)
			if line != last {
				fmt.Fprintln(out, line)
				last = line
			}
			if obs.Finished {
				if !obs.Succeeded() {
					failed = true
				}
				break
			}
		}
		f.Close()
	}
	if failed {
		return cmdutil.Exit(cmdutil.ExitPending)
	}
	return nil
}

func names[T any](xs []T, f func(T) string) string {
	var out []string
	for _, x := range xs {
		out = append(out, f(x))
	}
	return strings.Join(out, ", ")
}

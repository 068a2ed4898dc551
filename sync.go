package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/stagedeck/stagedeck/argo"
	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/opsrepo"
	"github.com/stagedeck/stagedeck/sanitize"
	"github.com/stagedeck/stagedeck/tui"
)

// syncCheck is the pre-check of one app: may it be synced now, and why not.
type syncCheck struct {
	App     board.App
	Allowed bool
	Problem string // "sync window closed: deny ..." or "permission denied: ..."
}

// clientFor returns the Argo CD client serving a stage.
func (s *session) clientFor(stage string) (*argo.Client, error) {
	st, ok := s.cfg.StageByName(stage)
	if !ok {
		return nil, fmt.Errorf("no stage %q", stage)
	}
	name := s.cfg.ContextFor(st)
	if err := s.argoErr[name]; err != nil {
		return nil, err
	}
	c, ok := s.argo[name]
	if !ok {
		return nil, errors.New("no Argo CD configured: syncing needs an argocd section in the config")
	}
	return c, nil
}

// reviewedRevision resolves rev and insists it is on the ops branch: a sync
// deploys a reviewed commit of the branch, nothing else.
func reviewedRevision(ctx context.Context, repo *opsrepo.Repo, rev string) (string, error) {
	if rev == "" {
		return "", errors.New("no revision: pass --revision SHA, the commit you reviewed (see `stagedeck diff`)")
	}
	h, err := repo.Resolve(rev)
	if err != nil {
		return "", fmt.Errorf("revision %s is not in the ops repository: fetch, or check the sha", rev)
	}
	head, err := repo.Head()
	if err != nil {
		return "", err
	}
	if h != head {
		p, err := repo.Pending(ctx, head, h.String(), nil)
		if err != nil {
			return "", err
		}
		if !p.Ancestor {
			return "", fmt.Errorf("revision %s is not on branch %s", opsrepo.Short(h.String()), repo.Branch())
		}
	}
	return h.String(), nil
}

// checkSync asks Argo CD, before anything is sent, whether each app may be
// synced: RBAC (CanI sync on project/app) and the sync windows.
func checkSync(ctx context.Context, c *argo.Client, apps []board.App) []syncCheck {
	out := make([]syncCheck, len(apps))
	for i, a := range apps {
		out[i] = syncCheck{App: a, Allowed: true}
		cctx, cancel := argo.WithTimeout(ctx)
		can, err := c.CanSync(cctx, a.Project, a.Name)
		cancel()
		switch {
		case err != nil:
			out[i].Allowed, out[i].Problem = false, err.Error()
			continue
		case !can:
			out[i].Allowed, out[i].Problem = false, fmt.Sprintf("permission denied: your Argo CD account may not sync %s/%s", a.Project, a.Name)
			continue
		}
		cctx, cancel = argo.WithTimeout(ctx)
		open, active, err := c.SyncWindows(cctx, a.Name)
		cancel()
		switch {
		case err != nil:
			out[i].Allowed, out[i].Problem = false, err.Error()
		case !open:
			out[i].Allowed, out[i].Problem = false, "sync window closed: "+strings.Join(active, "; ")
		}
	}
	return out
}

// startSync sends one sync request, once, and returns what following it needs.
func startSync(ctx context.Context, c *argo.Client, req argo.SyncRequest) (requested, prevStarted time.Time, err error) {
	cctx, cancel := argo.WithTimeout(ctx)
	before, err := c.Get(cctx, req.App, "")
	cancel()
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if before.Requested || before.Operation.Running() {
		return time.Time{}, time.Time{}, fmt.Errorf("%s: %w", req.App, argo.ErrOperationRunning)
	}
	requested = time.Now()
	// Sent exactly once: on a timeout the outcome is unknown, so we follow
	// the app instead of sending again.
	_, err = c.Sync(ctx, req)
	return requested, before.Operation.StartedAt, err
}

func newSyncCmd(g *globalFlags) *cobra.Command {
	var revision, reason string
	var confirm []string
	var dryRun, prune, wait, yes bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "sync STAGE [APP]",
		Short: "Sync a stage (or one app) to the exact revision you reviewed",
		Long: "Sync every app of STAGE (or one) to --revision, the ops-repo commit you reviewed; a\n" +
			"newer head is never deployed by accident. Permissions and sync windows are checked\n" +
			"before anything is sent, and the request is sent once. A protected stage also needs\n" +
			"--confirm STAGE (and every protected stage its apps deploy into). Exit 0 succeeded,\n" +
			"1 refused, not confirmed, failed or degraded, 2 bad input, 3 Argo CD unreachable.",
		Example: "  stagedeck sync tst --revision 3f2a1bc --yes --wait\n  stagedeck sync prod api --revision 3f2a1bc --confirm prod --reason 'JIRA-42' --wait",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := openSession(ctx, g, true)
			if err != nil {
				return err // 2 config, 3 unreachable
			}
			defer s.Close()
			app := ""
			if len(args) == 2 {
				app = args[1]
			}
			rev, err := reviewedRevision(ctx, s.repo, revision)
			if err != nil {
				return withCode(exitUsage, err)
			}
			return runSync(ctx, s, syncOptions{
				stage: args[0], app: app, revision: rev, reason: reason, confirm: confirm,
				dryRun: dryRun, prune: prune, wait: wait, yes: yes, timeout: timeout,
			}, cmd.InOrStdin(), sanitize.NewWriter(cmd.OutOrStdout()), cmd.ErrOrStderr())
		},
		ValidArgsFunction: stageCompletion(g),
	}
	cmd.Flags().StringVar(&revision, "revision", "", "the reviewed ops-repo commit to deploy (required)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "ask Argo CD for a dry run")
	cmd.Flags().BoolVar(&prune, "prune", false, "prune resources no longer in git")
	cmd.Flags().StringVar(&reason, "reason", "", "why: sent with the request as sync info")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the operation until it finished and the apps are healthy or degraded")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().StringSliceVar(&confirm, "confirm", nil, "the name of each protected stage the apps deploy into (repeat, or comma-separated)")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long --wait waits")
	return cmd
}

// syncOptions are one sync's inputs, from the CLI or a rollback.
type syncOptions struct {
	stage, app, revision, reason string
	apps                         []string // only these apps (a rollback's); "" app and nil = all
	confirm                      []string
	dryRun, prune, wait, yes     bool
	timeout                      time.Duration
}

// runSync syncs a stage (or one app) to a revision already checked to be
// on the branch: pre-checks, confirmation, one request per app, and with
// wait, following each to its end.
func runSync(ctx context.Context, s *session, o syncOptions, in io.Reader, out, errOut io.Writer) error {
	cfgStage, ok := s.cfg.StageByName(o.stage)
	if !ok {
		return withCode(exitUsage, fmt.Errorf("no stage %q: stages are %s", o.stage, strings.Join(s.cfg.StageNames(), ", ")))
	}
	if cfgStage.Protected && !slices.Contains(o.confirm, cfgStage.Name) {
		return withCode(exitRefused, fmt.Errorf("%s is protected: add --confirm %s to sync it (nothing was sent)", cfgStage.Name, cfgStage.Name))
	}
	rev, app, dryRun, prune, reason, timeout := o.revision, o.app, o.dryRun, o.prune, o.reason, o.timeout
	op, err := s.operator()
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("%w (nothing was sent)", err))
	}
	operator := op.String()
	if s.readOnly {
		return withCode(exitUsage, errors.New("read-only mode: refusing to sync (nothing was sent)"))
	}
	c, err := s.clientFor(cfgStage.Name)
	if err != nil {
		return withCode(syncErrCode(err), err)
	}
	b, err := board.Collect(ctx, s.sources())
	if err != nil {
		return withCode(exitUnreachable, err)
	}
	st, _ := b.Stage(cfgStage.Name)
	if st.ArgoError != "" {
		return withCode(exitUnreachable, errors.New(st.ArgoError))
	}
	targets, err := diffTargets(st, app)
	if err != nil {
		return withCode(exitUsage, err)
	}
	apps := appsOf(st, targets)
	if o.apps != nil {
		var only []board.App
		for _, a := range apps {
			if slices.Contains(o.apps, a.Name) {
				only = append(only, a)
			}
		}
		apps = only
	}
	if len(apps) == 0 {
		return withCode(exitUsage, fmt.Errorf("stage %s has no Argo CD apps to sync", st.Name))
	}
	// Protection follows the paths of the apps sent: an app of a parent
	// stage that deploys a protected child's directory needs its name too.
	var appPaths []string
	for _, a := range apps {
		appPaths = append(appPaths, a.Path)
	}
	touched := s.cfg.Touching(appPaths)
	if missing := config.Unconfirmed(touched, o.confirm); len(missing) > 0 {
		return withCode(exitRefused, fmt.Errorf("this sync deploys into protected stage %s: add --confirm %s (nothing was sent)",
			strings.Join(missing, ", "), strings.Join(missing, " --confirm ")))
	}
	fmt.Fprintf(errOut, "syncing %s as %s; stages changed: %s\n", st.Name, sanitize.Line(operator), strings.Join(config.Names(touched), ", "))
	if rev != b.Repo.Head {
		// Only commits that touch these apps count: newer commits elsewhere
		// in the repository change nothing here.
		if head, err := s.repo.Resolve(b.Repo.Head); err == nil {
			if p, err := s.repo.Pending(ctx, head, rev, appPaths); err == nil {
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
	for _, a := range apps {
		if a.AutoSync {
			fmt.Fprintf(errOut, "warning: %s has auto-sync: Argo CD will move it to head on its own\n", a.Name)
		}
	}
	var refused []string
	for _, ch := range checkSync(ctx, c, apps) {
		if !ch.Allowed {
			refused = append(refused, ch.App.Name+": "+ch.Problem)
		}
	}
	if len(refused) > 0 {
		return withCode(exitRefused, fmt.Errorf("refused before sending: %s", strings.Join(refused, "; ")))
	}
	if !o.yes {
		ok, err := confirmTTY(in, errOut, fmt.Sprintf("Sync %d app(s) of %s to %s? [y/N] ", len(apps), st.Name, opsrepo.Short(rev)))
		if err != nil {
			return withCode(exitUsage, err)
		}
		if !ok {
			return withCode(exitRefused, errors.New("not confirmed: nothing was sent"))
		}
	}
	type sent struct {
		app                  board.App
		requested, prevStart time.Time
	}
	var started []sent
	for _, a := range apps {
		req := argo.SyncRequest{App: a.Name, Project: a.Project, Revision: rev, DryRun: dryRun, Prune: prune, Reason: reason, Operator: operator}
		requested, prev, err := startSync(ctx, c, req)
		if err != nil {
			msg := err.Error()
			if len(started) > 0 {
				msg += fmt.Sprintf(" (already sent: %s)", names(started, func(x sent) string { return x.app.Name }))
			}
			return withCode(syncErrCode(err), errors.New(msg))
		}
		fmt.Fprintf(out, "%s: sync to %s sent\n", a.Name, opsrepo.Short(rev))
		started = append(started, sent{a, requested, prev})
	}
	if !o.wait {
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
					return withCode(exitPending, fmt.Errorf("%s: not finished after %s (it may still be running; nothing was re-sent)", x.app.Name, timeout))
				}
				return withCode(exitPending, err)
			}
			line := progressLine(x.app.Name, obs)
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
		return &exitError{code: exitPending}
	}
	return nil
}

func appsOf(st *board.Stage, targets []tui.DiffTarget) []board.App {
	var out []board.App
	for _, t := range targets {
		for _, a := range st.Apps {
			if a.Name == t.App {
				out = append(out, a)
			}
		}
	}
	return out
}

func names[T any](xs []T, f func(T) string) string {
	var out []string
	for _, x := range xs {
		out = append(out, f(x))
	}
	return strings.Join(out, ", ")
}

// progressLine is one line of `sync --wait` output.
func progressLine(app string, o argo.Observation) string {
	switch {
	case o.Reconnecting:
		return fmt.Sprintf("%s: connection lost (%v); re-attaching to the running operation", app, o.Err)
	case !o.Ours:
		return fmt.Sprintf("%s: waiting for Argo CD to start the operation", app)
	}
	op := o.App.Operation.Cleaned()
	line := fmt.Sprintf("%s: %s", app, op.Phase)
	if op.Message != "" {
		line += ": " + op.Message
	}
	if op.Phase == "Succeeded" || o.Finished {
		line += fmt.Sprintf(" (health %s)", sanitize.Line(o.App.Health))
	}
	for _, r := range op.Resources {
		if r.Status != "Synced" {
			line += fmt.Sprintf("; %s/%s %s: %s", r.Kind, r.Name, r.Status, r.Message)
		}
	}
	return line
}

// confirmTTY asks on a terminal; without one it refuses and names --yes.
func confirmTTY(in io.Reader, out io.Writer, prompt string) (bool, error) {
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, errors.New("not a terminal: add --yes to confirm the sync")
	}
	fmt.Fprint(out, prompt)
	line, _ := bufio.NewReader(in).ReadString('\n')
	return strings.EqualFold(strings.TrimSpace(line), "y") || strings.EqualFold(strings.TrimSpace(line), "yes"), nil
}

// syncErrCode maps an error from sending a sync: read-only is the
// configuration (2), an unreachable or unauthenticated Argo CD 3, and
// anything Argo CD refused (an operation running, permission) 1.
func syncErrCode(err error) int {
	switch {
	case errors.Is(err, argo.ErrReadOnly):
		return exitUsage
	case errors.Is(err, argo.ErrUnreachable), errors.Is(err, argo.ErrUnauthenticated):
		return exitUnreachable
	}
	return exitRefused
}

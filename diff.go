package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/opsrepo"
	"github.com/stagedeck/stagedeck/patch"
	"github.com/stagedeck/stagedeck/sanitize"
	"github.com/stagedeck/stagedeck/tui"
)

// diffContext is the number of context lines in every diff.
const diffContext = 3

// pendingDiff renders what is in git but not deployed: per target, the range
// deployed..head over its path; with commit, only that commit's changes.
func pendingDiff(ctx context.Context, repo *opsrepo.Repo, req tui.DiffRequest) (string, error) {
	head, err := repo.Resolve(req.Head)
	if err != nil {
		return "", err
	}
	var pairs []patch.Pair
	for _, t := range req.Targets {
		var ps []patch.Pair
		switch {
		case req.Commit != "":
			c, err := repo.Resolve(req.Commit)
			if err != nil {
				return "", err
			}
			ps, err = repo.CommitChanges(ctx, c, t.Path)
			if err != nil {
				return "", err
			}
		case t.Deployed == "":
			return "", fmt.Errorf("%s: no deployed revision known (git-only mode or never synced): pick one commit with --commit", t.App)
		default:
			from, err := repo.Resolve(t.Deployed)
			if err != nil {
				return "", fmt.Errorf("%s: deployed revision %s: %w", t.App, opsrepo.Short(t.Deployed), err)
			}
			ps, err = repo.Changes(ctx, from, head, t.Path)
			if err != nil {
				return "", err
			}
		}
		pairs = append(pairs, ps...)
	}
	return patch.Unified(dedupe(pairs), diffContext), nil
}

// dedupe drops repeated file changes (stage targets can overlap app targets).
func dedupe(pairs []patch.Pair) []patch.Pair {
	seen := map[string]bool{}
	out := pairs[:0:0]
	for _, p := range pairs {
		k := ""
		if p.From != nil {
			k += p.From.Path
		}
		k += "\x00"
		if p.To != nil {
			k += p.To.Path
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// compareDiff renders what promoting dirA's content into dirB would change.
func compareDiff(ctx context.Context, repo *opsrepo.Repo, head, dirA, dirB string) (string, error) {
	h, err := repo.Resolve(head)
	if err != nil {
		return "", err
	}
	pairs, err := repo.CompareDirs(ctx, h, dirA, dirB)
	if err != nil {
		return "", err
	}
	return patch.Unified(pairs, diffContext), nil
}

// manifestDiff renders Argo CD's live vs predicted state of the apps' resources.
func manifestDiff(ctx context.Context, s *session, targets []tui.DiffTarget) (string, error) {
	var sb strings.Builder
	for _, t := range targets {
		c, ok := s.argo[s.cfg.ContextFor(stageOf(s, t.Stage))]
		if !ok {
			return "", fmt.Errorf("%s: no Argo CD connection for stage %s", t.App, t.Stage)
		}
		res, err := c.ManagedResources(ctx, t.App)
		if err != nil {
			return "", err
		}
		var pairs []patch.Pair
		fmt.Fprintf(&sb, "# %s: %d resources\n", sanitize.Line(t.App), len(res))
		for _, r := range res {
			fmt.Fprintf(&sb, "#   %-10s %s\n", sanitize.Line(r.Status()), sanitize.Line(strings.TrimSuffix(r.Path(), ".yaml")))
			var p patch.Pair
			path := t.App + "/" + r.Path()
			if r.Live != "" {
				p.From = &patch.File{Path: path, Content: []byte(r.Live)}
			}
			if r.Target != "" {
				p.To = &patch.File{Path: path, Content: []byte(r.Target)}
			}
			pairs = append(pairs, p)
		}
		sb.WriteString(patch.Unified(pairs, diffContext))
	}
	return sb.String(), nil
}

func stageOf(s *session, name string) config.Stage {
	st, _ := s.cfg.StageByName(name)
	return st
}

// diffTargets picks the apps of a stage (all, or the one named by its full
// name or its directory within the stage) as diff targets.
func diffTargets(st *board.Stage, app string) ([]tui.DiffTarget, error) {
	var out []tui.DiffTarget
	for _, a := range st.Apps {
		rel := strings.TrimPrefix(strings.TrimPrefix(a.Path, st.Path), "/")
		if app == "" || app == a.Name || app == rel {
			out = append(out, tui.DiffTarget{Stage: st.Name, App: a.Name, Path: a.Path, Deployed: a.DeployedRevision})
		}
	}
	if app != "" && len(out) == 0 {
		var names []string
		for _, a := range st.Apps {
			names = append(names, a.Name)
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("no app %q in stage %s: it has no Argo CD apps", app, st.Name)
		}
		return nil, fmt.Errorf("no app %q in stage %s: apps are %s", app, st.Name, strings.Join(names, ", "))
	}
	if len(out) == 0 {
		out = append(out, tui.DiffTarget{Stage: st.Name, App: st.Name, Path: st.Path})
	}
	return out, nil
}

func newDiffCmd(g *globalFlags) *cobra.Command {
	var manifests bool
	var against, commit string
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
			if manifests && (against != "" || commit != "") {
				return withCode(exitUsage, errors.New("--manifests cannot be combined with --against or --commit"))
			}
			s, err := openSession(cmd.Context(), g, true)
			if err != nil {
				return forceCode(exitUsage, err)
			}
			defer s.Close()
			b, err := board.Collect(cmd.Context(), s.sources())
			if err != nil {
				return withCode(exitUsage, err)
			}
			st, app, targets, err := stageArgs(s, b, args)
			if err != nil {
				return err
			}
			var out string
			switch {
			case against != "":
				other, ok := b.Stage(against)
				if !ok {
					return withCode(exitUsage, fmt.Errorf("no stage %q to compare with: stages are %s", against, strings.Join(s.cfg.StageNames(), ", ")))
				}
				dirA, dirB := st.Path, other.Path
				if app != "" {
					rel := strings.TrimPrefix(strings.TrimPrefix(targets[0].Path, st.Path), "/")
					dirA, dirB = st.Path+"/"+rel, other.Path+"/"+rel
				}
				out, err = compareDiff(cmd.Context(), s.repo, b.Repo.Head, dirA, dirB)
			case manifests:
				if s.cfg.GitOnly() {
					return withCode(exitUsage, errors.New("--manifests needs Argo CD: the config has no argocd section"))
				}
				out, err = manifestDiff(cmd.Context(), s, targets)
			default:
				out, err = pendingDiff(cmd.Context(), s.repo, tui.DiffRequest{Targets: targets, Head: b.Repo.Head, Commit: commit})
			}
			if err != nil {
				return withCode(exitUsage, err)
			}
			fmt.Fprint(sanitize.NewWriter(cmd.OutOrStdout()), out)
			if strings.Contains(out, "diff --git") {
				return &exitError{code: exitPending}
			}
			return nil
		},
		ValidArgsFunction: stageCompletion(g),
	}
	cmd.Flags().BoolVar(&manifests, "manifests", false, "diff Argo CD's live vs desired manifests instead of git")
	cmd.Flags().StringVar(&against, "against", "", "compare with another stage's directory")
	cmd.Flags().StringVar(&commit, "commit", "", "only this commit's changes")
	return cmd
}

// stageArgs reads STAGE [APP] from a command line against the board: the
// stage, the app as given, and the targets it names (exit 2 when unknown).
func stageArgs(s *session, b *board.Board, args []string) (*board.Stage, string, []tui.DiffTarget, error) {
	st, ok := b.Stage(args[0])
	if !ok {
		return nil, "", nil, withCode(exitUsage, fmt.Errorf("no stage %q: stages are %s", args[0], strings.Join(s.cfg.StageNames(), ", ")))
	}
	app := ""
	if len(args) == 2 {
		app = args[1]
	}
	targets, err := diffTargets(st, app)
	if err != nil {
		return nil, "", nil, withCode(exitUsage, err)
	}
	return st, app, targets, nil
}

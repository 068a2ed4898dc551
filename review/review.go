// Package review renders what an owner reviews before acting: the pending
// config diff of a stage or app (deployed..head, or one commit), what
// promoting one stage's directory into another would change, and Argo CD's
// live-vs-desired manifests. Every diff is redacted by patch.Unified.
package review

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/stagedeck/stagedeck/appstate"
	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/gitstate"
	"github.com/stagedeck/stagedeck/patch"
	"github.com/stagedeck/stagedeck/sanitize"
)

// Context is the number of context lines in every diff.
const Context = 3

// Target is one app (or a stage without apps) whose pending changes are
// shown: its path and what Argo CD deployed of it.
type Target struct {
	Stage, App, Path, Deployed string
	// More are the app's other paths: its other sources' and what it reads
	// through symbolic links. Their changes are pending for it too.
	More []string
}

// TargetOf is the diff target of one app of stage.
func TargetOf(stage string, a board.App) Target {
	return Target{Stage: stage, App: a.Name, Path: a.Path, Deployed: a.DeployedRevision, More: a.Paths()[1:]}
}

// Request pins a pending diff to the head the owner was looking at.
type Request struct {
	Targets []Target
	Head    string
	Commit  string // only this commit; "" = deployed..head
}

// Repo is what the diffs read of the ops repository.
type Repo interface {
	Resolve(rev string) (plumbing.Hash, error)
	Changes(ctx context.Context, from, to plumbing.Hash, dir string) ([]patch.Pair, error)
	CommitChanges(ctx context.Context, commit plumbing.Hash, dir string) ([]patch.Pair, error)
	CompareDirs(ctx context.Context, commit plumbing.Hash, dirA, dirB string) ([]patch.Pair, error)
}

// ResourceLister reads an app's managed resources from Argo CD.
type ResourceLister interface {
	ManagedResources(ctx context.Context, app string) ([]appstate.Resource, error)
}

// Pending renders what is in git but not deployed: per target, the range
// deployed..head over its path; with commit, only that commit's changes.
func Pending(ctx context.Context, repo Repo, req Request) (string, error) {
	head, err := repo.Resolve(req.Head)
	if err != nil {
		return "", err
	}
	var pairs []patch.Pair
	for _, t := range req.Targets {
		for _, path := range append([]string{t.Path}, t.More...) {
			var ps []patch.Pair
			switch {
			case req.Commit != "":
				c, err := repo.Resolve(req.Commit)
				if err != nil {
					return "", err
				}
				ps, err = repo.CommitChanges(ctx, c, path)
				if err != nil {
					return "", err
				}
			case t.Deployed == "":
				return "", fmt.Errorf("%s: no deployed revision known (git-only mode or never synced): pick one commit with --commit", t.App)
			default:
				from, err := repo.Resolve(t.Deployed)
				if err != nil {
					return "", fmt.Errorf("%s: deployed revision %s: %w", t.App, gitstate.Short(t.Deployed), err)
				}
				ps, err = repo.Changes(ctx, from, head, path)
				if err != nil {
					return "", err
				}
			}
			pairs = append(pairs, ps...)
		}
	}
	return patch.Unified(dedupe(pairs), Context), nil
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

// Compare renders what promoting dirA's content into dirB would change.
func Compare(ctx context.Context, repo Repo, head, dirA, dirB string) (string, error) {
	h, err := repo.Resolve(head)
	if err != nil {
		return "", err
	}
	pairs, err := repo.CompareDirs(ctx, h, dirA, dirB)
	if err != nil {
		return "", err
	}
	return patch.Unified(pairs, Context), nil
}

// Manifests renders Argo CD's live vs predicted state of the apps'
// resources; clientFor names the Argo CD serving a stage.
func Manifests(ctx context.Context, clientFor func(stage string) (ResourceLister, error), targets []Target) (string, error) {
	var sb strings.Builder
	for _, t := range targets {
		c, err := clientFor(t.Stage)
		if err != nil {
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
		sb.WriteString(patch.Unified(pairs, Context))
	}
	return sb.String(), nil
}

// Targets picks the apps of a stage (all, or the one named by its full
// name or its directory within the stage) as diff targets.
func Targets(st *board.Stage, app string) ([]Target, error) {
	var out []Target
	for _, a := range st.Apps {
		rel := strings.TrimPrefix(strings.TrimPrefix(a.Path, st.Path), "/")
		if app == "" || app == a.Name || app == rel {
			out = append(out, TargetOf(st.Name, a))
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
		out = append(out, Target{Stage: st.Name, App: st.Name, Path: st.Path})
	}
	return out, nil
}

// AppsOf are the stage's apps the targets name.
func AppsOf(st *board.Stage, targets []Target) []board.App {
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

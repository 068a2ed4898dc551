package board

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/gitstate"
)

// Touching lists the stages whose directory overlaps any of paths (files a
// commit changes, or the paths of the apps a sync sends).
func (b *Board) Touching(paths []string) []Stage { return StagesOf(b.Stages, paths) }

// Protected lists the names of the protected stages among ss.
func Protected(ss []Stage) []string {
	var out []string
	for _, s := range ss {
		if s.Protected {
			out = append(out, s.Name)
		}
	}
	return out
}

// Names lists the stages' names, protected ones marked.
func Names(ss []Stage) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = config.Label(s.Name, s.Protected)
	}
	return out
}

// OverlapNotes says, per nested stage, which stage's directory holds it:
// a change to the parent can change the child.
func (b *Board) OverlapNotes() []string {
	path := map[string]string{}
	for _, s := range b.Stages {
		path[s.Name] = s.Path
	}
	var out []string
	for _, o := range b.Overlaps {
		out = append(out, fmt.Sprintf("%s (%s) lies inside %s (%s)", o.Child, path[o.Child], o.Parent, path[o.Parent]))
	}
	return out
}

// StagesOf lists the stages among ss whose directory overlaps any of paths.
func StagesOf(ss []Stage, paths []string) []Stage {
	var out []Stage
	for _, s := range ss {
		if config.OverlapsAny(s.Path, paths) {
			out = append(out, s)
		}
	}
	return out
}

// Undeployed lists, as "app sha subject", the commits the apps have not
// deployed, but those whose sha begins with one of skip (the reverted
// commit, the rollback itself): what a sync of them ships besides.
func Undeployed(apps []App, skip ...string) []string {
	var out []string
	for _, a := range apps {
		// What runs is unknown to the branch: every commit on the path may
		// be new to the app, and none can be named.
		switch {
		case a.DeployedRevision == "":
			out = append(out, a.Name+" never deployed: everything on its path is new to it")
			continue
		case a.NotAncestor:
			out = append(out, a.Name+" runs "+gitstate.Short(a.DeployedRevision)+", which is not in the branch's history: any commit on its path may be new to it")
			continue
		}
		for _, c := range a.Pending {
			skipped := false
			for _, s := range skip {
				skipped = skipped || s != "" && strings.HasPrefix(c.SHA, s)
			}
			if !skipped {
				out = append(out, a.Name+" "+c.ShortSHA()+" "+c.Subject)
			}
		}
	}
	return out
}

// AppNames lists the apps' names.
func AppNames(apps []App) []string {
	out := make([]string, len(apps))
	for i, a := range apps {
		out[i] = a.Name
	}
	return out
}

// AppPaths lists every path the apps deploy from the ops repository.
func AppPaths(apps []App) []string {
	out := make([]string, 0, len(apps))
	for _, a := range apps {
		out = append(out, a.Paths()...)
	}
	return out
}

// Paths are every path the app deploys from the ops repository: its
// stage's, those of its other sources and what they read through links.
func (a App) Paths() []string {
	out := make([]string, 0, 1+len(a.MorePaths)+len(a.LinkedPaths))
	out = append(out, a.Path)
	out = append(out, a.MorePaths...)
	return append(out, a.LinkedPaths...)
}

// Readers returns what a rollback needs to know of the board's apps: a
// function naming the path of every app, in any stage, whose paths
// overlap any of files (a values file its Application names, a directory
// it deploys), and the path of every stage whose apps are unknown (its
// Argo CD unreadable: whether they read the files cannot be told, so the
// rollback counts them). The board is read now; the function may be
// called from another goroutine.
func (b *Board) Readers() func(files []string) []string {
	type reader struct {
		path  string
		paths []string
	}
	var rs []reader
	var unknown []string
	for _, st := range b.Stages {
		if st.ArgoError != "" && len(st.Apps) == 0 && !b.GitOnly {
			unknown = append(unknown, st.Path)
		}
		for _, a := range st.Apps {
			rs = append(rs, reader{a.Path, a.Paths()})
		}
	}
	return func(files []string) []string {
		out := slices.Clone(unknown)
		for _, r := range rs {
			if slices.ContainsFunc(r.paths, func(p string) bool { return config.OverlapsAny(p, files) }) && !slices.Contains(out, r.path) {
				out = append(out, r.path)
			}
		}
		return out
	}
}

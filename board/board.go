// Package board collects what the console and `stagedeck status` show: every
// configured stage with its ops-repo head, the Argo CD apps deployed from it,
// and how far each is behind. It joins opsrepo and argo; it does no drawing.
package board

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/stagedeck/stagedeck/appstate"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/gitstate"
	"github.com/stagedeck/stagedeck/sanitize"
)

// SchemaVersion is the version of Board's JSON. 2: comparedRevision holds
// what Argo CD compared against, targetRevision the spec's target.
const SchemaVersion = 2

// Board is one snapshot of every stage.
type Board struct {
	// SchemaVersion is the version of this JSON shape (status -o json, the
	// board cache); docs/status-json.md describes it.
	SchemaVersion int      `json:"schemaVersion"`
	Repo          RepoInfo `json:"opsRepo"`
	Stages        []Stage  `json:"stages"`
	Errors        []Error  `json:"errors"`
	GitOnly       bool     `json:"gitOnly"`
	Demo          bool     `json:"demo,omitempty"`
	// CollectedAt is when this snapshot was taken.
	CollectedAt time.Time `json:"collectedAt"`
	// Overlaps are stages whose directory lies inside another's.
	Overlaps []config.Overlap `json:"overlaps,omitempty"`
	// KnownHealthy is, per app, the last revision the console saw deployed
	// and Healthy; kept across runs in the board cache.
	KnownHealthy map[string]string `json:"knownHealthy,omitempty"`
}

// RepoInfo describes the ops repository as read.
type RepoInfo struct {
	URL       string    `json:"url"`
	Branch    string    `json:"branch"`
	Head      string    `json:"head"`
	LastFetch time.Time `json:"lastFetch"`
}

// Stage is one configured stage.
type Stage struct {
	Name      string `json:"name"`
	Path      string `json:"path"`
	Protected bool   `json:"protected"`
	CIManaged bool   `json:"ciManaged"`
	Context   string `json:"argocdContext,omitempty"`
	// Head is the last commit that changed the stage directory.
	Head *gitstate.Commit `json:"head"`
	Apps []App            `json:"apps"`
	// ArgoError says why Argo CD state is Unknown for this stage ("" = known).
	ArgoError string `json:"argocdError,omitempty"`
	// StaleSince: Argo CD could not be read since then, and Apps are the
	// last ones known (the console keeps them through an outage).
	StaleSince time.Time `json:"staleSince,omitzero"`
}

// App is one Argo CD application deployed from the stage.
type App struct {
	Name    string `json:"name"`
	Project string `json:"project"`
	Path    string `json:"path"`
	// MorePaths are the other paths an app with several sources deploys
	// from the ops repository: protection follows them too.
	MorePaths []string `json:"morePaths,omitempty"`
	// LinkedPaths are what the app's paths read through symbolic links in
	// the ops repository (Argo CD follows them): pending commits, the diff
	// and protection follow them too.
	LinkedPaths []string `json:"linkedPaths,omitempty"`
	// Head is the last commit that changed the app's path.
	Head             *gitstate.Commit `json:"head,omitempty"`
	SyncStatus       string           `json:"syncStatus"`
	HealthStatus     string           `json:"healthStatus"`
	DeployedRevision string           `json:"deployedRevision"`
	// ComparedRevision is what Argo CD last compared against (status.sync.revision).
	ComparedRevision string `json:"comparedRevision"`
	// TargetRevision is the spec's target: a branch, tag or sha ("main").
	TargetRevision string            `json:"targetRevision"`
	AutoSync       bool              `json:"autoSync"`
	PendingCommits int               `json:"pendingCommits"`
	Pending        []gitstate.Commit `json:"pending,omitempty"`
	// Running is the commit of the app's path whose content runs (the last
	// one at the deployed revision), when commits on the path are pending
	// and the deployed revision is a commit elsewhere; nil otherwise.
	Running *gitstate.Commit `json:"runningContent,omitempty"`
	// NotAncestor: the deployed revision is not in the branch's history.
	NotAncestor      bool       `json:"deployedNotInBranch,omitempty"`
	OperationPhase   string     `json:"operationPhase"`
	OperationMessage string     `json:"operationMessage,omitempty"`
	OperationRunning bool       `json:"-"`
	Images           []string   `json:"images,omitempty"`
	Conditions       []string   `json:"conditions,omitempty"`
	History          []Deployed `json:"history,omitempty"`
	ResourceVersion  string     `json:"-"`
}

// Deployed is one Argo CD history entry.
type Deployed struct {
	ID         int64     `json:"id"`
	Revision   string    `json:"revision"`
	DeployedAt time.Time `json:"deployedAt"`
	// InitiatedBy is who started the sync in Argo CD, or "automated".
	InitiatedBy string `json:"initiatedBy,omitempty"`
	// Reason is the reason the last sync was sent with (Argo CD keeps the
	// operation's infos for the last one only).
	Reason string `json:"reason,omitempty"`
}

// Error is a problem with one source that did not stop the whole board.
type Error struct {
	Source  string `json:"source"`
	Message string `json:"message"`
	// Unreachable: the source could not be reached or would not let us in.
	Unreachable bool `json:"unreachable"`
}

// Repo is what the board needs of the ops repository.
type Repo interface {
	URL() string
	Branch() string
	LastFetch() time.Time
	RemoteURLs() []string
	Head() (plumbing.Hash, error)
	LastChanges(ctx context.Context, head plumbing.Hash, paths []string) (map[string]gitstate.Commit, error)
	Pending(ctx context.Context, head plumbing.Hash, deployed string, paths []string) (gitstate.Pending, error)
	// Fetch brings revisions Argo CD deployed that git has not seen yet.
	Fetch(ctx context.Context) error
	Resolve(rev string) (plumbing.Hash, error)
	// Links are what a commit's links and kustomizations make apps read;
	// BoardLinks those of a board's head, which LatestLinks returns after.
	Links(head plumbing.Hash) (*gitstate.Links, error)
	BoardLinks(head plumbing.Hash) (*gitstate.Links, error)
	LatestLinks() *gitstate.Links
}

// AppLister lists Argo CD applications of one context.
type AppLister interface {
	List(ctx context.Context) ([]appstate.App, error)
}

// Sources are the live inputs of a collection.
type Sources struct {
	Config *config.Config
	Repo   Repo
	// Argo maps an argocd context name ("" = default) to its client.
	Argo map[string]AppLister
	// ArgoErr holds contexts that could not even be dialled.
	ArgoErr map[string]error
	Demo    bool
}

// ErrGit marks a board that could not read the ops repository at all.
var ErrGit = errors.New("ops repository")

// Collect reads git and every Argo CD context once and joins them.
// Git failures are fatal; Argo CD failures become Errors and Unknown stages.
func Collect(ctx context.Context, src Sources) (*Board, error) {
	cfg := src.Config
	var apps map[string][]appstate.App
	var argoErrs map[string]error
	if !cfg.GitOnly() {
		// The links of the head are read while Argo CD answers (a fleet of
		// kustomize overlays takes tens of ms); the read below finds them
		// cached unless a fetch moved the head.
		warmed := make(chan struct{})
		go func() {
			defer close(warmed)
			if h, err := src.Repo.Head(); err == nil {
				_, _ = src.Repo.Links(h)
			}
		}()
		defer func() { <-warmed }()
		apps, argoErrs = listAll(ctx, src, cfg)
		// Argo CD may already run a commit pushed after our last fetch.
		if unknownDeployed(src.Repo, apps) {
			_ = src.Repo.Fetch(ctx) // on failure the app shows the revision as unknown
		}
	}
	head, err := src.Repo.Head()
	if err != nil {
		return nil, err
	}
	b := &Board{
		SchemaVersion: SchemaVersion,
		Repo:          RepoInfo{URL: sanitize.Userinfo(src.Repo.URL()), Branch: src.Repo.Branch(), Head: head.String(), LastFetch: src.Repo.LastFetch()},
		GitOnly:       cfg.GitOnly(), Demo: src.Demo, CollectedAt: time.Now(),
		Errors:   []Error{},
		Overlaps: cfg.Overlaps(),
	}
	paths := make([]string, len(cfg.Stages))
	for i, s := range cfg.Stages {
		paths[i] = s.Path
	}
	last, err := src.Repo.LastChanges(ctx, head, paths)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrGit, err)
	}
	var missing []string
	for _, s := range cfg.Stages {
		st := Stage{Name: s.Name, Path: s.Path, Protected: s.Protected, CIManaged: s.CIManaged, Apps: []App{}}
		if !cfg.GitOnly() {
			st.Context = cfg.ContextFor(s)
		}
		if c, ok := last[s.Path]; ok {
			st.Head = &c
		} else {
			missing = append(missing, fmt.Sprintf("%s (%s)", s.Path, s.Name))
		}
		b.Stages = append(b.Stages, st)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("stage path %s: %w %s on branch %s: fix stages[].path in the config",
			strings.Join(missing, ", "), gitstate.ErrUnknownPath, sanitize.Userinfo(src.Repo.URL()), src.Repo.Branch())
	}
	if cfg.GitOnly() {
		return b, nil
	}
	links, err := src.Repo.BoardLinks(head)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrGit, err)
	}
	var appPaths []string
	for _, ctxName := range sortedKeys(argoErrs) {
		label := "argocd"
		if ctxName != "" {
			label += ":" + ctxName
		}
		err := argoErrs[ctxName]
		b.Errors = append(b.Errors, Error{Source: label, Message: sanitize.Userinfo(err.Error()),
			Unreachable: errors.Is(err, appstate.ErrUnreachable) || errors.Is(err, appstate.ErrUnauthenticated)})
	}
	// Each app is placed once (not once per stage: that grew with the
	// square of the stages).
	urls := src.Repo.RemoteURLs()
	placed := map[string][]App{}
	for ctxName, list := range apps {
		if _, bad := argoErrs[ctxName]; bad {
			continue
		}
		for _, a := range list {
			if o, ok := ownerStage(a, urls, cfg.Stages, cfg, ctxName); ok {
				app := fromOwned(a, o)
				app.LinkedPaths = links.Expand(app.Paths())
				placed[o.stage] = append(placed[o.stage], app)
			}
		}
	}
	for i := range b.Stages {
		st := &b.Stages[i]
		if err, bad := argoErrs[st.Context]; bad {
			st.ArgoError = sanitize.Userinfo(err.Error())
			continue
		}
		if apps := placed[st.Name]; apps != nil {
			st.Apps = apps // else the empty list, never null in status -o json
		}
		sort.Slice(st.Apps, func(i, j int) bool { return st.Apps[i].Name < st.Apps[j].Name })
		if err := FillPending(ctx, src.Repo, head, st.Apps); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrGit, err)
		}
		for _, a := range st.Apps {
			appPaths = append(appPaths, a.Path)
		}
	}
	// One more walk gives every app path its last change.
	appLast, err := src.Repo.LastChanges(ctx, head, appPaths)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrGit, err)
	}
	for i := range b.Stages {
		for j := range b.Stages[i].Apps {
			if c, ok := appLast[b.Stages[i].Apps[j].Path]; ok {
				b.Stages[i].Apps[j].Head = &c
			}
		}
	}
	return b, nil
}

// Place finds which stage an Argo CD app served by context belongs to, for
// applying watch events to a board.
func (src Sources) Place(context string, a appstate.App) (stage string, app App, ok bool) {
	o, ok := ownerStage(a, src.Repo.RemoteURLs(), src.Config.Stages, src.Config, context)
	if !ok {
		return "", App{}, false
	}
	app = fromOwned(a, o)
	app.LinkedPaths = src.Repo.LatestLinks().Expand(app.Paths())
	return o.stage, app, true
}

type owned struct {
	stage  string
	source appstate.Source // the ops repository's source the stage owns
	path   string          // what of it the stage owns: its path, or a file it names
	more   []string        // the other paths the app reads of the ops repository
}

// opsRead is one path an app reads of the ops repository, and the source
// whose revision deploys it.
type opsRead struct {
	path   string
	source appstate.Source
}

// opsReads lists what an Argo CD app reads of the ops repository, as Argo
// CD renders it: the path of each source from it (but a ref-only source of
// an app with several, which Argo CD does not render), and the files the
// sources' options name (helm value files and file parameters, kustomize
// components and patches), relative to their source's path or, as
// "$ref/…", through a ref source from the ops repository.
func opsReads(a appstate.App, urls []string) []opsRead {
	ops := make([]bool, len(a.Sources))
	refs := map[string]appstate.Source{}
	for i, src := range a.Sources {
		if ops[i] = appstate.SameRepo(src.RepoURL, urls); ops[i] && src.Ref != "" {
			refs[src.Ref] = src
		}
	}
	var out []opsRead
	for i, src := range a.Sources {
		if ops[i] && !src.RefOnly {
			out = append(out, opsRead{src.Path, src})
		}
		for _, f := range src.Files {
			from, base := src, src.Path
			if rest, ok := strings.CutPrefix(f, "$"); ok {
				name, file, _ := strings.Cut(rest, "/")
				if ref, ok := refs[name]; ok { // $values/…: from the ref source's repository root
					from, base, f = ref, "", "/"+file
				} else if !ops[i] {
					continue
				}
			} else if !ops[i] || strings.Contains(f, "://") {
				continue
			}
			if d := strings.IndexByte(f, '$'); d >= 0 {
				// An environment variable Argo CD substitutes
				// ($ARGOCD_APP_NAMESPACE/values.yaml), maybe to nothing:
				// the file may be anywhere below what precedes it, and
				// anywhere at all when it leads the path or a ".." follows.
				if d == 0 || f[:d] == "/" || strings.Contains(f[d:], "..") {
					out = append(out, opsRead{"", from})
					continue
				}
				f = f[:strings.LastIndexByte(f[:d], '/')+1]
			}
			if !strings.HasPrefix(f, "/") { // an absolute one is from the repository's root
				f = path.Join(base, f)
			}
			if p, ok := gitstate.RepoPath(f); ok {
				out = append(out, opsRead{p, from})
			}
		}
	}
	return out
}

// ownerStage finds the stage whose path holds the first of what the app
// reads of the ops repository (in its sources' order) that a stage holds;
// the deepest stage path wins when stage paths nest. The app's sources are
// matched against the ops repository once, not once per stage: at fleet
// scale URL parsing was most of the join.
func ownerStage(a appstate.App, urls []string, stages []config.Stage, cfg *config.Config, context string) (owned, bool) {
	reads := opsReads(a, urls)
	var best owned
	bestLen := -1
	for _, r := range reads {
		for _, s := range stages {
			if cfg.ContextFor(s) != context {
				continue
			}
			p := strings.Trim(s.Path, "/")
			if (r.path == p || p == "" || strings.HasPrefix(r.path, p+"/")) && len(p) > bestLen {
				best, bestLen = owned{stage: s.Name, source: r.source, path: r.path}, len(p)
			}
		}
		if bestLen >= 0 {
			break
		}
	}
	for _, r := range reads {
		if r.path != best.path && !slices.Contains(best.more, r.path) {
			best.more = append(best.more, r.path)
		}
	}
	return best, bestLen >= 0
}

// fromOwned converts an Argo CD app through the source its stage owns.
func fromOwned(a appstate.App, o owned) App {
	app := FromArgo(a, o.source)
	app.Path, app.MorePaths = o.path, o.more
	return app
}

// FromArgo converts an Argo CD app (through its source in the ops repo).
func FromArgo(a appstate.App, src appstate.Source) App {
	out := App{
		Name: a.Name, Project: a.Project, Path: src.Path,
		SyncStatus: a.Sync, HealthStatus: a.Health,
		DeployedRevision: src.Deployed, ComparedRevision: src.Compared, TargetRevision: src.TargetRevision,
		AutoSync: a.AutoSync, OperationPhase: a.Operation.Phase, OperationMessage: a.Operation.Message,
		OperationRunning: a.Requested || a.Operation.Running(),
		Images:           a.Images, Conditions: a.Conditions, ResourceVersion: a.ResourceVersion,
	}
	for i, h := range a.History {
		d := Deployed{ID: h.ID, Revision: h.Revision, DeployedAt: h.DeployedAt, InitiatedBy: h.InitiatedBy}
		if i == len(a.History)-1 && h.Revision == a.Operation.Revision {
			d.Reason = a.Operation.Reason
		}
		out.History = append(out.History, d)
	}
	return out
}

// FillPending computes each app's pending commits: one walk per distinct
// deployed revision, covering all the apps deployed at it.
func FillPending(ctx context.Context, repo Repo, head plumbing.Hash, apps []App) error {
	byRev := map[string][]int{}
	for i := range apps {
		apps[i].Pending, apps[i].PendingCommits, apps[i].NotAncestor = nil, 0, false
		if apps[i].DeployedRevision != "" {
			byRev[apps[i].DeployedRevision] = append(byRev[apps[i].DeployedRevision], i)
		}
	}
	for _, rev := range sortedKeys(byRev) {
		idx := byRev[rev]
		paths := make([]string, 0, len(idx))
		for _, i := range idx {
			for _, p := range apps[i].Paths() { // an app with several sources: all of them
				if !slices.Contains(paths, p) {
					paths = append(paths, p)
				}
			}
		}
		p, err := repo.Pending(ctx, head, rev, paths)
		if errors.Is(err, gitstate.ErrUnknownRevision) {
			for _, i := range idx {
				apps[i].NotAncestor = true
			}
			continue
		}
		if err != nil {
			return err
		}
		var behind []string
		for _, i := range idx {
			apps[i].Pending = pendingOf(p.Commits, apps[i].Paths())
			apps[i].PendingCommits = len(apps[i].Pending)
			apps[i].NotAncestor = !p.Ancestor
			apps[i].Running = nil
			if apps[i].PendingCommits > 0 && p.Ancestor {
				behind = append(behind, apps[i].Path)
			}
		}
		if len(behind) == 0 {
			continue
		}
		// Which commit of each path runs: the last one at the deployed revision.
		dep, err := repo.Resolve(rev)
		if err != nil {
			continue
		}
		last, err := repo.LastChanges(ctx, dep, behind)
		if err != nil {
			return err
		}
		for _, i := range idx {
			if c, ok := last[apps[i].Path]; ok && apps[i].PendingCommits > 0 && c.SHA != rev {
				c := c
				apps[i].Running = &c
			}
		}
	}
	return nil
}

// pendingOf merges the pending commits of an app's paths, newest first,
// each commit once.
func pendingOf(commits map[string][]gitstate.Commit, paths []string) []gitstate.Commit {
	if len(paths) == 1 {
		return commits[paths[0]]
	}
	seen := map[string]bool{}
	var out []gitstate.Commit
	for _, p := range paths {
		for _, c := range commits[p] {
			if !seen[c.SHA] {
				seen[c.SHA] = true
				out = append(out, c)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b gitstate.Commit) int { return b.Date.Compare(a.Date) })
	return out
}

// unknownDeployed reports whether an app's deployed revision is missing from
// git. Each revision is looked up once: a fleet shares a few.
func unknownDeployed(repo Repo, apps map[string][]appstate.App) bool {
	seen := map[string]bool{}
	for _, list := range apps {
		for _, a := range list {
			for _, src := range a.Sources {
				if src.Deployed == "" || len(src.Deployed) != 40 || seen[src.Deployed] {
					continue
				}
				seen[src.Deployed] = true
				if _, err := repo.Resolve(src.Deployed); err != nil {
					return true
				}
			}
		}
	}
	return false
}

// listAll lists every Argo CD instance the stages use, all at once: a
// slow or unreachable instance costs its own timeout, not the sum.
func listAll(ctx context.Context, src Sources, cfg *config.Config) (map[string][]appstate.App, map[string]error) {
	apps := map[string][]appstate.App{}
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	seen := map[string]bool{}
	for _, s := range cfg.Stages {
		name := cfg.ContextFor(s)
		if seen[name] {
			continue
		}
		seen[name] = true
		if err := src.ArgoErr[name]; err != nil {
			mu.Lock()
			errs[name] = err
			mu.Unlock()
			continue
		}
		l, ok := src.Argo[name]
		if !ok {
			mu.Lock()
			errs[name] = fmt.Errorf("argocd context %q is not connected", name)
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := appstate.WithTimeout(ctx)
			list, err := l.List(cctx)
			cancel()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[name] = err
				return
			}
			apps[name] = list
		}()
	}
	wg.Wait()
	return apps, errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Settled reports whether every app is synced, healthy and has nothing pending.
func (b *Board) Settled() bool {
	for _, s := range b.Stages {
		for _, a := range s.Apps {
			if a.SyncStatus != "Synced" || a.HealthStatus != "Healthy" || a.PendingCommits > 0 || a.OperationRunning {
				return false
			}
		}
	}
	return true
}

// Stage returns the named stage.
func (b *Board) Stage(name string) (*Stage, bool) {
	for i := range b.Stages {
		if strings.EqualFold(b.Stages[i].Name, name) {
			return &b.Stages[i], true
		}
	}
	return nil, false
}

// Behind is the stage's largest pending count over its apps.
// Behind is how many commits on the stage's paths are not deployed (each
// counted once, however many apps it waits for): the same "behind" as an
// app's PendingCommits.
func (s Stage) Behind() int {
	seen := map[string]bool{}
	n := 0
	for _, a := range s.Apps {
		n = max(n, a.PendingCommits) // when only counts are known (a cached board)
		for _, c := range a.Pending {
			seen[c.SHA] = true
		}
	}
	return max(n, len(seen))
}

// Sync is the worst sync status of the stage's apps.
func (s Stage) Sync() string {
	if s.ArgoError != "" {
		return "Unknown"
	}
	return worst(s.Apps, func(a App) string { return a.SyncStatus }, []string{"Unknown", "OutOfSync", "Synced"})
}

// Health is the worst health status of the stage's apps.
func (s Stage) Health() string {
	if s.ArgoError != "" {
		return "Unknown"
	}
	return worst(s.Apps, func(a App) string { return a.HealthStatus },
		[]string{"Degraded", "Missing", "Unknown", "Progressing", "Suspended", "Healthy"})
}

func worst(apps []App, get func(App) string, order []string) string {
	if len(apps) == 0 {
		return ""
	}
	best := len(order)
	val := ""
	for _, a := range apps {
		v := get(a)
		i := indexOf(order, v)
		if i < 0 {
			i = 0
		}
		if i < best {
			best, val = i, v
		}
	}
	return val
}

func indexOf(xs []string, v string) int {
	for i, x := range xs {
		if x == v {
			return i
		}
	}
	return -1
}

// Package appstate is Argo CD's shape without Argo CD: the values the
// board, the console and the commands pass around (an application, its
// sources, operation and history, a sync request, an observation of one)
// and the errors callers branch on. It imports neither argo-cd nor k8s.io,
// so what draws and decides does not link them; only the argo client and
// its fake convert Argo CD's own types into these.
package appstate

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"
)

// Sentinel errors callers branch on.
var (
	ErrUnreachable      = errors.New("argo cd unreachable")
	ErrUnauthenticated  = errors.New("argo cd login required")
	ErrPermissionDenied = errors.New("argo cd permission denied")
	ErrNotFound         = errors.New("argo cd application not found")
	ErrReadOnly         = errors.New("read-only mode: refusing to change Argo CD")
	ErrOperationRunning = errors.New("another operation is already in progress")
)

// App is what stagedeck needs to know of one Argo CD Application.
type App struct {
	Name      string   `json:"name"`
	Namespace string   `json:"-"`
	Project   string   `json:"-"`
	Sources   []Source `json:"-"`
	// MultiSource: the app has several sources (spec.sources). Argo CD
	// ignores a sync's revision for such an app: each source to pin is
	// named by its position.
	MultiSource bool      `json:"-"`
	Sync        string    `json:"syncStatus"`
	Health      string    `json:"healthStatus"`
	AutoSync    bool      `json:"autoSync"`
	Operation   Operation `json:"-"`
	// Requested is true while an operation is requested and Argo CD's
	// controller has not taken it yet: the spec's operation field is set
	// (it stays set while the operation runs) and no operation is Running.
	Requested  bool       `json:"-"`
	History    []Deployed `json:"-"`
	Conditions []string   `json:"-"`
	Images     []string   `json:"-"`
	// ResourceVersion orders watch events for the same app.
	ResourceVersion string `json:"-"`
}

// Source is one of the app's sources with the revisions Argo CD knows for it.
type Source struct {
	RepoURL        string
	Path           string
	TargetRevision string // spec: a branch, tag or sha
	// Deployed is the revision last synced: operationState.syncResult, else the last history entry.
	Deployed string
	// Compared is status.sync.revision: what Argo CD compared against (usually head).
	Compared string
	// Ref names the source for other sources' "$ref/…" files; RefOnly
	// says Argo CD does not render it (a ref, no path, no chart, in an app
	// with several sources): it is read only through those files.
	Ref     string
	RefOnly bool
	// Files are the files the source's options name, as written: helm's
	// value files and file parameters, kustomize's components and patch
	// files. Relative to the source's path, or "$ref/…" for another
	// source's repository.
	Files []string
}

// Operation is the app's last (or running) operation.
type Operation struct {
	Phase      string
	Message    string
	Reason     string // the Reason info the sync was sent with (stagedeck's)
	Revision   string // the sync result's revision
	StartedAt  time.Time
	FinishedAt time.Time
	Resources  []ResourceResult
}

// ResourceResult is one resource's outcome within a sync.
type ResourceResult struct {
	Kind, Namespace, Name, Status, Message, HookPhase string
}

// Deployed is one status.history entry.
type Deployed struct {
	ID         int64
	Revision   string
	DeployedAt time.Time
	// InitiatedBy is the Argo CD user who started the sync, or "automated".
	InitiatedBy string
}

// Running reports whether an operation is still in progress.
func (o Operation) Running() bool { return o.Phase == "Running" || o.Phase == "Terminating" }

// SourceFor returns the app's source from repo (any of urls) under path, if any.
func (a App) SourceFor(urls []string, path string) (Source, bool) {
	path = strings.Trim(path, "/")
	for _, s := range a.Sources {
		if !SameRepo(s.RepoURL, urls) {
			continue
		}
		if s.Path == path || strings.HasPrefix(s.Path, path+"/") {
			return s, true
		}
	}
	return Source{}, false
}

// SameRepo reports whether u names the same repository as any of urls.
func SameRepo(u string, urls []string) bool {
	n := NormalizeRepoURL(u)
	for _, o := range urls {
		if NormalizeRepoURL(o) == n {
			return true
		}
	}
	return false
}

// NormalizeRepoURL maps the ssh, scp-like, https and file forms of a
// repository URL to one comparable key: host/path without .git, in lower
// case, as Argo CD compares them (its NormalizeGitURL lowercases the whole
// URL: github.com/Acme/Ops is the same repository), and runs of / as one
// (stagedeck's own choice: the safe side for pinning and protection).
func NormalizeRepoURL(u string) string {
	k := normalizeRepoURL(u)
	k = strings.ToLower(k)
	for strings.Contains(k, "//") {
		k = strings.ReplaceAll(k, "//", "/")
	}
	return k
}

func normalizeRepoURL(u string) string {
	u = strings.TrimSpace(u)
	u = strings.TrimRight(u, "/")
	u = strings.TrimSuffix(u, ".git")
	if !strings.Contains(u, "://") {
		if at := strings.Index(u, "@"); at >= 0 {
			if colon := strings.Index(u[at:], ":"); colon > 0 {
				host := u[at+1 : at+colon]
				return strings.ToLower(host) + "/" + strings.TrimLeft(u[at+colon+1:], "/")
			}
		}
		return u // a local path
	}
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	if p.Scheme == "file" {
		return p.Path
	}
	return strings.ToLower(p.Hostname()) + "/" + strings.TrimLeft(p.Path, "/")
}

// SyncRequest is a manual sync pinned to a reviewed revision.
type SyncRequest struct {
	App      string
	Project  string
	Revision string
	DryRun   bool
	Prune    bool
	Reason   string
	Operator string
	// RepoURLs are the ops repository's addresses: of an app with several
	// sources, those from it are pinned to Revision.
	RepoURLs []string
	// Sources are the positions (from 1) of the sources pinned to
	// Revision, for an app with several; deploy.Prepare fills them in.
	Sources []int
}

// Observation is one look at an app while a sync runs.
type Observation struct {
	App App
	// Ours: the operation shown is the one we requested (not the previous
	// one, which the first watch events after a request still carry).
	Ours bool
	// Finished: ours ended and, unless it failed or was a dry run, the app's
	// health settled (Healthy or Degraded).
	Finished bool
	// Reconnecting: the watch dropped; Err says why. The sync is not re-sent.
	Reconnecting bool
	Err          error
}

// Succeeded reports a finished sync that deployed and is healthy.
func (o Observation) Succeeded() bool {
	return o.Finished && o.App.Operation.Phase == "Succeeded" && (o.App.Health == "Healthy" || o.App.Health == "")
}

// SameRevision compares a full and a possibly abbreviated sha.
func SameRevision(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if len(a) > len(b) {
		a, b = b, a
	}
	return a != "" && strings.HasPrefix(b, a)
}

// PinRefusal says why a sync of an app pinned to rev is refused, or ""
// when it is not. An app with auto-sync follows its target revision: Argo
// CD refuses a sync of one source to any other revision (FailedPrecondition
// "Cannot sync to …: auto-sync currently set to …", v2 and v3 alike), and
// of an app with several sources it takes one, which auto-sync then moves
// back; stagedeck refuses both. A dry run, or no revision, is not pinned.
// target is the spec's, from outside: the caller cleans what it shows.
func PinRefusal(autoSync bool, target, rev string, dryRun bool) string {
	if !autoSync || dryRun || rev == "" {
		return ""
	}
	if target == "" {
		target = "HEAD"
	}
	if rev == target {
		return ""
	}
	return "auto-sync follows " + target + ": Argo CD won't keep it pinned; dry-run it or leave it out"
}

// CallTimeout bounds a single read so a black-holed server cannot hang the UI.
const CallTimeout = 15 * time.Second

// WithTimeout derives a context for one read call.
func WithTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, CallTimeout)
}

// Resource is one managed resource with its normalised live and predicted
// (target) state as YAML, for the manifest diff.
type Resource struct {
	Group, Kind, Namespace, Name string
	Live, Target                 string
	Modified, Hook               bool
}

// Status is the resource's sync state as the manifest diff lists it.
func (r Resource) Status() string {
	switch {
	case r.Live == "":
		return "Missing"
	case r.Target == "":
		return "Extra"
	case r.Modified:
		return "OutOfSync"
	}
	return "Synced"
}

// Path names the resource like a file in a diff.
func (r Resource) Path() string {
	ns := r.Namespace
	if ns == "" {
		ns = "_cluster"
	}
	kind := r.Kind
	if r.Group != "" {
		kind = r.Group + "." + kind
	}
	return kind + "/" + ns + "/" + r.Name + ".yaml"
}

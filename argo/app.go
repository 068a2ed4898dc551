// Package argo talks to Argo CD over its gRPC API (argo-cd/v2's apiclient)
// and turns Applications into plain values the board and the CLI use.
// It is the only package that imports argo-cd.
package argo

import (
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
)

// App is what stagedeck needs to know of one Argo CD Application.
type App struct {
	Name      string    `json:"name"`
	Namespace string    `json:"-"`
	Project   string    `json:"-"`
	Sources   []Source  `json:"-"`
	Sync      string    `json:"syncStatus"`
	Health    string    `json:"healthStatus"`
	AutoSync  bool      `json:"autoSync"`
	Operation Operation `json:"-"`
	// Pending is true while an operation is requested but not yet finished.
	Pending    bool       `json:"-"`
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

// fromApplication converts the API object.
func fromApplication(a *v1alpha1.Application) App {
	out := App{
		Name: a.Name, Namespace: a.Namespace, Project: a.Spec.Project,
		Sync: string(a.Status.Sync.Status), Health: string(a.Status.Health.Status),
		AutoSync:        a.Spec.SyncPolicy != nil && a.Spec.SyncPolicy.Automated != nil,
		Pending:         a.Operation != nil,
		Images:          a.Status.Summary.Images,
		ResourceVersion: a.ResourceVersion,
	}
	if out.Sync == "" {
		out.Sync = "Unknown"
	}
	if out.Health == "" {
		out.Health = "Unknown"
	}
	for _, c := range a.Status.Conditions {
		out.Conditions = append(out.Conditions, c.Type+": "+c.Message)
	}
	for _, h := range a.Status.History {
		rev := h.Revision
		if rev == "" && len(h.Revisions) > 0 {
			rev = h.Revisions[0]
		}
		by := h.InitiatedBy.Username
		if h.InitiatedBy.Automated {
			by = "automated"
		}
		out.History = append(out.History, Deployed{ID: h.ID, Revision: rev, DeployedAt: h.DeployedAt.Time, InitiatedBy: by})
	}
	var result *v1alpha1.SyncOperationResult
	if st := a.Status.OperationState; st != nil {
		out.Operation = Operation{Phase: string(st.Phase), Message: st.Message, StartedAt: st.StartedAt.Time}
		for _, i := range st.Operation.Info {
			if i != nil && i.Name == "Reason" {
				out.Operation.Reason = i.Value
			}
		}
		if st.FinishedAt != nil {
			out.Operation.FinishedAt = st.FinishedAt.Time
		}
		// Only a successful, real sync deployed its result's revision: a
		// failed (Argo CD v3 keeps its result) or dry-run operation did not,
		// so those fall back to the history, which records real deploys only.
		dryRun := st.Operation.Sync != nil && st.Operation.Sync.DryRun
		if st.SyncResult != nil && st.Phase == "Succeeded" && !dryRun {
			result = st.SyncResult
		}
		if st.SyncResult != nil {
			out.Operation.Revision = st.SyncResult.Revision
			for _, r := range st.SyncResult.Resources {
				out.Operation.Resources = append(out.Operation.Resources, ResourceResult{
					Kind: r.Kind, Namespace: r.Namespace, Name: r.Name,
					Status: string(r.Status), Message: r.Message, HookPhase: string(r.HookPhase),
				})
			}
		}
	}
	sources := a.Spec.GetSources()
	for i, s := range sources {
		// path.Clean: "envs/dev/../prod/api" deploys prod/api, and protection
		// must see it there.
		src := Source{RepoURL: s.RepoURL, Path: strings.Trim(path.Clean("/"+s.Path), "/"), TargetRevision: s.TargetRevision}
		multi := a.Spec.HasMultipleSources()
		switch {
		case result != nil && !multi && result.Revision != "":
			src.Deployed = result.Revision
		case result != nil && multi && i < len(result.Revisions):
			src.Deployed = result.Revisions[i]
		case len(a.Status.History) > 0:
			h := a.Status.History[len(a.Status.History)-1]
			if multi && i < len(h.Revisions) {
				src.Deployed = h.Revisions[i]
			} else if !multi {
				src.Deployed = h.Revision
			}
		}
		if multi && i < len(a.Status.Sync.Revisions) {
			src.Compared = a.Status.Sync.Revisions[i]
		} else if !multi {
			src.Compared = a.Status.Sync.Revision
		}
		out.Sources = append(out.Sources, src)
	}
	return out
}

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
// repository URL to one comparable key: host/path without .git, lowercased host.
func NormalizeRepoURL(u string) string {
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

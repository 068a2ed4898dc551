// Package argo talks to Argo CD over its gRPC API (argo-cd/v2's apiclient)
// and turns Applications into plain values the board and the CLI use.
// It is the only package that imports argo-cd.
package argo

import (
	"path"
	"strings"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
)

// running reports whether the controller has taken an operation and runs it.
func running(st *v1alpha1.OperationState) bool {
	return st != nil && (st.Phase == "Running" || st.Phase == "Terminating")
}

// fromApplication converts the API object. Lists and watch events reach it
// cut to the fields it reads (appShape, lean.go): a field read here must
// have its place there, or it reads as empty. TestLeanDecodeReadsWhatTheFullOneDoes
// catches a missing place once leanApps set the field.
func fromApplication(a *v1alpha1.Application) App {
	out := App{
		Name: a.Name, Namespace: a.Namespace, Project: a.Spec.Project,
		Sync: string(a.Status.Sync.Status), Health: string(a.Status.Health.Status),
		AutoSync:    a.Spec.SyncPolicy != nil && a.Spec.SyncPolicy.Automated != nil,
		MultiSource: a.Spec.HasMultipleSources(),
		// The operation field stays set while the controller runs the
		// operation: requested means not taken yet.
		Requested:       a.Operation != nil && !running(a.Status.OperationState),
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
		src := Source{RepoURL: s.RepoURL, Path: strings.Trim(path.Clean("/"+s.Path), "/"), TargetRevision: s.TargetRevision,
			Ref: s.Ref, Files: sourceFiles(s),
			// As Argo CD's repo server decides it: on the path as written ("." is rendered).
			RefOnly: a.Spec.HasMultipleSources() && s.Ref != "" && s.Path == "" && s.Chart == ""}
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

// sourceFiles are the files a source's options name: what Argo CD reads
// besides the source's path when it renders it.
func sourceFiles(s v1alpha1.ApplicationSource) []string {
	var out []string
	if h := s.Helm; h != nil {
		out = append(out, h.ValueFiles...)
		for _, p := range h.FileParameters {
			out = append(out, p.Path)
		}
	}
	if k := s.Kustomize; k != nil {
		out = append(out, k.Components...)
		for _, p := range k.Patches {
			if p.Path != "" {
				out = append(out, p.Path)
			}
		}
	}
	return out
}

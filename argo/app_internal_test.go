package argo

import (
	"testing"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	synccommon "github.com/argoproj/gitops-engine/pkg/sync/common"
)

// TestMultiSourceDeployedRevisions: each source gets its own revision from
// the sync result (or history), and a dry run deploys nothing.
func TestMultiSourceDeployedRevisions(t *testing.T) {
	a := &v1alpha1.Application{}
	a.Name = "prod-web"
	a.Spec.Sources = v1alpha1.ApplicationSources{
		{RepoURL: "https://charts.example.com", Chart: "web", TargetRevision: "1.2.3"},
		{RepoURL: "git@github.com:acme/ops.git", Path: "prod/web", TargetRevision: "main"},
	}
	a.Status.Sync.Revisions = []string{"1.2.3", "cccc"}
	a.Status.History = v1alpha1.RevisionHistories{{ID: 1, Revisions: []string{"1.2.2", "aaaa"}}}
	a.Status.OperationState = &v1alpha1.OperationState{
		Phase:      synccommon.OperationSucceeded,
		Operation:  v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{}},
		SyncResult: &v1alpha1.SyncOperationResult{Revisions: []string{"1.2.3", "bbbb"}},
	}
	got := fromApplication(a)
	if got.Sources[1].Deployed != "bbbb" || got.Sources[1].Compared != "cccc" || got.Sources[0].Deployed != "1.2.3" {
		t.Errorf("sources = %+v", got.Sources)
	}
	if src, ok := got.SourceFor([]string{"https://github.com/acme/ops"}, "prod"); !ok || src.Deployed != "bbbb" {
		t.Errorf("SourceFor = %+v %v", src, ok)
	}
	a.Status.OperationState.Operation.Sync.DryRun = true
	if got := fromApplication(a); got.Sources[1].Deployed != "aaaa" {
		t.Errorf("after a dry run deployed %s, want the history's aaaa", got.Sources[1].Deployed)
	}
}

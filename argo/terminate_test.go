package argo_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/argo"
	"github.com/stagedeck/stagedeck/argo/argotest"
	"github.com/stagedeck/stagedeck/deploy"
)

// Real Argo CD answers a terminate with "Too many conflicts" when its
// controller kept updating the app (nothing was terminated): the fake does
// too, and deploy.Terminate reads the app and sends again while it runs.
func TestTerminateAfterConflictsOverGRPC(t *testing.T) {
	srv, c := startFake(t, argo.Options{})
	srv.SetSyncDuration(time.Minute)
	srv.AddApp(argotest.AppSpec{Name: "perf-api", Project: "default", RepoURL: "file:///ops.git", Path: "perf/api", Deployed: "a"})
	ctx := context.Background()
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "perf-api", Revision: "bbbbbbb"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		a, err := c.Get(ctx, "perf-api", "")
		if err == nil && a.Operation.Phase == "Running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sync never ran: %v %+v", err, a.Operation)
		}
	}
	srv.ConflictTerminates("perf-api", 2)
	if err := deploy.Terminate(ctx, c, "perf-api"); err != nil {
		t.Fatalf("terminate after two conflicts: %v", err)
	}
	n := 0
	for _, call := range srv.Calls() {
		if call.Method == "TerminateOperation" {
			n++
		}
	}
	// As on Argo CD, Terminating first, then the controller ends it.
	a, _ := c.Get(ctx, "perf-api", "")
	for deadline := time.Now().Add(5 * time.Second); a.Operation.Phase == "Terminating" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		a, _ = c.Get(ctx, "perf-api", "")
	}
	if n != 3 || a.Operation.Phase != "Failed" {
		t.Errorf("%d terminates sent, phase %s; want 3 and the operation ended", n, a.Operation.Phase)
	}
}

// TestSyncOfAnAppWithSeveralSourcesPinsTheOpsSources: Argo CD ignores a
// sync's revision for an app with several sources (each would sync to its
// target: the branch's head, unreviewed); deploy.Prepare pins the ops
// repository's sources by position and leaves the others at theirs.
func TestSyncOfAnAppWithSeveralSourcesPinsTheOpsSources(t *testing.T) {
	srv, c := startFake(t, argo.Options{})
	srv.AddApp(argotest.AppSpec{Name: "tst-multi", Project: "tst", RepoURL: "git@github.com:acme/ops.git", Path: "tst/multi", Deployed: shaOld,
		More: []argotest.MoreSource{{RepoURL: "https://charts.example.com", Path: "web", TargetRevision: "1.2.3"}}})
	ctx := context.Background()
	before, err := c.Get(ctx, "tst-multi", "")
	if err != nil || !before.MultiSource || len(before.Sources) != 2 {
		t.Fatalf("the app with two sources reads as %+v, %v", before, err)
	}
	// The reviewed revision is the old one; main's head has moved on.
	req := argo.SyncRequest{App: "tst-multi", Project: "tst", Revision: shaOld, RepoURLs: []string{"ssh://git@github.com/acme/ops.git"}}
	requested, prev, err := startSync(ctx, c, req)
	if err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	last := calls[len(calls)-1]
	if !slices.Equal(last.SourcePositions, []int64{1}) || !slices.Equal(last.Revisions, []string{shaOld}) {
		t.Errorf("sync sent positions %v revisions %v, want the ops source (1) pinned to %s", last.SourcePositions, last.Revisions, shaOld[:7])
	}
	got, _ := follow(t, c.Follow(ctx, "tst-multi", shaOld, requested, prev, false))
	if !got.Succeeded() || got.App.Sources[0].Deployed != shaOld || got.App.Sources[1].Deployed != "1.2.3" {
		t.Errorf("deployed %s and %s, want the reviewed %s and the chart's 1.2.3", got.App.Sources[0].Deployed, got.App.Sources[1].Deployed, shaOld[:7])
	}
	// The common layout: the chart first, the ops repository's values
	// second; position 2 is pinned, the chart stays at its version.
	srv.AddApp(argotest.AppSpec{Name: "tst-chart", Project: "tst", RepoURL: "git@github.com:acme/ops.git", Path: "tst/chart", Deployed: shaOld,
		More: []argotest.MoreSource{{RepoURL: "https://charts.example.com", Path: "web", TargetRevision: "1.2.3", Before: true}}})
	requested, prev, err = startSync(ctx, c, argo.SyncRequest{App: "tst-chart", Project: "tst", Revision: shaOld, RepoURLs: req.RepoURLs})
	if err != nil {
		t.Fatal(err)
	}
	calls = srv.Calls()
	if last := calls[len(calls)-1]; !slices.Equal(last.SourcePositions, []int64{2}) {
		t.Errorf("sync of the chart-first app sent positions %v, want 2", last.SourcePositions)
	}
	got, _ = follow(t, c.Follow(ctx, "tst-chart", shaOld, requested, prev, false))
	if !got.Succeeded() || got.App.Sources[0].Deployed != "1.2.3" || got.App.Sources[1].Deployed != shaOld {
		t.Errorf("chart-first app deployed %s and %s, want 1.2.3 and the reviewed %s", got.App.Sources[0].Deployed, got.App.Sources[1].Deployed, shaOld[:7])
	}
	// No source from the ops repository: nothing to pin, nothing sent.
	req.RepoURLs = []string{"https://git.example.com/other.git"}
	if _, _, err := startSync(ctx, c, req); err == nil || !strings.Contains(err.Error(), "none is the ops repository") {
		t.Errorf("a sync with no source to pin: %v", err)
	}
	if n := len(srv.Calls()); n != len(calls) {
		t.Errorf("%d more calls reached Argo CD", n-len(calls))
	}
}

// TestStartChecksAutoSyncOnTheAppAsItIsNow: the board may be older than
// the app; deploy.Prepare refuses to pin an app with auto-sync as Argo CD
// has it when the sync is sent, and lets a dry run through.
func TestStartChecksAutoSyncOnTheAppAsItIsNow(t *testing.T) {
	srv, c := startFake(t, argo.Options{})
	srv.AddApp(argotest.AppSpec{Name: "itg-web", RepoURL: "file:///ops.git", Path: "itg/web", Deployed: shaOld, Auto: true})
	ctx := context.Background()
	req := argo.SyncRequest{App: "itg-web", Project: "default", Revision: shaOld}
	if _, _, err := startSync(ctx, c, req); err == nil || !strings.Contains(err.Error(), "auto-sync follows main") {
		t.Errorf("pinned sync of an auto-sync app: %v", err)
	}
	for _, call := range srv.Calls() {
		if call.Method == "Sync" {
			t.Fatalf("a refused sync was sent: %+v", call)
		}
	}
	req.DryRun = true
	if _, _, err := startSync(ctx, c, req); err != nil {
		t.Errorf("dry run of an auto-sync app: %v", err)
	}
}

// TestPlainNamesWhileArgoCDsNamespaceIsUnknown: with Argo CD's settings
// unreadable, names are shown plain; a name listed in one namespace is
// sent with it, and one listed in two is refused, nothing sent: the other
// namespace's app of that name must not be the one synced.
func TestPlainNamesWhileArgoCDsNamespaceIsUnknown(t *testing.T) {
	srv, c := startFake(t, argo.Options{})
	srv.FailSettings(true)
	srv.AddApp(argotest.AppSpec{Name: "svc", Namespace: "team-tst", Project: "tst", RepoURL: "file:///ops.git", Path: "tst/api", Deployed: shaOld})
	srv.AddApp(argotest.AppSpec{Name: "svc", Project: "prod", RepoURL: "file:///ops.git", Path: "prod/api", Deployed: shaOld})
	srv.AddApp(argotest.AppSpec{Name: "team-only", Namespace: "team-tst", Project: "tst", RepoURL: "file:///ops.git", Path: "tst/web", Deployed: shaOld})
	ctx := context.Background()
	if _, err := c.List(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "svc", Project: "tst", Revision: shaOld}); !errors.Is(err, argo.ErrNotFound) || !strings.Contains(err.Error(), "team-tst") {
		t.Errorf("sync of a name in two namespaces: %v, want refused naming them", err)
	}
	if err := c.Terminate(ctx, "svc"); err == nil {
		t.Error("terminate of a name in two namespaces was sent")
	}
	// The settings come back: the names handed out keep their meaning
	// (a plain svc must not become Argo CD's own on a board listed before).
	srv.FailSettings(false)
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "svc", Project: "prod", Revision: shaOld}); !errors.Is(err, argo.ErrNotFound) {
		t.Errorf("sync of svc once the settings answer: %v, want still refused", err)
	}
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "team-only", Project: "tst", Revision: shaOld}); err != nil {
		t.Fatal(err)
	}
	var sent []string
	for _, call := range srv.Calls() {
		if call.Method == "Sync" || call.Method == "TerminateOperation" {
			sent = append(sent, call.App)
		}
	}
	if !slices.Equal(sent, []string{"team-tst/team-only"}) {
		t.Errorf("calls reached Argo CD for %v, want only team-tst/team-only", sent)
	}
}

// startSync prepares and sends one sync, as the CLI and the console do.
func startSync(ctx context.Context, c deploy.Client, req argo.SyncRequest) (requested, prevStarted time.Time, err error) {
	p, err := deploy.Prepare(ctx, c, req)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	requested, err = deploy.Send(ctx, c, p)
	return requested, p.PrevStarted, err
}

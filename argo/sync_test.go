package argo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/argo"
	"github.com/stagedeck/stagedeck/argo/argotest"
)

// follow runs a Follower to its finished observation.
func follow(t *testing.T, f *argo.Follower) (argo.Observation, int) {
	t.Helper()
	reconnects := 0
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		o, err := f.Next()
		if err != nil {
			t.Fatal(err)
		}
		if o.Reconnecting {
			reconnects++
			continue
		}
		if o.Finished {
			return o, reconnects
		}
	}
	t.Fatal("sync did not finish")
	return argo.Observation{}, 0
}

func TestFollowIgnoresThePreviousOperationAndSurvivesADroppedStream(t *testing.T) {
	srv, c := startFake(t, argo.Options{})
	srv.SetSyncDuration(600 * time.Millisecond)
	srv.AddApp(argotest.AppSpec{Name: "tst-web", RepoURL: "r", Path: "tst/web", Deployed: shaOld})
	ctx := context.Background()
	before, _ := c.Get(ctx, "tst-web", "")
	requested := time.Now()
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "tst-web", Revision: shaNew}); err != nil {
		t.Fatal(err)
	}
	f := c.Follow(ctx, "tst-web", shaNew, requested, before.Operation.StartedAt, false)
	defer f.Close()
	// The first events still show the old Succeeded operation: not ours.
	o, err := f.Next()
	if err != nil {
		t.Fatal(err)
	}
	if o.Ours && o.App.Operation.Revision == shaOld {
		t.Fatal("the previous operation was taken for ours")
	}
	time.Sleep(200 * time.Millisecond)
	srv.DropStreams() // argocd-server restarts mid-sync
	got, reconnects := follow(t, f)
	if reconnects == 0 {
		t.Error("the dropped stream was not noticed")
	}
	if !got.Succeeded() || got.App.Operation.Revision != shaNew {
		t.Errorf("finished %+v, want Succeeded at %s", got.App.Operation, shaNew)
	}
	syncs := 0
	for _, call := range srv.Calls() {
		if call.Method == "Sync" {
			syncs++
		}
	}
	if syncs != 1 {
		t.Errorf("Sync sent %d times, want exactly once", syncs)
	}
}

func TestFollowReportsAFailedSync(t *testing.T) {
	srv, c := startFake(t, argo.Options{})
	srv.AddApp(argotest.AppSpec{Name: "prod-api", RepoURL: "r", Path: "prod/api", Deployed: shaOld})
	srv.FailNextSync("prod-api", "one or more objects failed to apply: admission webhook denied")
	requested := time.Now()
	if _, err := c.Sync(context.Background(), argo.SyncRequest{App: "prod-api", Revision: shaNew}); err != nil {
		t.Fatal(err)
	}
	got, _ := follow(t, c.Follow(context.Background(), "prod-api", shaNew, requested, time.Time{}, false))
	if got.Succeeded() || got.App.Operation.Phase != "Failed" || got.App.Operation.Resources[0].Status != "SyncFailed" {
		t.Errorf("failed sync observed as %+v", got.App.Operation)
	}
}

func TestSyncWindowsAndRefusals(t *testing.T) {
	srv, c := startFake(t, argo.Options{})
	srv.AddApp(argotest.AppSpec{Name: "prod-web", Project: "prod", RepoURL: "r", Path: "prod/web", Deployed: shaOld})
	ctx := context.Background()
	ok, active, err := c.SyncWindows(ctx, "prod-web")
	if err != nil || !ok || len(active) != 0 {
		t.Errorf("open window: %v %v %v", ok, active, err)
	}
	srv.CloseSyncWindow("prod-web")
	ok, active, err = c.SyncWindows(ctx, "prod-web")
	if err != nil || ok || len(active) != 1 {
		t.Errorf("closed window: %v %v %v", ok, active, err)
	}
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "prod-web", Revision: shaNew}); !errors.Is(err, argo.ErrPermissionDenied) {
		t.Errorf("sync in a closed window: %v", err)
	}
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "gone", Revision: shaNew}); !errors.Is(err, argo.ErrPermissionDenied) {
		t.Errorf("sync of a missing app: %v", err)
	}
	srv.AddApp(argotest.AppSpec{Name: "tst-web", RepoURL: "r", Path: "tst/web", Deployed: shaOld})
	// Like Argo CD (checked in the real tier): the request is accepted and
	// the operation errors; the deployed revision stays what it was.
	requested := time.Now()
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "tst-web", Revision: "deadbeef"}); err != nil {
		t.Fatalf("sync of an unknown revision refused at once: %v", err)
	}
	got, _ := follow(t, c.Follow(ctx, "tst-web", "deadbeef", requested, time.Time{}, false))
	if got.Succeeded() || got.App.Operation.Phase != "Error" || !strings.Contains(got.App.Operation.Message, "not our ref deadbeef") || got.App.Sources[0].Deployed != shaOld {
		t.Errorf("unknown revision: %+v deployed %s", got.App.Operation, got.App.Sources[0].Deployed)
	}
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "tst-web"}); err == nil {
		t.Error("a sync without a pinned revision was sent")
	}
}

package argo_test

import (
	"context"
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

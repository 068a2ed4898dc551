package argo_test

import (
	"context"
	"testing"
	"time"

	versionpkg "github.com/argoproj/argo-cd/v2/pkg/apiclient/version"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/stagedeck/stagedeck/argo/argotest"
)

// The fake's Stop closes every connection, as an exiting argocd-server's
// are, even one that has sent nothing yet (which its port multiplexer,
// not gRPC, holds): after a Restart the first call on it is answered.
func TestFakeStopClosesIdleConnections(t *testing.T) {
	srv := startServer(t, argotest.Options{})
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn.Connect()
	for s := conn.GetState(); s != connectivity.Ready; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			t.Fatalf("never connected: %s", s)
		}
	}
	srv.Stop()
	// The client learns its connection was closed (on the old fake it
	// never was: cmux held it, and the first call after a restart was
	// dropped).
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if !conn.WaitForStateChange(wctx, connectivity.Ready) {
		t.Fatal("the connection stayed open through the stop")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Invoke(ctx, "/version.VersionService/Version", &emptypb.Empty{}, &versionpkg.VersionMessage{}, grpc.WaitForReady(true)); err != nil {
		t.Fatalf("first call after a restart, on a connection made before the stop: %v", err)
	}
}

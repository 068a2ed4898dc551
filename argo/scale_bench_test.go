package argo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/argo"
	"github.com/stagedeck/stagedeck/argo/argotest"
)

// BenchmarkList2000 is the Argo CD half of a cold board at fleet scale:
// 2,000 applications (each with a history and a sync result) listed from
// the fake over real gRPC, decoded and converted to stagedeck's own App.
func BenchmarkList2000(b *testing.B) {
	b.Setenv("ARGOCD_SERVER", "")
	b.Setenv("ARGOCD_AUTH_TOKEN", "")
	git := argotest.NewMemGit()
	prev := []string{git.Commit("a"), git.Commit("b")}
	srv, err := argotest.Start(argotest.Options{Token: "secret-token", Git: git})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	stages := []string{"mr", "itg", "tst", "perf", "prod"}
	for i := 0; i < 2000; i++ {
		st := stages[i%5]
		srv.AddApp(argotest.AppSpec{Name: fmt.Sprintf("%s-svc%04d", st, i), RepoURL: "file:///ops.git", Path: fmt.Sprintf("%s/svc%04d", st, i),
			Deployed: git.Head(), Previous: prev, Images: []string{"registry.example.com/svc:1.2.3"}, Auto: st == "itg", Now: time.Unix(1_790_000_000, 0)})
	}
	c, err := argo.Dial(argo.Options{ConfigPath: writeArgoConfig(b, srv.Addr(), "secret-token")})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		apps, err := c.List(ctx)
		if err != nil || len(apps) != 2000 || apps[0].Sources[0].Deployed == "" || len(apps[0].History) != 3 {
			b.Fatalf("%d apps, %v", len(apps), err)
		}
	}
}

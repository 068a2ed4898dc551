package argo_test

import (
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/argo"
	"github.com/stagedeck/stagedeck/argo/argotest"
)

// fakeBackend runs the shared suite against argotest; the real tier runs
// the same suite against a real Argo CD (e2e/realargo).
type fakeBackend struct {
	srv  *argotest.Server
	git  *argotest.MemGit
	addr string
}

func (b *fakeBackend) Client(t *testing.T, readOnly bool) *argo.Client {
	c, err := argo.Dial(argo.Options{ConfigPath: writeArgoConfig(t, b.addr, "secret-token"), ReadOnly: readOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (b *fakeBackend) BadTokenClient(t *testing.T) (*argo.Client, error) {
	return argo.Dial(argo.Options{ConfigPath: writeArgoConfig(t, b.addr, "expired")})
}

func (b *fakeBackend) ManualApp() string     { return "tst-web" }
func (b *fakeBackend) NamespacedApp() string { return "team-a/tst-team" }
func (b *fakeBackend) AutoApp() string       { return "itg-web" }

func (b *fakeBackend) Commit(t *testing.T, app string) string {
	return b.git.Commit(map[string]string{"tst-web": "tst/web", "itg-web": "itg/web", "team-a/tst-team": "tst/team"}[app])
}

func (b *fakeBackend) Refresh(t *testing.T, app string) { b.srv.Reconcile() }

func TestSharedSuiteOnTheFake(t *testing.T) {
	t.Setenv("ARGOCD_SERVER", "")
	t.Setenv("ARGOCD_AUTH_TOKEN", "")
	git := argotest.NewMemGit()
	srv, err := argotest.Start(argotest.Options{Token: "secret-token", Git: git, SyncDuration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddApp(argotest.AppSpec{Name: "tst-web", RepoURL: "file:///ops.git", Path: "tst/web", Deployed: git.Head()})
	srv.AddApp(argotest.AppSpec{Name: "itg-web", RepoURL: "file:///ops.git", Path: "itg/web", Deployed: git.Head(), Auto: true})
	srv.AddApp(argotest.AppSpec{Name: "tst-team", Namespace: "team-a", RepoURL: "file:///ops.git", Path: "tst/team", Deployed: git.Head()})
	argotest.RunSuite(t, &fakeBackend{srv: srv, git: git, addr: srv.Addr()})
}

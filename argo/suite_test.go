package argo_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/improbable-eng/grpc-web/go/grpcweb"

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
	return argotest.Dial(t, writeArgoConfig(t, b.addr, "secret-token"), readOnly)
}

func (b *fakeBackend) DeniedApp() string { return "perf-web" }

func (b *fakeBackend) Addr() string { return b.addr }

func (b *fakeBackend) Account() string { return argotest.Account }

func (b *fakeBackend) MultiSourceApp() string { return "multi-web" }

func (b *fakeBackend) ValuesApp() string { return "values-web" }

func (b *fakeBackend) SetDenyWindow(t *testing.T, app string, manualSync bool) {
	b.srv.SetDenyWindow(app, manualSync)
	t.Cleanup(b.srv.ClearSyncWindows)
}

func (b *fakeBackend) HoldSync(t *testing.T, app string) string {
	b.srv.HoldSyncs(app, true)
	t.Cleanup(func() {
		b.srv.HoldSyncs(app, false)
		_, _ = b.srv.TerminateOperation(context.Background(), &application.OperationTerminateRequest{Name: &app})
	})
	return b.Commit(t, app)
}

func (b *fakeBackend) IssueToken(t *testing.T, expiresIn time.Duration) (string, func()) {
	tok, id := b.srv.IssueToken(expiresIn)
	return tok, func() { b.srv.RevokeToken(id) }
}

// ClientWith over grpc-web puts improbable-eng's grpc-web wrapper (as
// argocd-server does) in front of the fake's gRPC server, over HTTP/1.1.
func (b *fakeBackend) ClientWith(t *testing.T, token string, grpcWeb bool) *argo.Client {
	if token == "" {
		token = "secret-token"
	}
	addr := b.addr
	web := ""
	if grpcWeb {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		wrapped := grpcweb.WrapServer(b.srv.GRPC())
		hs := &http.Server{Handler: wrapped}
		go func() { _ = hs.Serve(lis) }()
		t.Cleanup(func() { hs.Close() })
		addr, web = lis.Addr().String(), "  grpc-web: true\n"
	}
	cfg := writeArgoConfig(t, addr, token)
	data, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(data), "  plain-text: true\n", "  plain-text: true\n"+web, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return argotest.Dial(t, cfg, false)
}

func (b *fakeBackend) StopServer(t *testing.T) { b.srv.Stop() }

func (b *fakeBackend) StartServer(t *testing.T) {
	if err := b.srv.Restart(); err != nil {
		t.Fatal(err)
	}
}

func (b *fakeBackend) BadTokenClient(t *testing.T) (*argo.Client, error) {
	return argo.Dial(argo.Options{ConfigPath: writeArgoConfig(t, b.addr, "expired")})
}

func (b *fakeBackend) ManualApp() string     { return "tst-web" }
func (b *fakeBackend) NamespacedApp() string { return "team-a/tst-team" }
func (b *fakeBackend) AutoApp() string       { return "itg-web" }

func (b *fakeBackend) Commit(t *testing.T, app string) string {
	return b.git.Commit(map[string]string{"tst-web": "tst/web", "itg-web": "itg/web", "team-a/tst-team": "tst/team", "multi-web": "multi/web"}[app])
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
	srv.AddApp(argotest.AppSpec{Name: "perf-web", RepoURL: "file:///ops.git", Path: "perf/web", Deployed: git.Head()})
	srv.DenySync("default", "perf-web")
	srv.AddApp(argotest.AppSpec{Name: "tst-team", Namespace: "team-a", RepoURL: "file:///ops.git", Path: "tst/team", Deployed: git.Head()})
	srv.AddApp(argotest.AppSpec{Name: "multi-web", Project: "tst", RepoURL: "file:///ops.git", Path: "multi/web",
		More: []argotest.MoreSource{{RepoURL: "file:///ops.git", Path: "multi/values", TargetRevision: "main"}}})
	srv.AddApp(argotest.AppSpec{Name: "values-web", Project: "tst", RepoURL: "file:///ops.git", Ref: "values",
		More: []argotest.MoreSource{{RepoURL: "file:///ops.git", Path: "multi/chart", TargetRevision: "main", Before: true,
			ValueFiles: []string{"$values/multi/values/values.yaml", "values.yaml"}}}})
	argotest.RunSuite(t, &fakeBackend{srv: srv, git: git, addr: srv.Addr()})
}

package console

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stagedeck/stagedeck/argo/argotest"
	"github.com/stagedeck/stagedeck/internal/testrepo"
	"github.com/stagedeck/stagedeck/session"
)

// TestRefreshGoesToTheStagesInstance: two Argo CD instances, one per stage.
// A refresh of prod's app asks prod's instance only: nothing is probed, and
// the other instance's "permission denied" for an app it lacks never shows.
func TestRefreshGoesToTheStagesInstance(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Ann Owner <ann@example.com>")
	repo := testrepo.Plain(t)
	start := func(app, path string) *argotest.Server {
		srv, err := argotest.Start(argotest.Options{Token: "tok"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		srv.AddApp(argotest.AppSpec{Name: app, Project: "default", RepoURL: repo, Path: path})
		return srv
	}
	main, prod := start("tst-web", "tst/web"), start("prod-web", "prod/web")
	argoCfg := filepath.Join(t.TempDir(), "argocd")
	body := "contexts:\n"
	for _, c := range []struct {
		name string
		srv  *argotest.Server
	}{{"main", main}, {"prod", prod}} {
		body += fmt.Sprintf("- name: %s\n  server: %s\n  user: u\n", c.name, c.srv.Addr())
	}
	body += "current-context: main\nservers:\n"
	for _, srv := range []*argotest.Server{main, prod} {
		body += fmt.Sprintf("- server: %s\n  plain-text: true\n", srv.Addr())
	}
	body += "users:\n- name: u\n  auth-token: tok\n"
	if err := os.WriteFile(argoCfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testrepo.Config(t, "opsRepo:\n  url: "+repo+"\nargocd:\n  context: main\n  configPath: "+argoCfg+
		"\nstages:\n  - {name: tst, path: tst}\n  - {name: prod, path: prod, protected: true, argocd: prod}\n")
	lazy := &lazySession{flags: session.Flags{Config: cfg}}
	defer lazy.Close()
	l := live{lazy}
	if err := l.Refresh(context.Background(), "prod", []string{"prod-web"}, false); err != nil {
		t.Fatalf("refresh of prod's app: %v", err)
	}
	if err := l.Refresh(context.Background(), "tst", []string{"tst-web"}, true); err != nil {
		t.Fatalf("refresh of tst's app: %v", err)
	}
	gets := func(srv *argotest.Server) []string {
		var out []string
		for _, c := range srv.Calls() {
			if c.Method == "Refresh" {
				out = append(out, c.App)
			}
		}
		return out
	}
	if g := gets(prod); len(g) != 1 || g[0] != "prod-web" {
		t.Errorf("prod's instance got %v, want one refresh of prod-web", g)
	}
	if g := gets(main); len(g) != 1 || g[0] != "tst-web" {
		t.Errorf("the main instance got %v, want one refresh of tst-web (no probing for prod-web)", g)
	}
}

package argo_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/argo"
	"github.com/stagedeck/stagedeck/argo/argotest"
)

const (
	shaOld = "1111111111111111111111111111111111111111"
	shaNew = "2222222222222222222222222222222222222222"
)

// stubGit is a two-commit history: shaOld then shaNew (head of main), with
// only paths under "tst/" changed between them.
type stubGit struct{}

func (stubGit) Resolve(rev string) (string, error) {
	switch rev {
	case "main", "HEAD", shaNew, shaNew[:7]:
		return shaNew, nil
	case shaOld, shaOld[:7]:
		return shaOld, nil
	}
	return "", fmt.Errorf("unknown revision %s", rev)
}
func (stubGit) Changed(from, to, path string) (bool, error) {
	return from != to && strings.HasPrefix(path, "tst"), nil
}
func (stubGit) Metadata(sha string) (string, time.Time, string, error) {
	return "Ann <ann@example.com>", time.Unix(1700000000, 0), "bump " + sha[:7], nil
}

// startFake starts the fake on loopback with a token and returns a client
// dialled through an argocd CLI config file, as a user's login would leave it.
func startFake(t *testing.T, opts argo.Options) (*argotest.Server, *argo.Client) {
	t.Helper()
	srv := startServer(t, argotest.Options{Token: "secret-token", SyncDuration: 50 * time.Millisecond})
	opts.ConfigPath = writeArgoConfig(t, srv.Addr(), "secret-token")
	c, err := argo.Dial(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return srv, c
}

// startServer starts the fake over stubGit, stopped when the test ends.
func startServer(t *testing.T, opts argotest.Options) *argotest.Server {
	t.Helper()
	opts.Git = stubGit{}
	srv, err := argotest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func writeArgoConfig(t testing.TB, addr, token string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config")
	cfg := fmt.Sprintf(`contexts:
- name: fake
  server: %[1]s
  user: %[1]s
current-context: fake
servers:
- server: %[1]s
  plain-text: true
users:
- name: %[1]s
  auth-token: %[2]s
`, addr, token)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestListDeployedRevisionIsNotTheComparedOne(t *testing.T) {
	t.Setenv("ARGOCD_SERVER", "")
	t.Setenv("ARGOCD_AUTH_TOKEN", "")
	srv, c := startFake(t, argo.Options{})
	srv.AddApp(argotest.AppSpec{Name: "tst-web", RepoURL: "https://git.example.com/ops.git", Path: "tst/web", Deployed: shaOld})
	srv.AddApp(argotest.AppSpec{Name: "itg-web", RepoURL: "git@git.example.com:ops", Path: "itg/web", Deployed: shaOld, Auto: true})
	srv.AddApp(argotest.AppSpec{Name: "new-app", RepoURL: "https://git.example.com/ops", Path: "tst/new"})
	apps, err := c.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]argo.App{}
	for _, a := range apps {
		byName[a.Name] = a
	}
	tst := byName["tst-web"]
	if tst.Sources[0].Deployed != shaOld || tst.Sources[0].Compared != shaNew {
		t.Errorf("tst-web deployed=%s compared=%s, want deployed %s (sync result) and compared %s (head)", tst.Sources[0].Deployed, tst.Sources[0].Compared, shaOld, shaNew)
	}
	if tst.Sync != "OutOfSync" || tst.Health != "Healthy" || tst.AutoSync {
		t.Errorf("tst-web = %s/%s auto=%v, want OutOfSync/Healthy manual", tst.Sync, tst.Health, tst.AutoSync)
	}
	if itg := byName["itg-web"]; !itg.AutoSync || itg.Sync != "Synced" {
		t.Errorf("itg-web = %s auto=%v: only tst changed, so it is Synced and automated", itg.Sync, itg.AutoSync)
	}
	if n := byName["new-app"]; n.Sources[0].Deployed != "" || n.Health != "Missing" {
		t.Errorf("never-synced app: deployed=%q health=%s", n.Sources[0].Deployed, n.Health)
	}
	urls := []string{"ssh://git@GIT.example.com/ops.git"}
	if _, ok := tst.SourceFor(urls, "tst"); !ok {
		t.Error("https source not matched by the ssh form of the same repo")
	}
	if _, ok := byName["itg-web"].SourceFor(urls, "itg/"); !ok {
		t.Error("scp-like source not matched")
	}
	if _, ok := tst.SourceFor(urls, "ts"); ok {
		t.Error("path prefix matched a sibling directory")
	}
}

func TestErrorsNameTheFix(t *testing.T) {
	t.Setenv("ARGOCD_SERVER", "")
	t.Setenv("ARGOCD_AUTH_TOKEN", "")
	srv, err := argotest.Start(argotest.Options{Token: "right", Git: stubGit{}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddApp(argotest.AppSpec{Name: "prod-web", Project: "prod", RepoURL: "r", Path: "prod/web", Deployed: shaOld})

	bad, err := argo.Dial(argo.Options{ConfigPath: writeArgoConfig(t, srv.Addr(), "expired")})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	_, err = bad.List(context.Background())
	if !errors.Is(err, argo.ErrUnauthenticated) || !strings.Contains(err.Error(), "argocd login "+srv.Addr()) {
		t.Errorf("bad token: %v, want the argocd login hint", err)
	}

	// ARGOCD_AUTH_TOKEN overrides the file, as with the argocd CLI.
	t.Setenv("ARGOCD_AUTH_TOKEN", "right")
	good, err := argo.Dial(argo.Options{ConfigPath: writeArgoConfig(t, srv.Addr(), "expired")})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if _, err := good.List(context.Background()); err != nil {
		t.Errorf("ARGOCD_AUTH_TOKEN not honoured: %v", err)
	}
	srv.DenySync("prod", "prod-web")
	_, err = good.Sync(context.Background(), argo.SyncRequest{App: "prod-web", Revision: shaNew})
	if !errors.Is(err, argo.ErrPermissionDenied) || !strings.Contains(err.Error(), "applications, sync, prod/prod-web") {
		t.Errorf("denied sync: %v, want what was denied", err)
	}
	if ok, err := good.CanSync(context.Background(), "prod", "prod-web"); ok || err != nil {
		t.Errorf("CanSync = %v, %v; want false", ok, err)
	}
	if _, err := good.Get(context.Background(), "nope", ""); !errors.Is(err, argo.ErrPermissionDenied) {
		t.Errorf("missing app: %v, want permission denied as Argo CD answers", err)
	}

	// Unreachable: nothing listens on the address any more.
	addr := srv.Addr()
	srv.Close()
	t.Setenv("ARGOCD_AUTH_TOKEN", "")
	gone, err := argo.Dial(argo.Options{ConfigPath: writeArgoConfig(t, addr, "right")})
	if err == nil {
		defer gone.Close()
		ctx, cancel := argo.WithTimeout(context.Background())
		defer cancel()
		_, err = gone.List(ctx)
	}
	if !errors.Is(err, argo.ErrUnreachable) || !strings.Contains(err.Error(), addr) {
		t.Errorf("stopped server: %v, want ErrUnreachable naming %s", err, addr)
	}
}

func TestSyncPinsRevisionAndIsSentOnce(t *testing.T) {
	srv, c := startFake(t, argo.Options{})
	srv.AddApp(argotest.AppSpec{Name: "tst-web", RepoURL: "r", Path: "tst/web", Deployed: shaOld})
	ctx := context.Background()
	w, err := c.Watch(ctx, "tst-web")
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := w.Next(); err != nil || ev.Type != argo.Added {
		t.Fatalf("first watch event = %v, %v; want ADDED", ev.Type, err)
	}
	requested := time.Now()
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "tst-web", Revision: shaOld[:7] + "", Reason: "JIRA-1", Operator: "ann"}); err != nil {
		t.Fatal(err)
	}
	// The second sync while the first runs is refused, not queued.
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "tst-web", Revision: shaNew}); !errors.Is(err, argo.ErrOperationRunning) {
		t.Errorf("concurrent sync: %v, want ErrOperationRunning", err)
	}
	var sawRequested bool
	for {
		ev, err := w.Next()
		if err != nil {
			t.Fatal(err)
		}
		op := ev.App.Operation
		if ev.App.Requested {
			// As Argo CD: requesting clears the previous operation's state.
			if op.Phase != "" || !op.StartedAt.IsZero() {
				t.Errorf("requested, yet the previous operation is still shown: %+v", op)
			}
			sawRequested = true
		}
		if !ev.App.Requested && op.Phase == "Succeeded" && !op.StartedAt.Before(requested.Truncate(time.Second)) {
			if op.Revision != shaOld {
				t.Errorf("deployed %s, want the pinned %s", op.Revision, shaOld)
			}
			break
		}
	}
	if !sawRequested {
		t.Error("no event showed the sync requested before it ran")
	}
	calls := srv.Calls()
	if len(calls) != 2 || calls[0].Revision != shaOld[:7] || calls[0].Infos["Reason"] != "JIRA-1" || calls[0].Infos["Operator"] != "ann" || calls[0].Prune {
		t.Errorf("calls = %+v", calls)
	}
}

func TestReadOnlyRefusesAtTheLayer(t *testing.T) {
	srv, c := startFake(t, argo.Options{ReadOnly: true})
	srv.AddApp(argotest.AppSpec{Name: "tst-web", RepoURL: "r", Path: "tst/web", Deployed: shaOld})
	if _, err := c.Sync(context.Background(), argo.SyncRequest{App: "tst-web", Revision: shaNew}); !errors.Is(err, argo.ErrReadOnly) {
		t.Errorf("Sync in read-only: %v", err)
	}
	if err := c.Terminate(context.Background(), "tst-web"); !errors.Is(err, argo.ErrReadOnly) {
		t.Errorf("Terminate in read-only: %v", err)
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("read-only client reached the server %d times", n)
	}
}

func TestNormalizeRepoURL(t *testing.T) {
	same := []string{
		"https://github.com/acme/ops.git", "https://github.com/acme/ops", "https://GitHub.com/acme/ops/",
		"git@github.com:acme/ops.git", "ssh://git@github.com/acme/ops.git", "ssh://git@github.com:22/acme/ops",
		// As Argo CD compares repositories: the whole URL in any case.
		"https://github.com/Acme/Ops", "git@github.com:ACME/ops.git", "https://github.com/acme//ops.git",
	}
	for _, u := range same {
		if got := argo.NormalizeRepoURL(u); got != "github.com/acme/ops" {
			t.Errorf("NormalizeRepoURL(%q) = %q", u, got)
		}
	}
	if argo.NormalizeRepoURL("file:///srv/ops.git") != "/srv/ops" {
		t.Error("file URL not reduced to its path")
	}
}

func TestDialWithoutLoginNamesTheServer(t *testing.T) {
	t.Setenv("ARGOCD_SERVER", "")
	t.Setenv("ARGOCD_AUTH_TOKEN", "")
	p := filepath.Join(t.TempDir(), "config")
	os.WriteFile(p, []byte("contexts:\n- name: corp\n  server: argocd.example.com\n  user: argocd.example.com\ncurrent-context: corp\nservers:\n- server: argocd.example.com\nusers:\n- name: argocd.example.com\n  auth-token: not-a-jwt\n"), 0o600)
	_, err := argo.Dial(argo.Options{ConfigPath: p, Context: "nope"})
	if err == nil || !strings.Contains(err.Error(), "argocd login") {
		t.Errorf("unknown context: %v", err)
	}
}

func TestFailedSyncDoesNotMoveTheDeployedRevision(t *testing.T) {
	srv, c := startFake(t, argo.Options{})
	srv.AddApp(argotest.AppSpec{Name: "tst-web", RepoURL: "r", Path: "tst/web", Deployed: shaOld})
	srv.FailNextSync("tst-web", "apply failed")
	requested := time.Now()
	if _, err := c.Sync(context.Background(), argo.SyncRequest{App: "tst-web", Revision: shaNew}); err != nil {
		t.Fatal(err)
	}
	o, _ := follow(t, c.Follow(context.Background(), "tst-web", shaNew, requested, time.Time{}, false))
	if o.App.Operation.Phase != "Failed" || o.App.Operation.Revision != shaNew {
		t.Fatalf("operation %+v", o.App.Operation)
	}
	// The failed operation's result names shaNew (as Argo CD v3 keeps it);
	// what is deployed is still the last successful sync.
	if o.App.Sources[0].Deployed != shaOld {
		t.Errorf("deployed %s after a failed sync, want %s", o.App.Sources[0].Deployed, shaOld)
	}
}

// TestArgocdOptsIsHonoured: the argocd CLI's ARGOCD_OPTS flags apply.
func TestArgocdOptsIsHonoured(t *testing.T) {
	t.Setenv("ARGOCD_SERVER", "")
	t.Setenv("ARGOCD_AUTH_TOKEN", "")
	srv, err := argotest.Start(argotest.Options{Token: "opts-token", Git: stubGit{}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddApp(argotest.AppSpec{Name: "tst-web", RepoURL: "r", Path: "tst/web", Deployed: shaOld})
	t.Setenv("ARGOCD_OPTS", "--server "+srv.Addr()+" --plaintext --auth-token opts-token --config "+filepath.Join(t.TempDir(), "none"))
	c, err := argo.Dial(argo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if apps, err := c.List(context.Background()); err != nil || len(apps) != 1 {
		t.Errorf("List through ARGOCD_OPTS: %d apps, %v", len(apps), err)
	}
	t.Setenv("ARGOCD_OPTS", "--server 'unterminated")
	if _, err := argo.Dial(argo.Options{}); err == nil || !strings.Contains(err.Error(), "ARGOCD_OPTS") {
		t.Errorf("bad ARGOCD_OPTS: %v", err)
	}
}

// Argo CD's namespace comes from its public settings. When they do not
// answer, a list still names every app (the plain name) and asks them
// once, not once per app; once they answer, apps in other namespaces are
// named namespace/name.
func TestListAsksTheSettingsOnceWhenTheyFail(t *testing.T) {
	t.Setenv("ARGOCD_SERVER", "")
	t.Setenv("ARGOCD_AUTH_TOKEN", "")
	srv, c := startFake(t, argo.Options{})
	srv.FailSettings(true)
	for i := 0; i < 40; i++ {
		srv.AddApp(argotest.AppSpec{Name: fmt.Sprintf("tst-%02d", i), RepoURL: "https://git.example.com/ops.git", Path: "tst/web"})
	}
	srv.AddApp(argotest.AppSpec{Name: "team-web", Namespace: "team-a", RepoURL: "https://git.example.com/ops.git", Path: "tst/web"})
	for i := 0; i < 2; i++ {
		apps, err := c.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(apps) != 41 {
			t.Fatalf("listed %d apps, want 41", len(apps))
		}
	}
	if n := srv.SettingsAsked(); n != 1 {
		t.Fatalf("two lists of 41 apps asked the failing settings %d times, want once", n)
	}
	// A new client asks again, and names the other namespace's app.
	srv.FailSettings(false)
	c2, err := argo.Dial(argo.Options{ConfigPath: writeArgoConfig(t, srv.Addr(), "secret-token")})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	apps, err := c2.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range apps {
		found = found || a.Name == "team-a/team-web"
	}
	if !found {
		t.Fatalf("with the settings answering, no app named team-a/team-web in %d apps", len(apps))
	}
}

// Dial's connections (one per Argo CD service) are made at once: over a
// slow link, three handshakes cost one handshake's time, not three.
func TestDialConnectsAtOnce(t *testing.T) {
	t.Setenv("ARGOCD_SERVER", "")
	t.Setenv("ARGOCD_AUTH_TOKEN", "")
	srv := startServer(t, argotest.Options{Token: "secret-token"})
	const hold = 400 * time.Millisecond
	link, err := argotest.NewSlowLink(srv.Addr(), hold)
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()
	c, err := argo.Dial(argo.Options{ConfigPath: writeArgoConfig(t, link.Addr(), "secret-token")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := link.Seen()
	// The first is the argocd client's own probe (a Version call, to
	// learn whether the server needs grpc-web), made before any other.
	if len(seen) != 4 {
		t.Fatalf("%d connections, want 4 (the client's probe, then applications, accounts, settings)", len(seen))
	}
	if spread := seen[3].Sub(seen[1]); spread >= hold {
		t.Errorf("the last service connection came %s after the first: each waited for the one before (hold %s)", spread, hold)
	}
}

// An Argo CD that takes the connection and never answers does not hold
// Dial (the argocd client's probe has no deadline of its own): Dial says
// it is unreachable after its deadline, naming it.
func TestDialGivesUpOnASilentServer(t *testing.T) {
	t.Setenv("ARGOCD_SERVER", "")
	t.Setenv("ARGOCD_AUTH_TOKEN", "")
	const deadline = 300 * time.Millisecond
	defer argo.SetDialTimeout(deadline)()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // taken, never answered, closed with the listener
		}
	}()
	addr := ln.Addr().String()
	done := make(chan error, 1)
	go func() {
		c, err := argo.Dial(argo.Options{ConfigPath: writeArgoConfig(t, addr, "secret-token")})
		if c != nil {
			c.Close()
		}
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Dial of a silent server still waits after 10 s")
	}
	if !errors.Is(err, argo.ErrUnreachable) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Dial of a silent server: %v; want ErrUnreachable naming %s", err, addr)
	}
}

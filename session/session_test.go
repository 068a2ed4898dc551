package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/argo/argotest"
	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/demo"
	"github.com/stagedeck/stagedeck/internal/cmdtest"
	"github.com/stagedeck/stagedeck/session"
)

// slowGit serves a bare repository over git's smart HTTP (git
// http-backend), each request held for delay, and says when the last
// answer ended.
type slowGit struct {
	delay time.Duration
	mu    sync.Mutex
	first time.Time // the first request came in
	last  time.Time // the last answer ended
}

func (g *slowGit) serve(t testing.TB, bare string) string {
	t.Helper()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	backend := &cgi.Handler{
		Path: gitBin, Args: []string{"http-backend"}, Root: "/git",
		Env: []string{"GIT_PROJECT_ROOT=" + filepath.Dir(bare), "GIT_HTTP_EXPORT_ALL=1"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		if g.first.IsZero() {
			g.first = time.Now()
		}
		g.mu.Unlock()
		time.Sleep(g.delay)
		backend.ServeHTTP(w, r)
		g.mu.Lock()
		g.last = time.Now()
		g.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/git/" + filepath.Base(bare)
}

// A command's board waits for both git (clone or fetch: a real remote
// takes 0.3-0.8 s) and Argo CD's list (its slowest answer). Open starts the
// list before its git work, so the two overlap instead of adding up.
func TestOpenListsArgoCDWhileGitIsFetched(t *testing.T) {
	sb, cfgPath := cmdtest.Sandbox(t, "")
	g := &slowGit{delay: 300 * time.Millisecond}
	url := g.serve(t, strings.TrimPrefix(sb.Remote, "file://"))
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(cfg), sb.Remote, url, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, fetch := range []bool{false, true} { // a clone first, then a fetch of that clone
		g.mu.Lock()
		g.first, g.last = time.Time{}, time.Time{}
		g.mu.Unlock()
		before := len(sb.Argo.Lists())
		ctx := context.Background()
		s, err := session.Open(ctx, session.Flags{Config: cfgPath}, fetch)
		if err != nil {
			t.Fatal(err)
		}
		b, err := board.Collect(ctx, s.Sources())
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		lists := sb.Argo.Lists()[before:]
		if len(lists) != 1 {
			t.Fatalf("fetch=%v: Argo CD listed %d times for one board, want once", fetch, len(lists))
		}
		g.mu.Lock()
		first, last := g.first, g.last
		g.mu.Unlock()
		if first.IsZero() {
			t.Fatalf("fetch=%v: git was not asked", fetch)
		}
		if !lists[0].Before(last) {
			t.Errorf("fetch=%v: Argo CD was listed at %s, after git answered (%s): the two ran one after the other",
				fetch, lists[0].Format(time.StampMicro), last.Format(time.StampMicro))
		}
		// (The sandbox's apps name the file:// remote, so none is placed
		// on this board of the http one.)
		if len(b.Stages) != len(sb.Config.Stages) || b.Stages[0].Head == nil {
			t.Fatalf("fetch=%v: board without git's side: %+v", fetch, b.Stages)
		}
	}
}

// openSandbox opens a session on the demo's real git remote and fake Argo
// CD, closed when the test ends.
func openSandbox(t *testing.T) (*demo.Sandbox, *session.Session) {
	t.Helper()
	sb, cfgPath := cmdtest.Sandbox(t, "")
	s, err := session.Open(context.Background(), session.Flags{Config: cfgPath}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return sb, s
}

// A list Open started is taken by the first board only: a later board
// lists again, so it never shows Argo CD as it was when the session opened.
func TestEarlyListIsTakenOnce(t *testing.T) {
	sb, s := openSandbox(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if _, err := board.Collect(ctx, s.Sources()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(sb.Argo.Lists()); n != 2 {
		t.Fatalf("two boards listed Argo CD %d times, want 2 (the early list, then a new one)", n)
	}
}

// A list Open started that no board took while fresh is not shown: the
// first board lists again, and shows what Argo CD has now.
func TestStaleEarlyListIsNotShown(t *testing.T) {
	sb, s := openSandbox(t)
	ctx := context.Background()
	session.AgeEarlyLists(s, session.EarlyFresh)
	st := sb.Config.Stages[0]
	sb.Argo.AddApp(argotest.AppSpec{Name: st.Name + "-late", RepoURL: sb.Remote, Path: st.Path + "/late"})
	b, err := board.Collect(ctx, s.Sources())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sb.Argo.Lists()); n != 2 {
		t.Fatalf("Argo CD listed %d times, want 2 (the stale early list, then the board's own)", n)
	}
	found := false
	for _, a := range b.Stages[0].Apps {
		found = found || a.Name == st.Name+"-late"
	}
	if !found {
		t.Fatalf("the board shows %s as the stale list had it: no %s-late", st.Name, st.Name)
	}
}

var cacheDirLine = regexp.MustCompile(`(?m)^cacheDir: .*$`)

// BenchmarkOpenOverSlowGit is a command's start to its first board when
// the ops remote answers each request in 150 ms (a first clone, then its
// fetch) and Argo CD lists 2,000 more apps: the two overlap, so it costs
// about the slower of them, not their sum.
func BenchmarkOpenOverSlowGit(b *testing.B) {
	sb, cfgPath := cmdtest.Sandbox(b, "")
	// A fleet: 2,000 apps make Argo CD's list take a real share.
	for i := 0; i < 2000; i++ {
		sb.Argo.AddApp(argotest.AppSpec{Name: fmt.Sprintf("fleet-svc%04d", i), RepoURL: sb.Remote, Path: fmt.Sprintf("tst/svc%04d", i),
			Images: []string{"registry.example.com/svc:1.2.3"}})
	}
	g := &slowGit{delay: 150 * time.Millisecond}
	url := g.serve(b, strings.TrimPrefix(sb.Remote, "file://"))
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	base := strings.Replace(string(cfg), sb.Remote, url, 1)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// A cache directory of its own: every start clones.
		body := cacheDirLine.ReplaceAllString(base, "cacheDir: "+b.TempDir())
		if err := os.WriteFile(cfgPath, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		s, err := session.Open(ctx, session.Flags{Config: cfgPath}, true)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := board.Collect(ctx, s.Sources()); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// Each Argo CD instance the stages use is dialled at the same time, not
// one after the other: over slow links, a board waits for one instance's
// handshakes, not for the sum of them all.
func TestOpenDialsEachArgoCDAtOnce(t *testing.T) {
	t.Setenv("ARGOCD_SERVER", "")
	t.Setenv("ARGOCD_AUTH_TOKEN", "")
	sb, _ := cmdtest.Sandbox(t, "")
	const hold = 300 * time.Millisecond
	var contexts strings.Builder
	links := map[string]*argotest.SlowLink{}
	for _, name := range []string{"main", "prod"} {
		srv, err := argotest.Start(argotest.Options{Token: "secret-token"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		link, err := argotest.NewSlowLink(srv.Addr(), hold)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { link.Close() })
		links[name] = link
		fmt.Fprintf(&contexts, "- {name: %s, server: %s, user: %s}\n", name, link.Addr(), name)
	}
	argoCfg := filepath.Join(t.TempDir(), "argocd")
	users := ""
	servers := ""
	for name, link := range links {
		servers += fmt.Sprintf("- {server: %s, plain-text: true}\n", link.Addr())
		users += fmt.Sprintf("- {name: %s, auth-token: secret-token}\n", name)
	}
	if err := os.WriteFile(argoCfg, []byte("contexts:\n"+contexts.String()+"current-context: main\nservers:\n"+servers+"users:\n"+users), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "stagedeck.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("opsRepo:\n  url: %s\nargocd:\n  context: main\n  configPath: %s\ncacheDir: %s\nstages:\n"+
		"  - {name: tst, path: tst}\n  - {name: prod, path: prod, argocd: prod}\n", sb.Remote, argoCfg, t.TempDir())), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(context.Background(), session.Flags{Config: cfg}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Argo) != 2 || len(s.ArgoErr) != 0 {
		t.Fatalf("connected to %d Argo CDs (errors: %v), want both", len(s.Argo), s.ArgoErr)
	}
	main, prod := links["main"].Seen(), links["prod"].Seen()
	if len(main) == 0 || len(prod) == 0 {
		t.Fatalf("connections: main %d, prod %d", len(main), len(prod))
	}
	if gap := prod[0].Sub(main[0]).Abs(); gap >= hold {
		t.Errorf("the second Argo CD was first dialled %s after the first (hold %s): one waited for the other", gap, hold)
	}
}

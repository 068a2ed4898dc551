package board

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/appstate"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/opsrepo"
)

type lister struct {
	apps []appstate.App
	err  error
}

func (l lister) List(context.Context) ([]appstate.App, error) { return l.apps, l.err }

func gitRepo(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	run := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=A", "GIT_AUTHOR_EMAIL=a@x", "GIT_COMMITTER_NAME=A", "GIT_COMMITTER_EMAIL=a@x")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q", "-b", "main")
	for _, p := range []string{"envs/tst/web/values.yaml", "envs/tst/api/values.yaml", "envs/tst-eu/web/values.yaml", "envs/prod/web/values.yaml"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte("a: 1\n"), 0o644)
	}
	run("add", "-A")
	run("commit", "-q", "-m", "base")
	base := run("rev-parse", "HEAD")
	os.WriteFile(filepath.Join(dir, "envs/tst/web/values.yaml"), []byte("a: 2\n"), 0o644)
	run("commit", "-qam", "tst web a=2")
	run("remote", "add", "origin", "git@github.com:acme/ops.git")
	return dir, base
}

// openRepo opens the repository at dir, closed when the test ends.
func openRepo(t *testing.T, dir string) *opsrepo.Repo {
	t.Helper()
	repo, err := opsrepo.Open(context.Background(), opsrepo.Options{URL: dir, Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	return repo
}

func TestCollectDiscoversAppsBySourceAndPath(t *testing.T) {
	dir, base := gitRepo(t)
	repo := openRepo(t, dir)
	cfg := &config.Config{
		OpsRepo: config.OpsRepo{URL: dir, Branch: "main"}, ArgoCD: &config.ArgoCD{},
		Stages: []config.Stage{{Name: "tst", Path: "envs/tst"}, {Name: "tst-eu", Path: "envs/tst-eu"}, {Name: "prod", Path: "envs/prod", ArgoCD: "prod-ctx"}},
	}
	apps := []appstate.App{
		// The https form of the ssh origin, with a .git suffix: the same repo.
		{Name: "tst-web", Sync: "OutOfSync", Health: "Healthy", Sources: []appstate.Source{{RepoURL: "https://github.com/acme/ops.git", Path: "envs/tst/web", Deployed: base}}},
		// Multi-source: a chart from elsewhere plus values from the ops repo.
		{Name: "tst-api", Sync: "Synced", Health: "Healthy", Sources: []appstate.Source{
			{RepoURL: "https://charts.example.com", Path: ""},
			{RepoURL: "ssh://git@github.com/acme/ops", Path: "envs/tst/api", Deployed: base},
		}},
		// A sibling directory sharing the prefix belongs to another stage.
		{Name: "tst-eu-web", Sync: "Synced", Health: "Healthy", Sources: []appstate.Source{{RepoURL: "git@github.com:acme/ops.git", Path: "envs/tst-eu/web", Deployed: base}}},
		// Another repository is not ours.
		{Name: "other", Sources: []appstate.Source{{RepoURL: "https://github.com/acme/other.git", Path: "envs/tst/web"}}},
	}
	b, err := Collect(context.Background(), Sources{
		Config: cfg, Repo: repo,
		Argo:    map[string]AppLister{"": lister{apps: apps}},
		ArgoErr: map[string]error{"prod-ctx": fmt.Errorf("argo cd prod: %w", appstate.ErrUnreachable)},
	})
	if err != nil {
		t.Fatal(err)
	}
	tst, _ := b.Stage("tst")
	if len(tst.Apps) != 2 || tst.Apps[0].Name != "tst-api" || tst.Apps[1].Name != "tst-web" {
		t.Fatalf("tst apps = %+v", tst.Apps)
	}
	if tst.Apps[1].PendingCommits != 1 || tst.Apps[0].PendingCommits != 0 || tst.Behind() != 1 {
		t.Errorf("pending: web %d api %d", tst.Apps[1].PendingCommits, tst.Apps[0].PendingCommits)
	}
	if tst.Apps[0].Path != "envs/tst/api" || tst.Apps[0].DeployedRevision != base {
		t.Errorf("multi-source app took the wrong source: %+v", tst.Apps[0])
	}
	if eu, _ := b.Stage("tst-eu"); len(eu.Apps) != 1 || eu.Apps[0].Name != "tst-eu-web" {
		t.Errorf("tst-eu apps = %+v", eu.Apps)
	}
	prod, _ := b.Stage("prod")
	if prod.ArgoError == "" || prod.Sync() != "Unknown" || prod.Head == nil {
		t.Errorf("unreachable context: %+v", prod)
	}
	if len(b.Errors) != 1 || b.Errors[0].Source != "argocd:prod-ctx" || !b.Errors[0].Unreachable {
		t.Errorf("errors = %+v", b.Errors)
	}
	if b.Settled() {
		t.Error("a board with an out-of-sync app is settled")
	}
}

// TestCollectFetchesARevisionArgoCDDeployedButGitHasNotSeen: CI pushed and
// ITG auto-synced before our next fetch; the board must not call that
// revision foreign.
func TestCollectFetchesARevisionArgoCDDeployedButGitHasNotSeen(t *testing.T) {
	dir, base := gitRepo(t)
	bare := t.TempDir() + "/ops.git"
	if out, err := exec.Command("git", "clone", "-q", "--bare", dir, bare).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	repo, err := opsrepo.Open(context.Background(), opsrepo.Options{URL: "file://" + bare, Branch: "main", CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	// A new commit lands on the remote after stagedeck's clone.
	cmd := exec.Command("git", "-C", dir, "commit", "-q", "--allow-empty", "-m", "ci: new")
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=A", "GIT_AUTHOR_EMAIL=a@x", "GIT_COMMITTER_NAME=A", "GIT_COMMITTER_EMAIL=a@x")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	out, _ := exec.Command("git", "-C", dir, "push", "-q", bare, "main").CombinedOutput()
	_ = out
	newSHA, _ := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	deployed := strings.TrimSpace(string(newSHA))
	cfg := &config.Config{OpsRepo: config.OpsRepo{URL: "file://" + bare, Branch: "main"}, ArgoCD: &config.ArgoCD{},
		Stages: []config.Stage{{Name: "tst", Path: "envs/tst"}}}
	apps := []appstate.App{{Name: "tst-web", Sync: "Synced", Health: "Healthy", Sources: []appstate.Source{{RepoURL: "file://" + bare, Path: "envs/tst/web", Deployed: deployed}}}}
	b, err := Collect(context.Background(), Sources{Config: cfg, Repo: repo, Argo: map[string]AppLister{"": lister{apps: apps}}})
	if err != nil {
		t.Fatal(err)
	}
	a := b.Stages[0].Apps[0]
	if a.NotAncestor || a.PendingCommits != 0 || b.Repo.Head != deployed {
		t.Errorf("app %+v, board head %s; want the new revision fetched (base %s)", a, b.Repo.Head, base)
	}
}

// waitingLister answers only once another instance has been asked: the
// instances are listed at the same time, so a slow or unreachable one costs
// its own timeout, not the sum.
type waitingLister struct{ other chan struct{} }

func (l waitingLister) List(ctx context.Context) ([]appstate.App, error) {
	select {
	case <-l.other:
		return nil, nil
	case <-time.After(5 * time.Second):
		return nil, errors.New("listed one instance after the other")
	}
}

type signallingLister struct{ called chan struct{} }

func (l signallingLister) List(context.Context) ([]appstate.App, error) {
	close(l.called)
	return nil, nil
}

func TestCollectListsInstancesAtOnce(t *testing.T) {
	dir, _ := gitRepo(t)
	repo := openRepo(t, dir)
	cfg := &config.Config{
		OpsRepo: config.OpsRepo{URL: dir, Branch: "main"}, ArgoCD: &config.ArgoCD{},
		// Two instances to list, one that could not be dialled and one not
		// connected: their errors are recorded while the lists run.
		Stages: []config.Stage{{Name: "tst", Path: "envs/tst"}, {Name: "prod", Path: "envs/prod", ArgoCD: "prod-ctx"},
			{Name: "tst-eu", Path: "envs/tst-eu", ArgoCD: "down"}, {Name: "tst-eu2", Path: "envs/tst-eu", ArgoCD: "missing"}},
	}
	called := make(chan struct{})
	b, err := Collect(context.Background(), Sources{Config: cfg, Repo: repo, Argo: map[string]AppLister{
		"": waitingLister{other: called}, "prod-ctx": signallingLister{called: called},
	}, ArgoErr: map[string]error{"down": appstate.ErrUnreachable}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Errors) != 2 || b.Errors[0].Source != "argocd:down" || b.Errors[1].Source != "argocd:missing" {
		t.Errorf("errors = %+v, want the two instances that could not be listed", b.Errors)
	}
}

// TestEmptyStageIsAnEmptyList: a stage with no app is [] in status -o
// json, never null (jq '.stages[].apps[]' must not fail).
func TestEmptyStageIsAnEmptyList(t *testing.T) {
	dir, _ := gitRepo(t)
	repo := openRepo(t, dir)
	cfg := &config.Config{OpsRepo: config.OpsRepo{URL: dir, Branch: "main"}, ArgoCD: &config.ArgoCD{},
		Stages: []config.Stage{{Name: "prod", Path: "envs/prod"}}}
	b, err := Collect(context.Background(), Sources{Config: cfg, Repo: repo, Argo: map[string]AppLister{"": lister{}}})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(b.Stages[0])
	if !strings.Contains(string(out), `"apps":[]`) {
		t.Errorf("empty stage: %s", out)
	}
}

// TestOpsReadsFollowTheApplicationsFiles: what an Application makes Argo
// CD read of the ops repository, spelling by spelling.
func TestOpsReadsFollowTheApplicationsFiles(t *testing.T) {
	ops := "https://git.example.com/ops.git"
	cases := []struct {
		name string
		app  appstate.App
		want []string
	}{
		{"relative and absolute value files", appstate.App{Sources: []appstate.Source{{RepoURL: ops, Path: "tst/web",
			Files: []string{"values.yaml", "../../prod/web/values.yaml", "/shared/common.yaml", "../../../../etc/passwd", "https://x/v.yaml"}}}},
			[]string{"tst/web", "tst/web/values.yaml", "prod/web/values.yaml", "shared/common.yaml"}},
		{"a ref-only source counts through its files", appstate.App{MultiSource: true, Sources: []appstate.Source{
			{RepoURL: "https://charts.example.com", Files: []string{"$values/tst/web/values.yaml", "$nope/prod/x.yaml", "$ARGOCD_APP_NAME.yaml"}},
			{RepoURL: ops, Ref: "values", RefOnly: true}}},
			[]string{"tst/web/values.yaml"}},
		{"environment variables after a ref", appstate.App{MultiSource: true, Sources: []appstate.Source{
			{RepoURL: "https://charts.example.com", Files: []string{"$values/envs/$ARGOCD_APP_NAMESPACE/values.yaml", "$values/$ARGOCD_APP_NAME/x.yaml"}},
			{RepoURL: ops, Ref: "values", RefOnly: true}}},
			[]string{"envs", ""}},
		{"a ref source with a path is rendered", appstate.App{MultiSource: true, Sources: []appstate.Source{
			{RepoURL: ops, Ref: "values", Path: ""}}},
			[]string{""}},
		{"environment variables: anywhere below what precedes them", appstate.App{Sources: []appstate.Source{{RepoURL: ops, Path: "tst/web",
			Files: []string{"$ARGOCD_APP_NAMESPACE/values.yaml", "../../${ARGOCD_APP_NAME}/values.yaml", "envs/values-$ARGOCD_APP_NAME.yaml", "envs/$X/../../x.yaml"}}}},
			[]string{"tst/web", "", "tst/web/envs"}},
	}
	for _, c := range cases {
		var got []string
		for _, r := range opsReads(c.app, []string{ops}) {
			if !slices.Contains(got, r.path) {
				got = append(got, r.path)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %q; want %q", c.name, got, c.want)
		}
	}
}

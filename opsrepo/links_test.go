package opsrepo

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// link makes path a symbolic link to target in the colleague's clone.
func (f *remoteFixture) link(t *testing.T, path, target string) {
	t.Helper()
	p := filepath.Join(f.other, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(p)
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// push commits everything in the colleague's clone and pushes it; its sha.
func (f *remoteFixture) push(t *testing.T, subject string) string {
	t.Helper()
	sha := commitAll(t, f.other, subject)
	gitCLI(t, f.other, "push", "-q", "origin", "main")
	if err := f.repo.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sha
}

// revert reverts commit in stage and pushes it; the plan pushed.
func (f *remoteFixture) revert(t *testing.T, stage, commit string) *Plan {
	t.Helper()
	rb := Rollback{Stage: stage, Path: stage, Revert: commit, Reason: "r", Operator: ann}
	plan, err := f.repo.PrepareRollback(context.Background(), rb)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.repo.Publish(context.Background(), plan, rb); err != nil {
		t.Fatal(err)
	}
	return plan
}

func (f *remoteFixture) mode(t *testing.T, path string) string {
	t.Helper()
	return strings.Fields(gitCLI(t, f.bare, "ls-tree", "main", path))[0]
}

func TestLinksAreReadFromTheTree(t *testing.T) {
	f := newRemoteFixture(t)
	f.link(t, "tst/web/values-prod.yaml", "../../prod/web/values.yaml")
	f.link(t, "tst/api", "../prod/web")
	f.link(t, "tst/escape", "../../../etc/passwd")
	sha := f.push(t, "links")
	l, err := f.repo.Links(plumbing.NewHash(sha))
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 2 {
		t.Errorf("links = %d; want 2 (the one out of the repository left out)", l.Len())
	}
	got := l.Expand([]string{"tst/web", "tst/api/templates"})
	for _, want := range []string{"prod/web/values.yaml", "tst/api", "prod/web/templates"} {
		if !slices.Contains(got, want) {
			t.Errorf("Expand lacks %s: %q", want, got)
		}
	}
	if f.repo.LatestLinks() != nil {
		t.Error("links read for anything but a board became the latest")
	}
	if bl, _ := f.repo.BoardLinks(plumbing.NewHash(sha)); bl != l || f.repo.LatestLinks() != l {
		t.Error("LatestLinks are not the board's")
	}
	// A walk over a path through a link is not an error: git log sees nothing there.
	head, _ := f.repo.Head()
	p, err := f.repo.Pending(context.Background(), head, f.commits["base"], []string{"tst/api/templates", "tst/web"})
	if err != nil {
		t.Fatalf("pending through a link: %v", err)
	}
	if len(p.Commits["tst/web"]) == 0 {
		t.Error("tst/web's commits lost")
	}
	last, err := f.repo.LastChanges(context.Background(), head, []string{"tst/api/templates"})
	if err != nil || len(last) != 0 {
		t.Errorf("last change through a link: %v %v", last, err)
	}
}

func TestRevertKeepsSymbolicLinks(t *testing.T) {
	f := newRemoteFixture(t)
	f.link(t, "prod/web/shared.yaml", "../../tst/web/values.yaml")
	f.link(t, "prod/web/gone.yaml", "../../tst/web/values.yaml")
	f.push(t, "prod: shared values by link")
	f.link(t, "prod/web/shared.yaml", "values.yaml") // retarget
	if err := os.Remove(filepath.Join(f.other, "prod/web/gone.yaml")); err != nil {
		t.Fatal(err)
	}
	bad := f.push(t, "prod: link to own values, drop gone")
	plan := f.revert(t, "prod", bad)
	for _, p := range []string{"prod/web/shared.yaml", "prod/web/gone.yaml"} {
		if m := f.mode(t, p); m != "120000" {
			t.Errorf("%s is %s after the revert; want a symbolic link (120000)", p, m)
		}
		if got := f.remoteFile(t, p); got != "../../tst/web/values.yaml" {
			t.Errorf("%s points at %q", p, got)
		}
	}
	// The reverted link read tst's values: prod's rollback changes what
	// the link reads, and says so.
	if !slices.Contains(plan.Paths(), "prod/web/shared.yaml") {
		t.Errorf("plan paths %q", plan.Paths())
	}
}

func TestRevertKeepsAModeChange(t *testing.T) {
	f := newRemoteFixture(t)
	if err := os.Chmod(filepath.Join(f.other, "prod/web/values.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := f.push(t, "prod: values executable")
	f.revert(t, "prod", bad)
	if m := f.mode(t, "prod/web/values.yaml"); m != "100644" {
		t.Errorf("mode after reverting a chmod: %s", m)
	}
}

func TestRollbackReachesWhatLinksToItsFiles(t *testing.T) {
	f := newRemoteFixture(t)
	f.link(t, "prod/web/common.yaml", "../../tst/web/common.yaml")
	writeFile(t, f.other, "tst/web/common.yaml", "timeout: 5\n")
	f.push(t, "shared common values")
	writeFile(t, f.other, "tst/web/common.yaml", "timeout: 1\n")
	bad := f.push(t, "tst: shorter timeout")
	rb := Rollback{Stage: "tst", Path: "tst", Revert: bad, Reason: "r", Operator: ann}
	plan, err := f.repo.PrepareRollback(context.Background(), rb)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(plan.Paths(), "prod/web/common.yaml") {
		t.Errorf("a rollback of tst changes what prod reads through its link: paths %q", plan.Paths())
	}
	if slices.Contains(plan.Files(), "prod/web/common.yaml") {
		t.Errorf("the link itself is not written: files %q", plan.Files())
	}
}

// TestLinksReadEveryRendererReference: what Helm, jsonnet and kustomize
// read outside an app's directory, and what cannot be told (a linked
// kustomization, a link target too long to be a path) reads everything.
func TestLinksReadEveryRendererReference(t *testing.T) {
	f := newRemoteFixture(t)
	writeFile(t, f.other, "tst/web/Chart.yaml", "apiVersion: v2\nname: web\ndependencies:\n  - name: common\n    repository: file://../../prod/common\n")
	writeFile(t, f.other, "tst/jn/main.jsonnet", "local lib = import '../../prod/lib/x.libsonnet';\n{ a: lib.a != 1 }\n")
	writeFile(t, f.other, "shared/kustomization.yaml", "resources: [../base]\n")
	f.link(t, "tst/kz/kustomization.yaml", "../../shared/kustomization.yaml")
	commitAll(t, f.other, "renderer references")
	// A link target longer than any path (git stores it; no file system makes it).
	long := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(long, []byte(strings.Repeat("a/", 2100)+"x"), 0o644); err != nil {
		t.Fatal(err)
	}
	blob := gitCLI(t, f.other, "hash-object", "-w", long)
	gitCLI(t, f.other, "update-index", "--add", "--cacheinfo", "120000,"+blob+",tst/long/x")
	gitCLI(t, f.other, "commit", "-q", "-m", "a long link")
	gitCLI(t, f.other, "push", "-q", "origin", "main")
	if err := f.repo.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	sha := gitCLI(t, f.other, "rev-parse", "HEAD")
	l, err := f.repo.Links(plumbing.NewHash(sha))
	if err != nil {
		t.Fatalf("links: %v", err)
	}
	for app, want := range map[string]string{"tst/web": "prod/common", "tst/jn": "prod/lib/x.libsonnet", "tst/kz": "", "tst/long": ""} {
		if got := l.Expand([]string{app}); !slices.Contains(got, want) {
			t.Errorf("%s reads %q; want %q among them", app, got, want)
		}
	}
}

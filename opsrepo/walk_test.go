package opsrepo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func openLocal(t testing.TB, dir string) *Repo {
	t.Helper()
	r, err := Open(context.Background(), Options{URL: dir, Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestWalkMatchesGitCLI cross-checks LastChanges and Pending against the git
// CLI on a generated history with merges, for every stage and some app paths.
func TestWalkMatchesGitCLI(t *testing.T) {
	dir := t.TempDir()
	genRepo(t, dir, 400, 3, 6, true, 7)
	r := openLocal(t, dir)
	head, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"stage0", "stage1", "stage2", "stage0/app003", "stage2/app005/values.yaml", "nope"}
	got, err := r.LastChanges(context.Background(), head, paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		want := gitCLI(t, dir, "log", "-1", "--format=%H", "--", p)
		if got[p].SHA != want {
			t.Errorf("LastChanges(%s) = %q, git log says %q", p, got[p].SHA, want)
		}
	}
	for _, back := range []int{1, 17, 120, 280} {
		deployed := gitCLI(t, dir, "rev-parse", fmt.Sprintf("main~%d", back))
		pend, err := r.Pending(context.Background(), head, deployed, paths[:4])
		if err != nil {
			t.Fatal(err)
		}
		if !pend.Ancestor {
			t.Errorf("main~%d: Ancestor = false", back)
		}
		for _, p := range paths[:4] {
			want := gitCLI(t, dir, "log", "--format=%H", deployed+"..main", "--", p)
			var shas []string
			for _, c := range pend.Commits[p] {
				shas = append(shas, c.SHA)
			}
			if strings.Join(shas, "\n") != want {
				t.Errorf("Pending(main~%d, %s): got %d commits, git log says %d", back, p, len(shas), len(strings.Fields(want)))
			}
		}
	}
}

func TestPendingEdgeCases(t *testing.T) {
	dir := t.TempDir()
	gitCLI(t, dir, "init", "-q", "-b", "main")
	writeFile(t, dir, "tst/app/values.yaml", "a: 1\n")
	writeFile(t, dir, "prod/app/values.yaml", "a: 1\n")
	base := commitAll(t, dir, "base")
	writeFile(t, dir, "tst/app/values.yaml", "a: 2\n")
	tst := commitAll(t, dir, "tst change")
	writeFile(t, dir, "prod/app/values.yaml", "a: 2\n")
	writeFile(t, dir, "tst/app/values.yaml", "a: 3\n")
	both := commitAll(t, dir, "both")
	gitCLI(t, dir, "checkout", "-q", "--orphan", "other")
	foreign := commitAll(t, dir, "unrelated history")
	gitCLI(t, dir, "checkout", "-q", "main")

	r := openLocal(t, dir)
	head, _ := r.Head()
	ctx := context.Background()

	p, err := r.Pending(ctx, head, both, []string{"tst"})
	if err != nil || !p.Ancestor || len(p.Commits["tst"]) != 0 {
		t.Errorf("deployed == head: %+v, %v", p, err)
	}
	p, err = r.Pending(ctx, head, base[:10], []string{"tst", "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.Commits["tst"]); got != 2 || p.Commits["tst"][0].SHA != both || p.Commits["tst"][1].SHA != tst {
		t.Errorf("tst pending = %+v, want [both, tst]", p.Commits["tst"])
	}
	if got := len(p.Commits["prod"]); got != 1 || p.Commits["prod"][0].Subject != "both" {
		t.Errorf("prod pending = %+v, want [both]", p.Commits["prod"])
	}
	p, err = r.Pending(ctx, head, foreign, []string{"tst"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Ancestor {
		t.Error("unrelated history reported as an ancestor of head")
	}
	if _, err := r.Pending(ctx, head, "0123456789abcdef0123456789abcdef01234567", []string{"tst"}); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("unknown revision: err = %v, want ErrUnknownRevision", err)
	}
	last, err := r.LastChanges(ctx, head, []string{"tst", "prod", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if last["tst"].SHA != both || last["prod"].Author != "Test Author" || last["prod"].Subject != "both" {
		t.Errorf("LastChanges = %+v", last)
	}
	if _, ok := last["missing"]; ok {
		t.Error("a path that never existed has a last change")
	}
}

func TestHistoryMatchesGitLog(t *testing.T) {
	dir := t.TempDir()
	genRepo(t, dir, 300, 3, 4, true, 11)
	r := openLocal(t, dir)
	head, _ := r.Head()
	for _, p := range []string{"stage1", "stage2/app001"} {
		got, err := r.History(context.Background(), head, p, 25)
		if err != nil {
			t.Fatal(err)
		}
		var shas []string
		for _, c := range got {
			shas = append(shas, c.SHA)
		}
		if want := gitCLI(t, dir, "log", "-n", "25", "--format=%H", "--", p); strings.Join(shas, "\n") != want {
			t.Errorf("History(%s) differs from git log -n 25", p)
		}
	}
}

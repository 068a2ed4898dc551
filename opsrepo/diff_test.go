package opsrepo

import (
	"context"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/stagedeck/stagedeck/patch"
)

func TestChangesModifyAddDeleteRenameBinary(t *testing.T) {
	dir := t.TempDir()
	gitCLI(t, dir, "init", "-q", "-b", "main")
	writeFile(t, dir, "tst/web/values.yaml", "replicas: 2\nimage: web:1.0\n")
	writeFile(t, dir, "tst/web/old-name.yaml", "a: 1\nb: 2\nc: 3\nd: 4\n")
	writeFile(t, dir, "tst/web/gone.yaml", "bye: true\n")
	writeFile(t, dir, "tst/web/logo.png", "\x89PNG\x00\x00old")
	writeFile(t, dir, "prod/web/values.yaml", "replicas: 4\nimage: web:0.9\n")
	base := commitAll(t, dir, "base")
	writeFile(t, dir, "tst/web/values.yaml", "replicas: 3\nimage: web:1.0\n")
	gitCLI(t, dir, "mv", "tst/web/old-name.yaml", "tst/web/new-name.yaml")
	gitCLI(t, dir, "rm", "-q", "tst/web/gone.yaml")
	writeFile(t, dir, "tst/web/added.yaml", "hello: world\n")
	writeFile(t, dir, "tst/web/logo.png", "\x89PNG\x00\x00new")
	writeFile(t, dir, "prod/web/values.yaml", "replicas: 6\nimage: web:0.9\n") // another stage: must not show
	head := commitAll(t, dir, "change tst and prod")

	r := openLocal(t, dir)
	pairs, err := r.Changes(context.Background(), plumbing.NewHash(base), plumbing.NewHash(head), "tst")
	if err != nil {
		t.Fatal(err)
	}
	out := patch.Unified(pairs, 3)
	for _, want := range []string{
		"-replicas: 2", "+replicas: 3",
		"rename from tst/web/old-name.yaml", "rename to tst/web/new-name.yaml",
		"deleted file mode", "-bye: true",
		"new file mode", "+hello: world",
		"Binary files a/tst/web/logo.png and b/tst/web/logo.png differ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "prod/") || strings.Contains(out, "old\n") {
		t.Errorf("diff shows another stage or binary content:\n%s", out)
	}
	one, err := r.CommitChanges(context.Background(), plumbing.NewHash(head), "prod")
	if err != nil || !strings.Contains(patch.Unified(one, 3), "+replicas: 6") {
		t.Errorf("commit diff of prod: %v\n%s", err, patch.Unified(one, 3))
	}
	cmp, err := r.CompareDirs(context.Background(), plumbing.NewHash(head), "tst", "prod")
	if err != nil {
		t.Fatal(err)
	}
	out = patch.Unified(cmp, 3)
	for _, want := range []string{"a/web/values.yaml", "-replicas: 6", "+replicas: 3", "-image: web:0.9", "+image: web:1.0", "new file mode"} {
		if !strings.Contains(out, want) {
			t.Errorf("stage comparison lacks %q:\n%s", want, out)
		}
	}
}

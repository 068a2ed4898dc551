package board

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stagedeck/stagedeck/appstate"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/opsrepo"
)

// scaleRepo is a real ops repository of 5 stages x 400 apps (2,000 app
// directories): a base commit, then a commit touching every tenth app, so
// a tenth of the fleet has one pending commit.
func scaleRepo(b *testing.B) (dir, base string, apps []appstate.App, cfg *config.Config) {
	dir = b.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=A", "GIT_AUTHOR_EMAIL=a@x", "GIT_COMMITTER_NAME=A", "GIT_COMMITTER_EMAIL=a@x",
			"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("git %v: %v %s", args, err, out)
		}
		return string(out[:len(out)-min(len(out), 1)])
	}
	git("init", "-q", "-b", "main")
	stages := []string{"mr", "itg", "tst", "perf", "prod"}
	write := func(p, content string) {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, st := range stages {
		for i := 0; i < 400; i++ {
			write(fmt.Sprintf("%s/svc%03d/values.yaml", st, i), "replicas: 2\n")
		}
	}
	git("add", "-A")
	git("commit", "-q", "-m", "base")
	base = git("rev-parse", "HEAD")
	for _, st := range stages {
		for i := 0; i < 400; i += 10 {
			write(fmt.Sprintf("%s/svc%03d/values.yaml", st, i), "replicas: 3\n")
		}
	}
	git("commit", "-qam", "bump a tenth")
	git("remote", "add", "origin", "git@github.com:acme/ops.git")
	git("gc", "-q") // packed, as a clone is
	cfg = &config.Config{OpsRepo: config.OpsRepo{URL: dir, Branch: "main"}, ArgoCD: &config.ArgoCD{}}
	for _, st := range stages {
		cfg.Stages = append(cfg.Stages, config.Stage{Name: st, Path: st, Protected: st == "prod"})
		for i := 0; i < 400; i++ {
			apps = append(apps, appstate.App{
				Name: fmt.Sprintf("%s-svc%03d", st, i), Project: "default", Sync: "OutOfSync", Health: "Healthy",
				Sources: []appstate.Source{{RepoURL: "https://github.com/acme/ops.git", Path: fmt.Sprintf("%s/svc%03d", st, i), TargetRevision: "main", Deployed: base}},
			})
		}
	}
	return dir, base, apps, cfg
}

// BenchmarkCollect2000 is the board build of a cold start once Argo CD has
// answered: 2,000 apps over 5 stages joined with a real ops repository
// (last change per app, pending commits per app).
func BenchmarkCollect2000(b *testing.B) {
	dir, _, apps, cfg := scaleRepo(b)
	ctx := context.Background()
	repo, err := opsrepo.Open(ctx, opsrepo.Options{URL: dir, Branch: "main"})
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	src := Sources{Config: cfg, Repo: repo, Argo: map[string]AppLister{"": lister{apps: apps}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bd, err := Collect(ctx, src)
		if err != nil {
			b.Fatal(err)
		}
		if tst, _ := bd.Stage("tst"); len(tst.Apps) != 400 || tst.Behind() != 1 {
			b.Fatalf("tst: %d apps, %d behind", len(tst.Apps), tst.Behind())
		}
	}
}

package diff

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/internal/cmdtest"
	"github.com/stagedeck/stagedeck/internal/testrepo"
	"github.com/stagedeck/stagedeck/session"
)

func TestManifestsWithAgainstIsRefusedBeforeAnythingOpens(t *testing.T) {
	opened := false
	opts := &Options{Open: func(context.Context, bool) (*session.Session, error) { opened = true; return nil, nil },
		Args: []string{"tst"}, Manifests: true, Against: "prod"}
	err := Run(context.Background(), opts)
	if cmdutil.CodeOf(err) != cmdutil.ExitUsage || opened {
		t.Errorf("exit %d (%v), opened %v", cmdutil.CodeOf(err), err, opened)
	}
}

// One commit's diff in git-only mode, redacted; exit 1 for differences.
func TestRunOneCommit(t *testing.T) {
	repo := testrepo.Plain(t)
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: hunter2-very-secret\n"
	if err := os.WriteFile(filepath.Join(repo, "tst/web/secret.yaml"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	testrepo.Git(t, repo, "add", "-A")
	testrepo.Git(t, repo, "commit", "-q", "-m", "Add the db secret")
	cfg := testrepo.Config(t, "opsRepo:\n  url: "+repo+"\ncacheDir: "+t.TempDir()+"\nstages:\n  - {name: tst, path: tst}\n  - {name: prod, path: prod}\n")
	f, io := cmdtest.Factory(cfg, false)
	err := Run(context.Background(), &Options{IO: f.IO, Open: f.Open, Args: []string{"tst"}, Commit: "HEAD"})
	if cmdutil.CodeOf(err) != cmdutil.ExitPending {
		t.Fatalf("exit %d (%v), want 1 for a difference", cmdutil.CodeOf(err), err)
	}
	out := io.Out.String()
	if !strings.Contains(out, "tst/web/secret.yaml") || strings.Contains(out, "hunter2") {
		t.Errorf("diff:\n%s", out)
	}
	err = Run(context.Background(), &Options{IO: f.IO, Open: f.Open, Args: []string{"nope"}, Commit: "HEAD"})
	if cmdutil.CodeOf(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "stages are tst, prod") {
		t.Errorf("unknown stage: %v", err)
	}
}

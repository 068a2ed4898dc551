package rollback

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/internal/cmdtest"
	"github.com/stagedeck/stagedeck/internal/testrepo"
	"github.com/stagedeck/stagedeck/opsrepo"
	"github.com/stagedeck/stagedeck/session"
)

func TestBadFlagsAreRefusedBeforeAnythingOpens(t *testing.T) {
	never := func(context.Context, bool) (*session.Session, error) {
		t.Error("opened a session for bad flags")
		return nil, errors.New("no")
	}
	for _, o := range []Options{
		{Args: []string{"tst"}, Reason: "r"},
		{Args: []string{"tst"}, Revert: "a", To: "b", Reason: "r"},
	} {
		o.Open = never
		if err := Run(context.Background(), &o); cmdutil.CodeOf(err) != cmdutil.ExitUsage {
			t.Errorf("%+v: exit %d (%v)", o, cmdutil.CodeOf(err), err)
		}
	}
}

func TestExitCodes(t *testing.T) {
	for err, want := range map[error]int{
		opsrepo.ErrConflict: cmdutil.ExitRefused, opsrepo.ErrPushRejected: cmdutil.ExitRefused,
		opsrepo.ErrUnreachable: cmdutil.ExitUnreachable, opsrepo.ErrAuth: cmdutil.ExitUnreachable,
		opsrepo.ErrReadOnly: cmdutil.ExitUsage, errors.New("x"): cmdutil.ExitUsage,
	} {
		if got := ExitCode(err); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

// A rollback of a protected stage without --confirm: refused, and the
// remote (a local bare repository) keeps its head.
func TestProtectedNeedsConfirm(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Ann Owner <ann@example.com>")
	work := testrepo.Plain(t)
	remote := filepath.Join(t.TempDir(), "ops.git")
	if err := os.WriteFile(filepath.Join(work, "prod/web/values.yaml"), []byte("replicas: 9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testrepo.Git(t, work, "commit", "-q", "-am", "Scale prod web to 9")
	testrepo.Git(t, work, "clone", "-q", "--bare", work, remote)
	head := func() string {
		out, err := exec.Command("git", "-C", remote, "rev-parse", "main").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	before := head()
	cfg := testrepo.Config(t, "opsRepo:\n  url: file://"+remote+"\ncacheDir: "+t.TempDir()+"\nstages:\n  - {name: tst, path: tst}\n  - {name: prod, path: prod, protected: true}\n")
	f, io := cmdtest.Factory(cfg, false)
	err := Run(context.Background(), &Options{IO: f.IO, Open: f.Open, Args: []string{"prod"}, Revert: before, Reason: "INC-1", Yes: true})
	if cmdutil.CodeOf(err) != cmdutil.ExitRefused || !strings.Contains(err.Error(), "--confirm prod") {
		t.Errorf("exit %d: %v", cmdutil.CodeOf(err), err)
	}
	if head() != before || io.Out.Len() != 0 {
		t.Errorf("something was pushed or printed: %q", io.Out)
	}
	// Confirmed, the revert is pushed.
	err = Run(context.Background(), &Options{IO: f.IO, Open: f.Open, Args: []string{"prod"}, Revert: before, Reason: "INC-1", Yes: true, Confirm: []string{"prod"}})
	if err != nil || head() == before || !strings.Contains(io.Out.String(), "pushed ") {
		t.Errorf("confirmed rollback: %v\n%s", err, io.Out)
	}
}

package console

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagedeck/stagedeck/argo"
	"github.com/stagedeck/stagedeck/demo"
	"github.com/stagedeck/stagedeck/internal/cmdtest"
	"github.com/stagedeck/stagedeck/internal/testrepo"
	"github.com/stagedeck/stagedeck/session"
)

func syncsSent(sb *demo.Sandbox) int {
	n := 0
	for _, c := range sb.Argo.Calls() {
		if c.Method == "Sync" {
			n++
		}
	}
	return n
}

func tstSyncs(rev string) []argo.SyncRequest {
	var out []argo.SyncRequest
	for _, app := range demo.Apps {
		out = append(out, argo.SyncRequest{App: "tst-" + app, Project: "tst", Revision: rev, Operator: "Ann Owner <ann@example.com>"})
	}
	return out
}

// TestConsoleStageSyncIsCheckedWholeBeforeAnythingIsSent: as the CLI does,
// the console prepares every app of a stage sync against Argo CD before
// sending any: one busy app refuses the stage, and none of it is sent.
func TestConsoleStageSyncIsCheckedWholeBeforeAnythingIsSent(t *testing.T) {
	sb, cfg := cmdtest.Sandbox(t, "")
	l := live{&lazySession{flags: session.Flags{Config: cfg}}}
	defer l.lazy.Close()
	ctx := context.Background()
	head := sb.Head()
	sb.Argo.HoldSyncs("tst-worker", true)
	if starts, err := l.StartSyncs(ctx, "tst", tstSyncs(head)[2:]); err != nil || len(starts) != 1 {
		t.Fatalf("sync of tst-worker: %v %+v", err, starts)
	}
	before := syncsSent(sb)
	starts, err := l.StartSyncs(ctx, "tst", tstSyncs(head))
	if err == nil || !strings.Contains(err.Error(), "tst-worker") || !strings.Contains(err.Error(), "nothing was sent") || len(starts) != 0 {
		t.Errorf("stage sync with tst-worker busy: %v %+v", err, starts)
	}
	if n := syncsSent(sb) - before; n != 0 {
		t.Errorf("%d syncs sent for a stage that was refused", n)
	}
}

// TestConsoleRefusesARevisionTheBranchNoLongerHas: the owner reviewed
// head, then someone force-pushed it away. The console fetches and refuses
// to deploy a commit that is no longer on the branch, as the CLI does.
func TestConsoleRefusesARevisionTheBranchNoLongerHas(t *testing.T) {
	sb, cfg := cmdtest.Sandbox(t, "")
	l := live{&lazySession{flags: session.Flags{Config: cfg}}}
	defer l.lazy.Close()
	ctx := context.Background()
	reviewed, err := sb.CICommit()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.lazy.get(ctx); err != nil { // the board the owner reviewed on
		t.Fatal(err)
	}
	clone := filepath.Join(t.TempDir(), "clone")
	testrepo.Git(t, filepath.Dir(clone), "clone", "-q", sb.Remote, clone)
	testrepo.Git(t, clone, "reset", "-q", "--hard", "HEAD~1")
	testrepo.Git(t, clone, "-c", "user.name=X", "-c", "user.email=x@example.com", "commit", "-q", "--allow-empty", "-m", "rewritten")
	testrepo.Git(t, clone, "push", "-q", "--force", "origin", "HEAD:main")

	starts, err := l.StartSyncs(ctx, "tst", tstSyncs(reviewed))
	if err == nil || !strings.Contains(err.Error(), "not on branch main") || !strings.Contains(err.Error(), "nothing was sent") || len(starts) != 0 {
		t.Errorf("sync of a force-pushed-away commit: %v %+v", err, starts)
	}
	if n := syncsSent(sb); n != 0 {
		t.Errorf("%d syncs of a commit no longer on the branch", n)
	}
}

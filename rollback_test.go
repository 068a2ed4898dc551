package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stagedeck/stagedeck/argo/argotest"
)

func remoteLog(t *testing.T, bare string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", bare}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestRollbackCLI(t *testing.T) {
	t.Setenv("USER", "oncall")
	sb, cfg := sandboxConfig(t)
	bare := strings.TrimPrefix(sb.Remote, "file://")
	prodHistory := remoteLog(t, bare, "log", "--format=%H", "-n", "2", "--", "prod")
	lines := strings.Fields(prodHistory)
	last, previous := lines[0], lines[1]
	before := sb.Head()

	bad := [][]string{
		{"rollback", "--config", cfg, "prod", "--to", previous, "--reason", "x", "--yes"},                  // protected
		{"rollback", "--config", cfg, "tst", "--to", previous, "--yes"},                                    // no reason
		{"rollback", "--config", cfg, "tst", "--to", previous, "--revert", last, "--reason", "x", "--yes"}, // both
		{"rollback", "--config", cfg, "nope", "--to", previous, "--reason", "x", "--yes"},                  // stage
		{"rollback", "--config", cfg, "tst", "--to", "0123456789", "--reason", "x", "--yes"},               // revision
		{"rollback", "--config", cfg, "tst", "--to", previous, "--reason", "x"},                            // not a terminal
	}
	for _, args := range bad {
		if _, errOut, code := stagedeck(t, args...); code == exitOK || code == exitUnreachable {
			t.Errorf("%v: exit %d (%s)", args[4:], code, errOut)
		}
	}
	if sb.Head() != before {
		t.Fatal("a refused rollback pushed something")
	}
	// A revert of the last prod commit, pushed and synced.
	out, errOut, code := stagedeck(t, "rollback", "--config", cfg, "prod", "--revert", last, "--reason", "INC-7", "--confirm", "prod", "--yes", "--sync")
	if code != exitOK {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
	head := remoteLog(t, bare, "rev-parse", "main")
	if !strings.Contains(out, "pushed "+head[:7]) || !strings.Contains(out, "prod-web: Succeeded") {
		t.Errorf("output:\n%s", out)
	}
	if remoteLog(t, bare, "rev-parse", "main^") != before {
		t.Error("the rollback is not a new commit on top of the old head")
	}
	msg := remoteLog(t, bare, "log", "-1", "--format=%B")
	if !strings.HasPrefix(msg, `Revert "`) || !strings.Contains(msg, "Reason: INC-7") || !strings.Contains(msg, "Operator: ") {
		t.Errorf("commit message:\n%s", msg)
	}
	// Reverting it again conflicts with nothing but changes nothing: refused with 1.
	if _, errOut, code := stagedeck(t, "rollback", "--config", cfg, "prod", "--revert", last, "--reason", "again", "--confirm", "prod", "--yes"); code != exitPending {
		t.Errorf("second revert: exit %d %s", code, errOut)
	}
	// Unreachable remote: exit 3.
	if err := os.Rename(bare, bare+".moved"); err != nil {
		t.Fatal(err)
	}
	defer os.Rename(bare+".moved", bare)
	if _, errOut, code := stagedeck(t, "rollback", "--config", cfg, "tst", "--to", previous, "--reason", "x", "--yes"); code != exitUnreachable {
		t.Errorf("unreachable remote: exit %d %s", code, errOut)
	}

}

// TestRollbackGitOnly: no Argo CD at all; the rollback is pushed to a bare remote.
func TestRollbackGitOnly(t *testing.T) {
	work := plainRepo(t)
	bare := t.TempDir() + "/ops.git"
	gitCLI(t, work, "clone", "-q", "--bare", work, bare)
	gitCLI(t, work, "remote", "add", "origin", bare)
	os.WriteFile(work+"/prod/web/values.yaml", []byte("replicas: 9\n"), 0o644)
	gitCLI(t, work, "commit", "-qam", "prod: 9 replicas")
	gitCLI(t, work, "push", "-q", "origin", "main")
	bad := remoteLog(t, bare, "rev-parse", "main")
	cfg := writeConfig(t, "opsRepo:\n  url: file://"+bare+"\ncacheDir: "+t.TempDir()+"\nstages:\n  - {name: prod, path: prod, protected: true}\n")
	out, errOut, code := stagedeck(t, "rollback", "--config", cfg, "prod", "--revert", bad, "--reason", "too many", "--confirm", "prod", "--yes")
	if code != exitOK || !strings.Contains(out, "git-only mode") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if got := remoteLog(t, bare, "show", "main:prod/web/values.yaml"); got != "replicas: 2" {
		t.Errorf("prod values after the revert: %q", got)
	}
	if parent := remoteLog(t, bare, "rev-parse", "main^"); parent != bad {
		t.Error("the revert is not on top of the reverted commit")
	}
}

// TestRollbackSyncDeploysExactlyTheRollback is the 3 a.m. path on the CLI:
// reverting the worker's deployed commit syncs prod-worker only, while prod-api
// and prod-web keep running what they ran; reverting an api commit while api
// has a commit never deployed needs a choice, and --from-running deploys no
// commit nobody reviewed.
func TestRollbackSyncDeploysExactlyTheRollback(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Ann Owner <ann@example.com>")
	sb, cfg := sandboxConfig(t)
	bare := strings.TrimPrefix(sb.Remote, "file://")
	deployedBefore := func() map[string]string {
		out, _, _ := stagedeck(t, "status", "--config", cfg, "-o", "json")
		var doc struct {
			Stages []struct {
				Apps []struct{ Name, DeployedRevision string }
			}
		}
		json.Unmarshal([]byte(out), &doc)
		m := map[string]string{}
		for _, s := range doc.Stages {
			for _, a := range s.Apps {
				m[a.Name] = a.DeployedRevision
			}
		}
		return m
	}
	before := deployedBefore()
	worker := strings.Fields(remoteLog(t, bare, "log", "--format=%H", "-n", "1", "--", "prod/worker"))[0]
	out, errOut, code := stagedeck(t, "rollback", "--config", cfg, "prod", "--revert", worker, "--reason", "INC-7", "--confirm", "prod", "--yes", "--sync")
	if code != exitOK {
		t.Fatalf("revert worker: exit %d\n%s%s", code, out, errOut)
	}
	calls := syncCalls(sb)
	if len(calls) != 1 || calls[0].App != "prod-worker" || calls[0].Infos["Reason"] != "rollback: INC-7" {
		t.Fatalf("sync calls %+v, want prod-worker only, with the rollback's reason", calls)
	}
	after := deployedBefore()
	for _, app := range []string{"prod-api", "prod-web"} {
		if after[app] != before[app] {
			t.Errorf("%s moved from %s to %s: it deployed commits nobody reviewed", app, before[app][:7], after[app][:7])
		}
	}

	// api runs "raise replicas to 6" and has "Rotate api DB password" not deployed.
	replicas := strings.Fields(remoteLog(t, bare, "log", "--format=%H", "--grep", "raise api replicas", "-n", "1"))[0]
	rotate := strings.Fields(remoteLog(t, bare, "log", "--format=%H", "--grep", "Rotate api DB password", "-n", "1"))[0]
	head := sb.Head()
	_, errOut, code = stagedeck(t, "rollback", "--config", cfg, "prod", "--revert", replicas, "--reason", "INC-8", "--confirm", "prod", "--yes", "--sync")
	if code != exitPending || !strings.Contains(errOut, rotate[:7]) || !strings.Contains(errOut, "--also-deploy") || !strings.Contains(errOut, "--from-running") {
		t.Fatalf("no choice given: exit %d %q", code, errOut)
	}
	if sb.Head() != head || len(syncCalls(sb)) != 1 {
		t.Fatal("pushed or sent before the owner chose")
	}
	out, errOut, code = stagedeck(t, "rollback", "--config", cfg, "prod", "--revert", replicas, "--reason", "INC-8", "--confirm", "prod", "--yes", "--sync", "--from-running")
	if code != exitOK {
		t.Fatalf("--from-running: exit %d\n%s%s", code, out, errOut)
	}
	calls = syncCalls(sb)
	if len(calls) != 2 || calls[1].App != "prod-api" {
		t.Fatalf("sync calls %+v, want prod-api second", calls)
	}
	msg := remoteLog(t, bare, "log", "-1", "--format=%B")
	if !strings.Contains(msg, "also undoes "+rotate[:7]) {
		t.Errorf("the commit does not name the undeployed commit it undid:\n%s", msg)
	}
	// What prod-api now runs is what ran before, minus the reverted commit.
	running := remoteLog(t, bare, "show", before["prod-api"]+":prod/api/values.yaml")
	now := remoteLog(t, bare, "show", "main:prod/api/values.yaml")
	if now == running || strings.Contains(now, "replicas: 6") {
		t.Errorf("prod/api is not the running content with the revert applied:\n%s", now)
	}
	if diff := remoteLog(t, bare, "diff", before["prod-api"], "main", "--", "prod/api/templates"); diff != "" {
		t.Errorf("the sealed secret changed from what was running (the rotation was deployed):\n%s", diff)
	}
}

// TestFromRunningIsNotOfferedForAnAppNeverDeployed: nothing runs to roll
// back from, so --from-running is refused plainly (nothing pushed or sent)
// and the refusal without a choice does not suggest it.
func TestFromRunningIsNotOfferedForAnAppNeverDeployed(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Ann Owner <ann@example.com>")
	sb, cfg := sandboxConfig(t)
	bare := strings.TrimPrefix(sb.Remote, "file://")
	sb.Argo.AddApp(argotest.AppSpec{Name: "tst-fresh", Project: "tst", RepoURL: sb.Remote, Path: "tst/api"})
	last := strings.Fields(remoteLog(t, bare, "log", "--format=%H", "-n", "1", "--", "tst/api"))[0]
	head := sb.Head()
	_, errOut, code := stagedeck(t, "rollback", "--config", cfg, "tst", "--revert", last, "--reason", "x", "--yes", "--sync")
	if code != exitPending || !strings.Contains(errOut, "--also-deploy") || !strings.Contains(errOut, "--from-running cannot: tst-fresh never deployed") {
		t.Errorf("no choice given: exit %d %q", code, errOut)
	}
	_, errOut, code = stagedeck(t, "rollback", "--config", cfg, "tst", "--revert", last, "--reason", "x", "--yes", "--sync", "--from-running")
	if code != exitPending || !strings.Contains(errOut, "tst-fresh never deployed, so nothing runs to roll back from") || strings.Contains(errOut, "deployed revision") {
		t.Errorf("--from-running for an app never deployed: exit %d %q", code, errOut)
	}
	if sb.Head() != head || len(syncCalls(sb)) != 0 {
		t.Fatal("pushed or sent after a refusal")
	}
}

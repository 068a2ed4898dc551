package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/argo/argotest"
	"github.com/stagedeck/stagedeck/demo"
	"github.com/stagedeck/stagedeck/internal/cmdtest"
)

func sandboxConfig(t *testing.T) (*demo.Sandbox, string) { return cmdtest.Sandbox(t, "") }

func syncCalls(sb *demo.Sandbox) []argotest.Call {
	var out []argotest.Call
	for _, c := range sb.Argo.Calls() {
		if c.Method == "Sync" {
			out = append(out, c)
		}
	}
	return out
}

func TestSyncDeploysTheReviewedRevisionEvenAfterHeadMoves(t *testing.T) {
	t.Setenv("USER", "ann")
	sb, cfg := sandboxConfig(t)
	reviewed := sb.Head()
	if _, err := sb.CICommit(); err != nil { // CI pushes a newer commit after the review
		t.Fatal(err)
	}
	out, errOut, code := stagedeck(t, "sync", "--config", cfg, "tst", "web", "--revision", reviewed[:7], "--reason", "JIRA-7", "--yes", "--wait")
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	// CI's commit touched itg only: nothing newer on tst/web, so no note.
	if strings.Contains(errOut, "will not be deployed") {
		t.Errorf("a note about newer commits that do not touch tst/web: %q", errOut)
	}
	calls := syncCalls(sb)
	if len(calls) != 1 || calls[0].App != "tst-web" || calls[0].Revision != reviewed || calls[0].Prune || calls[0].DryRun {
		t.Fatalf("sync calls = %+v, want one for tst-web pinned to %s", calls, reviewed)
	}
	if calls[0].Infos["Reason"] != "JIRA-7" || calls[0].Infos["Operator"] == "" {
		t.Errorf("sync infos = %v", calls[0].Infos)
	}
	if !strings.Contains(out, "tst-web: Succeeded") {
		t.Errorf("no progress output:\n%s", out)
	}
	json, _, _ := stagedeck(t, "status", "--config", cfg, "-o", "json")
	if !strings.Contains(json, `"name": "tst-web"`) || !strings.Contains(json, `"deployedRevision": "`+reviewed+`"`) {
		t.Errorf("status does not show tst-web deployed at the reviewed %s", reviewed[:7])
	}
}

func TestSyncRefusalsSendNothing(t *testing.T) {
	sb, cfg := sandboxConfig(t)
	head := sb.Head()
	sb.Argo.CloseSyncWindow("perf-web")
	sb.Argo.DenySync("tst", "tst-api")
	// 1: refused by a check (nothing sent); 2: bad input or configuration.
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"protected without --confirm", []string{"prod", "--revision", head, "--yes"}, exitRefused, "add --confirm prod"},
		{"protected, wrong --confirm", []string{"prod", "--revision", head, "--yes", "--confirm", "tst"}, exitRefused, "add --confirm prod"},
		{"sync window", []string{"perf", "--revision", head, "--yes"}, exitRefused, "perf-web: sync window closed"},
		{"rbac", []string{"tst", "api", "--revision", head, "--yes"}, exitRefused, "may not sync tst/tst-api"},
		{"no revision", []string{"tst", "--yes"}, exitUsage, "pass --revision"},
		{"unknown revision", []string{"tst", "--revision", "0123abc", "--yes"}, exitUsage, "not in the ops repository"},
		{"read-only", []string{"tst", "web", "--revision", head, "--yes", "--read-only"}, exitUsage, "read-only mode"},
		{"no confirmation", []string{"tst", "web", "--revision", head}, exitUsage, "add --yes"},
		{"unknown app", []string{"tst", "nope", "--revision", head, "--yes"}, exitUsage, `no app "nope"`},
	}
	for _, tc := range cases {
		_, errOut, code := stagedeck(t, append([]string{"sync", "--config", cfg}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%s: exit %d %q, want %d and %q", tc.name, code, errOut, tc.code, tc.msg)
		}
	}
	if calls := syncCalls(sb); len(calls) != 0 {
		t.Errorf("refused syncs reached Argo CD: %+v", calls)
	}
}

func TestSyncFailedOrDegradedExitsOne(t *testing.T) {
	sb, cfg := sandboxConfig(t)
	sb.Argo.FailNextSync("tst-worker", "one or more objects failed to apply")
	out, _, code := stagedeck(t, "sync", "--config", cfg, "tst", "worker", "--revision", sb.Head(), "--yes", "--wait")
	if code != exitPending || !strings.Contains(out, "tst-worker: Failed: one or more objects failed to apply") {
		t.Errorf("failed sync: exit %d\n%s", code, out)
	}
}

// TestSyncNotesNewerCommitsOnTheAppsPaths: a commit to tst/web after the
// reviewed one is named; the sync still deploys the reviewed revision.
func TestSyncNotesNewerCommitsOnTheAppsPaths(t *testing.T) {
	sb, cfg := sandboxConfig(t)
	reviewed := sb.Head()
	work := t.TempDir()
	gitCLI(t, work, "clone", "-q", sb.Remote, "ops")
	ops := filepath.Join(work, "ops")
	if err := os.WriteFile(filepath.Join(ops, "tst", "web", "values.yaml"), []byte("changed: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCLI(t, ops, "commit", "-qam", "tst: web hotfix")
	gitCLI(t, ops, "push", "-q", "origin", "HEAD:main")
	_, errOut, code := stagedeck(t, "sync", "--config", cfg, "tst", "web", "--revision", reviewed, "--yes")
	if code != exitOK || !strings.Contains(errOut, "1 newer commit(s) on these apps' paths will not be deployed") || !strings.Contains(errOut, "tst: web hotfix") {
		t.Errorf("exit %d, note: %q", code, errOut)
	}
	if calls := syncCalls(sb); len(calls) != 1 || calls[0].Revision != reviewed {
		t.Errorf("sync calls %+v", calls)
	}
}

// TestTerminateCLI: only apps with an operation running get a terminate;
// a protected stage needs --confirm; nothing running exits 1 sending nothing.
func TestTerminateCLI(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Ann Owner <ann@example.com>")
	sb, cfg := sandboxConfig(t)
	sb.Argo.SetSyncDuration(time.Minute)
	terminates := func() []string {
		var out []string
		for _, c := range sb.Argo.Calls() {
			if c.Method == "TerminateOperation" {
				out = append(out, c.App)
			}
		}
		return out
	}
	if _, errOut, code := stagedeck(t, "terminate", "--config", cfg, "tst"); code != exitRefused || !strings.Contains(errOut, "nothing was sent") || len(terminates()) != 0 {
		t.Fatalf("nothing running: exit %d %q, sent %v", code, errOut, terminates())
	}
	if _, errOut, code := stagedeck(t, "sync", "--config", cfg, "tst", "web", "--revision", sb.Head(), "--yes"); code != exitOK {
		t.Fatalf("sync: %d %s", code, errOut)
	}
	waitRunning(t, cfg) // Argo CD refuses to terminate an operation only requested
	out, errOut, code := stagedeck(t, "terminate", "--config", cfg, "tst")
	if code != exitOK || !strings.Contains(out, "tst-web: terminate sent") || !strings.Contains(out, "tst-web: Failed: Operation terminated") {
		t.Fatalf("terminate: exit %d\n%s%s", code, out, errOut)
	}
	if got := terminates(); len(got) != 1 || got[0] != "tst-web" {
		t.Errorf("terminates sent %v, want tst-web only", got)
	}
	if _, errOut, code := stagedeck(t, "terminate", "--config", cfg, "prod"); code != exitRefused || !strings.Contains(errOut, "--confirm prod") {
		t.Errorf("protected without --confirm: exit %d %q", code, errOut)
	}
}

// TestSyncOfAnAutoSyncStage: Argo CD refuses to pin an app with auto-sync,
// so stagedeck refuses before anything is sent; a dry run goes through,
// and a rollback's --sync leaves such apps to auto-sync, saying so.
func TestSyncOfAnAutoSyncStage(t *testing.T) {
	sb, cfg := sandboxConfig(t)
	commit, err := sb.CICommit() // an itg commit, auto-synced
	if err != nil {
		t.Fatal(err)
	}
	_, errOut, code := stagedeck(t, "sync", "--config", cfg, "itg", "--revision", commit, "--yes")
	if code != exitRefused || !strings.Contains(errOut, "refused before sending: itg-") || !strings.Contains(errOut, "auto-sync follows main") {
		t.Errorf("pinned sync of itg: exit %d %q, want refused naming auto-sync", code, errOut)
	}
	if calls := syncCalls(sb); len(calls) != 0 {
		t.Fatalf("a refused sync reached Argo CD: %+v", calls)
	}
	out, errOut, code := stagedeck(t, "sync", "--config", cfg, "itg", "--revision", commit, "--yes", "--dry-run", "--wait", "--timeout", "30s")
	if code != exitOK {
		t.Fatalf("dry run of itg: exit %d\n%s%s", code, out, errOut)
	}
	for _, c := range syncCalls(sb) {
		if !c.DryRun || c.Revision != commit {
			t.Errorf("dry run sent %+v", c)
		}
	}
	if len(syncCalls(sb)) == 0 {
		t.Error("the dry run sent nothing")
	}
	out, errOut, code = stagedeck(t, "rollback", "--config", cfg, "itg", "--revert", commit, "--reason", "bad", "--yes", "--sync")
	if code != exitOK || !strings.Contains(errOut, "has auto-sync: Argo CD deploys the rollback on its own") ||
		!strings.Contains(out, "nothing to sync by hand") || strings.Contains(out, "no app deploys") {
		t.Fatalf("rollback --sync of itg: exit %d\n%s%s", code, out, errOut)
	}
	for _, c := range syncCalls(sb) {
		if !c.DryRun {
			t.Errorf("the rollback pinned an auto-sync app: %+v", c)
		}
	}
}

// TestSyncOfAnAppWithSeveralSourcesAsksForEveryStageItDeploys: an app of
// perf whose second source is prod's directory deploys into prod, so the
// sync needs --confirm prod, and sends nothing without it.
func TestSyncOfAnAppWithSeveralSourcesAsksForEveryStageItDeploys(t *testing.T) {
	sb, cfg := sandboxConfig(t)
	head := sb.Head()
	sb.Argo.AddApp(argotest.AppSpec{Name: "perf-bundle", Project: "perf", RepoURL: sb.Remote, Path: "perf/api", Deployed: head,
		More: []argotest.MoreSource{{RepoURL: sb.Remote, Path: "prod/api", TargetRevision: "main"}}})
	_, errOut, code := stagedeck(t, "sync", "--config", cfg, "perf", "perf-bundle", "--revision", head, "--yes")
	if code != exitRefused || !strings.Contains(errOut, "add --confirm prod") {
		t.Errorf("sync of an app deploying into prod without --confirm prod: exit %d %q", code, errOut)
	}
	if calls := syncCalls(sb); len(calls) != 0 {
		t.Fatalf("a refused sync reached Argo CD: %+v", calls)
	}
	out, errOut, code := stagedeck(t, "sync", "--config", cfg, "perf", "perf-bundle", "--revision", head, "--yes", "--confirm", "prod")
	if code != exitOK || !strings.Contains(errOut, "stages changed: perf, prod") {
		t.Fatalf("confirmed: exit %d\n%s%s", code, out, errOut)
	}
	if calls := syncCalls(sb); len(calls) != 1 || len(calls[0].SourcePositions) != 2 {
		t.Errorf("sync calls %+v, want one pinning both sources", calls)
	}
}

// TestStageSyncIsCheckedWholeBeforeAnythingIsSent: one app of the stage
// with an operation running refuses the stage; none of it is sent.
func TestStageSyncIsCheckedWholeBeforeAnythingIsSent(t *testing.T) {
	sb, cfg := sandboxConfig(t)
	head := sb.Head()
	sb.Argo.HoldSyncs("tst-worker", true)
	if _, errOut, code := stagedeck(t, "sync", "--config", cfg, "tst", "worker", "--revision", head, "--yes"); code != exitOK {
		t.Fatalf("first sync of tst-worker: exit %d %s", code, errOut)
	}
	before := len(syncCalls(sb))
	_, errOut, code := stagedeck(t, "sync", "--config", cfg, "tst", "--revision", head, "--yes")
	if code == exitOK || !strings.Contains(errOut, "tst-worker") || !strings.Contains(errOut, "nothing was sent") || strings.Contains(errOut, "already sent") {
		t.Errorf("stage sync with tst-worker busy: exit %d %q", code, errOut)
	}
	if n := len(syncCalls(sb)); n != before {
		t.Errorf("%d sync(s) sent for a stage that was refused", n-before)
	}
}

// TestRefSourceCountsAsEveryStage: an app whose second source is the ops
// repository without a path (a ref source: its values files may be any
// stage's) may deploy prod's files: it needs --confirm prod too.
func TestRefSourceCountsAsEveryStage(t *testing.T) {
	sb, cfg := sandboxConfig(t)
	head := sb.Head()
	sb.Argo.AddApp(argotest.AppSpec{Name: "tst-chart", Project: "tst", RepoURL: sb.Remote, Path: "tst/api", Deployed: head,
		More: []argotest.MoreSource{{RepoURL: sb.Remote, TargetRevision: "main"}}})
	_, errOut, code := stagedeck(t, "sync", "--config", cfg, "tst", "tst-chart", "--revision", head, "--yes")
	if code != exitRefused || !strings.Contains(errOut, "add --confirm prod") {
		t.Errorf("sync of an app with a ref source: exit %d %q", code, errOut)
	}
	if calls := syncCalls(sb); len(calls) != 0 {
		t.Fatalf("a refused sync reached Argo CD: %+v", calls)
	}
}

// TestPendingCoversEverySourceOfAnApp: a commit on one of an app's other
// sources is pending for it, so status counts it and a sync's preview would list
// it (and a rollback's --sync names it).
func TestPendingCoversEverySourceOfAnApp(t *testing.T) {
	sb, cfg := sandboxConfig(t)
	deployed := sb.Head()
	var more []argotest.MoreSource
	for _, app := range demo.Apps { // its other sources: itg's directories
		more = append(more, argotest.MoreSource{RepoURL: sb.Remote, Path: "itg/" + app, TargetRevision: "main"})
	}
	sb.Argo.AddApp(argotest.AppSpec{Name: "tst-bundle", Project: "tst", RepoURL: sb.Remote, Path: "tst/api", Deployed: deployed, More: more})
	newer, err := sb.CICommit() // a commit to one of itg's directories only
	if err != nil {
		t.Fatal(err)
	}
	a, ok := statusApps(t, cfg)["tst-bundle"]
	if !ok {
		t.Fatal("tst-bundle not on the board")
	}
	if len(a.Pending) != 1 || !a.pending(newer) {
		t.Errorf("tst-bundle pending %+v, want the commit on its second source %s", a.Pending, newer[:7])
	}
}

// TestHelmValueFilesAreTheAppsPaths: Argo CD renders an app with the
// value files its sources name, through a ref source ("$values/…") or
// relative to the source's path. A chart whose values come from tst and
// prod is placed by its first values file, and needs --confirm prod; an
// app of tst reading ../../prod/api/values.yaml too, and a change to that
// file is pending for it.
func TestHelmValueFilesAreTheAppsPaths(t *testing.T) {
	sb, cfg := sandboxConfig(t)
	head := sb.Head()
	sb.Argo.AddApp(argotest.AppSpec{Name: "tst-chart", Project: "tst", RepoURL: sb.Remote, Ref: "values", Deployed: head,
		More: []argotest.MoreSource{{RepoURL: "https://charts.example.com", Chart: "web", TargetRevision: "1.2.3", Before: true,
			ValueFiles: []string{"$values/tst/web/values.yaml", "$values/prod/web/values.yaml", "$other/prod/api/values.yaml"}}}})
	sb.Argo.AddApp(argotest.AppSpec{Name: "tst-reader", Project: "tst", RepoURL: sb.Remote, Path: "tst/api", Deployed: head,
		ValueFiles: []string{"values.yaml", "../../prod/api/values.yaml", "https://example.com/v.yaml", "../../../../etc/passwd"}})
	got := map[string]string{}
	for name, a := range statusApps(t, cfg) {
		got[name] = a.Stage + " " + a.Path + " " + strings.Join(a.MorePaths, ",")
	}
	if want := "tst tst/web/values.yaml prod/web/values.yaml"; got["tst-chart"] != want {
		t.Errorf("tst-chart: %q; want %q (placed by its first values file, reading prod's; the unknown ref ignored)", got["tst-chart"], want)
	}
	if want := "tst tst/api tst/api/values.yaml,prod/api/values.yaml"; got["tst-reader"] != want {
		t.Errorf("tst-reader: %q; want %q", got["tst-reader"], want)
	}
	for _, app := range []string{"tst-chart", "tst-reader"} {
		_, errOut, code := stagedeck(t, "sync", "--config", cfg, "tst", app, "--revision", head, "--yes")
		if code != exitRefused || !strings.Contains(errOut, "add --confirm prod") {
			t.Errorf("sync of %s, which reads prod's values: exit %d %q", app, code, errOut)
		}
	}
	if calls := syncCalls(sb); len(calls) != 0 {
		t.Fatalf("a refused sync reached Argo CD: %+v", calls)
	}
	_, errOut, code := stagedeck(t, "sync", "--config", cfg, "tst", "tst-chart", "--revision", head, "--yes", "--confirm", "prod")
	if code != exitOK {
		t.Fatalf("confirmed: exit %d %s", code, errOut)
	}
	// The values come from the ref source: it is pinned (position 2), the chart is not.
	if calls := syncCalls(sb); len(calls) != 1 || len(calls[0].SourcePositions) != 1 || calls[0].SourcePositions[0] != 2 {
		t.Errorf("sync calls %+v; want the ref source pinned by position", calls)
	}
}

// statusApp is an app as `status -o json` shows it, with its stage.
type statusApp struct {
	Stage       string
	Path        string   `json:"path"`
	MorePaths   []string `json:"morePaths"`
	LinkedPaths []string `json:"linkedPaths"`
	Pending     []struct {
		SHA string `json:"sha"`
	} `json:"pending"`
}

// pending reports whether sha is among the app's pending commits.
func (a statusApp) pending(sha string) bool {
	for _, c := range a.Pending {
		if c.SHA == sha {
			return true
		}
	}
	return false
}

// statusApps runs `status -o json` and returns its apps by name.
func statusApps(t *testing.T, cfg string) map[string]statusApp {
	t.Helper()
	out, _, _ := stagedeck(t, "status", "--config", cfg, "-o", "json")
	var b struct {
		Stages []struct {
			Name string `json:"name"`
			Apps []struct {
				Name string `json:"name"`
				statusApp
			} `json:"apps"`
		} `json:"stages"`
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	apps := map[string]statusApp{}
	for _, st := range b.Stages {
		for _, a := range st.Apps {
			a.statusApp.Stage = st.Name
			apps[a.Name] = a.statusApp
		}
	}
	return apps
}

// waitRunning waits (up to 5 s) until status shows an operation the
// controller has taken.
func waitRunning(t *testing.T, cfg string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		out, _, _ := stagedeck(t, "status", "--config", cfg, "-o", "json", "--no-fetch")
		if strings.Contains(out, `"operationPhase": "Running"`) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/gitstate"
)

// nestedBoard: stage ops owns prod/ and is itself protected; stage
// prodapi owns prod/api, protected; ops-bundle deploys all of prod/.
func nestedBoard() *board.Board {
	b := fixtureBoard()
	ops := board.Stage{Name: "ops", Path: "prod", Protected: true, Head: b.Stages[2].Head,
		Apps: []board.App{{Name: "ops-bundle", Project: "prod", Path: "prod", SyncStatus: "OutOfSync", HealthStatus: "Healthy"}}}
	prodapi := b.Stages[2]
	prodapi.Name, prodapi.Path = "prodapi", "prod/api"
	b.Stages = []board.Stage{ops, prodapi}
	return b
}

func typeText(t *testing.T, m Model, s string) Model {
	for _, r := range s {
		m = press(t, m, string(r))
	}
	return m
}

func TestSyncOfAParentAsksForEveryProtectedStageItDeploys(t *testing.T) {
	fs := &fakeSyncer{}
	m := newModel(nestedBoard(), 120, 40)
	m.opts.Syncer, m.opts.Operator = fs, "Ann Owner <ann@example.com>"
	mm, cmd := m.Update(keyMsg("s")) // the ops stage row
	m = drain(t, mm.(Model), func() any { return cmd() })
	if m.current() != screenSync {
		t.Fatalf("no sync preview: %v", m.current())
	}
	view := screenText(m)
	for _, want := range []string{"Changes   ops (protected), prodapi (protected)", "As        Ann Owner <ann@example.com>", "ops, prodapi: you will type each name"} {
		if !strings.Contains(view, want) {
			t.Errorf("preview lacks %q:\n%s", want, view)
		}
	}
	m = press(t, m, "y")
	m = typeText(t, m, "ops")
	m = press(t, m, "enter")
	if len(fs.sent) != 0 || m.syncS().phase != syncConfirm || m.syncS().confirm.stage() != "prodapi" {
		t.Fatalf("one name sent the sync or did not ask for the next: sent %d, phase %v, asking %q", len(fs.sent), m.syncS().phase, m.syncS().confirm.stage())
	}
	m = typeText(t, m, "ops") // the wrong name for the second
	m = press(t, m, "enter")
	if len(fs.sent) != 0 || !strings.Contains(m.syncS().notice, "type prodapi exactly") {
		t.Fatalf("a wrong second name: sent %d, notice %q", len(fs.sent), m.syncS().notice)
	}
	for range 3 {
		m = press(t, m, "backspace")
	}
	m = typeText(t, m, "prodapi")
	mm, cmd = m.Update(keyMsg("enter"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	if len(fs.sent) != 1 || fs.sent[0].App != "ops-bundle" || fs.sent[0].Operator != "Ann Owner <ann@example.com>" {
		t.Fatalf("sent = %+v", fs.sent)
	}
}

func TestRollbackConfirmationFollowsTheFilesItChanges(t *testing.T) {
	fr := &fakeRollback{} // its plan changes prod/api/values.yaml
	b := nestedBoard()
	b.Stages[0].Protected = false
	m := newModel(b, 120, 40)
	m.opts.Rollback, m.opts.Operator = fr, "Ann Owner <ann@example.com>"
	mm, cmd := m.Update(keyMsg("h")) // ops: unprotected itself
	m = drain(t, mm.(Model), func() any { return cmd() })
	m = press(t, m, "v")
	m = typeText(t, m, "INC-1")
	mm, cmd = m.Update(keyMsg("enter"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	if m.rbS().phase != rbPreview {
		t.Fatalf("no preview: %v %v", m.rbS().phase, m.rbS().err)
	}
	view := screenText(m)
	if !strings.Contains(view, "Changes ops, prodapi (protected)") || !strings.Contains(view, "As      Ann Owner <ann@example.com>") {
		t.Errorf("preview does not name the stages and the operator:\n%s", view)
	}
	m = press(t, m, "y")
	if m.rbS().phase != rbConfirm || fr.published != 0 {
		t.Fatalf("a rollback rewriting prodapi went out without its name: %v %d", m.rbS().phase, fr.published)
	}
	m = typeText(t, m, "prodapi")
	mm, cmd = m.Update(keyMsg("enter"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	if fr.published != 1 {
		t.Fatalf("published %d after the confirmation", fr.published)
	}
}

func TestNoIdentityRefusesEveryAction(t *testing.T) {
	fs, fr := &fakeSyncer{}, &fakeRollback{}
	m := newModel(fixtureBoard(), 120, 40)
	m.opts.Syncer, m.opts.Rollback, m.opts.OperatorErr = fs, fr, errors.New("no identity to act as: set STAGEDECK_OPERATOR")
	m = press(t, m, "s")
	if m.current() == screenSync || m.err == nil || !strings.Contains(m.err.Error(), "no identity") {
		t.Fatalf("sync opened without an identity: %v %v", m.current(), m.err)
	}
	m.err = nil
	mm, cmd := m.Update(keyMsg("h"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	m = press(t, m, "v")
	m = typeText(t, m, "INC-1")
	m = press(t, m, "enter")
	if len(fr.prepared) != 0 || m.rbS().err == nil {
		t.Fatalf("a rollback was built without an identity: %d %v", len(fr.prepared), m.rbS().err)
	}
}

// TestHostileTextNeverReachesTheTerminal: texts from git and Argo CD with
// escape sequences arrive through the real Cmd path and are drawn inert.
func TestHostileTextNeverReachesTheTerminal(t *testing.T) {
	const evil = "\x1b]0;pwned\x07\x1b[31m\r\u009b2J"
	b := fixtureBoard()
	st := &b.Stages[1]
	st.Head.Subject, st.Head.Author = "Deploy "+evil, "Mallory"+evil
	a := &st.Apps[1]
	a.OperationMessage, a.Conditions, a.Images = "failed: "+evil, []string{"ComparisonError: " + evil}, []string{"img" + evil}
	a.Pending[0].Subject = "pending " + evil
	src := &fakeSource{b: b}
	m := New(Options{Now: func() time.Time { return epoch }, Source: src, Contexts: []string{"corp"}})
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
	m = mm.(Model)
	m = drain(t, m, func() any { return collectCmd(m.ctx, src, m.gen)() })
	for _, keys := range [][]string{nil, {"j", "j", "j", "j", "j", "enter"}} {
		m = press(t, m, keys...)
		raw := m.View().Content
		if strings.Contains(raw, "\x1b]") || strings.Contains(raw, "\x07") || strings.Contains(raw, "\r") || strings.Contains(raw, "\u009b") {
			t.Fatalf("a control sequence from the data reached the frame: %q", raw)
		}
		if plain := ansi.Strip(raw); strings.ContainsRune(plain, 0x1b) {
			t.Fatalf("an escape survived outside our own styling: %q", plain)
		}
	}
	if !strings.Contains(screenText(m), `failed: \x1b]0;pwned\x07`) {
		t.Errorf("the hostile message is not shown escaped:\n%s", screenText(m))
	}
}

// previewProdRevert opens prod's history on b and previews the revert of
// its newest commit, with reason INC-7.
func previewProdRevert(t *testing.T, b *board.Board, fr *fakeRollback, fs *fakeSyncer) Model {
	t.Helper()
	m := newModel(b, 120, 40)
	m.opts.Rollback, m.opts.Syncer, m.opts.Operator = fr, fs, "Ann Owner <ann@example.com>"
	m = press(t, m, "G", "k", "k") // PROD
	mm, cmd := m.Update(keyMsg("h"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	m = press(t, m, "v")
	m = typeText(t, m, "INC-7")
	mm, cmd = m.Update(keyMsg("enter"))
	return drain(t, mm.(Model), func() any { return cmd() })
}

// TestRollbackSyncsOnlyWhatItChanges is the console's 3 a.m. path: the
// revert changes prod/api only; api has a commit never deployed; the preview
// names it and offers to roll back from what is running; after the push, s
// opens a sync of prod-api alone, carrying the rollback's reason.
func TestRollbackSyncsOnlyWhatItChanges(t *testing.T) {
	fr, fs := &fakeRollback{}, &fakeSyncer{}
	b := fixtureBoard()
	api := &b.Stages[2].Apps[0]
	api.Pending = []gitstate.Commit{*commit("eee6666", "Dana Kim", "Rotate api DB password", time.Hour)}
	api.PendingCommits = 1
	m := previewProdRevert(t, b, fr, fs)
	view := screenText(m)
	for _, want := range []string{"Sync to  prod-api only", "also deploys commits never deployed", "prod-api eee6666 Rotate api DB password", "f roll back from what is running"} {
		if !strings.Contains(view, want) {
			t.Errorf("preview lacks %q:\n%s", want, view)
		}
	}
	mm, cmd := m.Update(keyMsg("f"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	if len(fr.prepared) != 2 || len(fr.prepared[1].FromRunning) != 1 || fr.prepared[1].FromRunning[0].Path != "prod/api" {
		t.Fatalf("f did not rebuild from what is running: %+v", fr.prepared)
	}
	if strings.Contains(screenText(m), "also deploys commits") {
		t.Error("the warning stays after rolling back from what is running")
	}
	m = press(t, m, "y")
	m = typeText(t, m, "prod")
	mm, cmd = m.Update(keyMsg("enter"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	if fr.published != 1 {
		t.Fatalf("published %d", fr.published)
	}
	b.Repo.Head = "e0e0e0e000000000000000000000000000000000" // the board saw the push
	mm, _ = m.Update(boardLoadedMsg{gen: m.gen, board: b})
	m = mm.(Model)
	mm, cmd = m.Update(keyMsg("s"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	if m.current() != screenSync || len(m.syncS().apps) != 1 || m.syncS().apps[0].Name != "prod-api" || m.syncS().reason.value() != "rollback: INC-7" {
		t.Fatalf("sync after the rollback: screen %v apps %v reason %q", m.current(), board.AppNames(m.syncS().apps), m.syncS().reason.value())
	}
}

func TestTimelineMergesCommitsAndDeploys(t *testing.T) {
	fr := &fakeRollback{}
	b := fixtureBoard()
	b.Stages[2].Apps[0].History[0].InitiatedBy, b.Stages[2].Apps[0].History[0].Reason = "raj", "JIRA-42"
	m := newModel(b, 80, 24)
	m.opts.Rollback = fr
	m = press(t, m, "G", "k", "k") // PROD
	mm, cmd := m.Update(keyMsg("L"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	out := screenText(m)
	for _, want := range []string{"Timeline of prod", "commit  ddd5555  Dana: prod: new checkout on", "deploy  ddd4444  prod-api deployed by raj: JIRA-42"} {
		if !strings.Contains(out, want) {
			t.Errorf("timeline lacks %q:\n%s", want, out)
		}
	}
	golden(t, "timeline-80x24", out)
	m = press(t, m, "esc")
	if m.current() != screenBoard {
		t.Errorf("esc from the timeline: %v", m.current())
	}
}

func TestReadOnlyOffersNothingItWouldRefuse(t *testing.T) {
	fs, fr := &fakeSyncer{}, &fakeRollback{}
	m := New(Options{Now: func() time.Time { return epoch }, Contexts: []string{"corp"}, ReadOnly: true, Syncer: fs, Rollback: fr})
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	mm, _ = mm.(Model).Update(boardLoadedMsg{gen: 1, board: fixtureBoard()})
	m = mm.(Model)
	if strings.Contains(screenText(m), "s sync") {
		t.Errorf("the footer offers sync in read-only mode:\n%s", screenText(m))
	}
	m = press(t, m, "s")
	if m.current() == screenSync {
		t.Error("s opened a sync preview in read-only mode")
	}
	m = press(t, m, "?")
	if strings.Contains(screenText(m), "s   sync") {
		t.Errorf("help offers sync in read-only mode:\n%s", screenText(m))
	}
	m = press(t, m, "esc", "G", "k", "k")
	mm, cmd := m.Update(keyMsg("h"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	m = press(t, m, "v")
	if m.rbS().phase != rbPick || m.rbS().err == nil || !strings.Contains(screenText(m), "read-only") {
		t.Errorf("v in read-only: phase %v err %v", m.rbS().phase, m.rbS().err)
	}
}

func TestCutOffRowsAreAnnounced(t *testing.T) {
	m := newModel(fixtureBoard(), 60, 10)
	out := screenText(m)
	if !strings.Contains(out, "more below") {
		t.Fatalf("rows cut off silently:\n%s", out)
	}
	m = press(t, m, "G")
	out = screenText(m)
	if !strings.Contains(out, "› ") || !strings.Contains(out, "prod-web") {
		t.Errorf("G does not show the last row:\n%s", out)
	}
}

func TestMatrixDoesNotActOnAHiddenRow(t *testing.T) {
	fs := &fakeSyncer{}
	m := newModel(fixtureBoard(), 120, 40)
	m.opts.Syncer = fs
	m = press(t, m, "tab", "j", "s")
	if m.current() != screenMatrix || m.err == nil || !strings.Contains(screenText(m), "tab back to the board") {
		t.Errorf("s in the matrix: screen %v err %v", m.current(), m.err)
	}
	m = press(t, m, "enter")
	if m.current() != screenMatrix {
		t.Errorf("enter in the matrix opened %v", m.current())
	}
}

func TestHelpShowsTheCurrentViewsKeysFirst(t *testing.T) {
	m := newModel(fixtureBoard(), 80, 24)
	m.opts.Rollback = &fakeRollback{}
	m = press(t, m, "G", "k", "k")
	mm, cmd := m.Update(keyMsg("L"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	m = press(t, m, "?")
	out := screenText(m)
	if m.current() != screenHelp || !strings.Contains(out, "In the timeline view") || !strings.Contains(out, "pgup/pgdn scroll") || !strings.Contains(out, "Everywhere") {
		t.Errorf("help from the timeline:\n%s", out)
	}
	m = press(t, m, "esc")
	if m.current() != screenTimeline {
		t.Errorf("esc from help went to %v, want the timeline", m.current())
	}
}

// TestHistoryMarksWhenAppsRunDifferentCommits: after a rollback synced one
// app, the stage's apps run different commits; each is marked live, and a
// commit pending for another app is not deployed.
func TestHistoryMarksWhenAppsRunDifferentCommits(t *testing.T) {
	b := fixtureBoard()
	prod := &b.Stages[2]
	revert := commit("fff7777", "Ann", "Revert prod: new checkout on", time.Minute)
	pendingA := commit("eee6666", "Dana", "Rotate api DB password", time.Hour)
	prod.Apps[1].DeployedRevision = revert.SHA                                                   // web runs the revert
	prod.Apps[0].Pending, prod.Apps[0].PendingCommits = []gitstate.Commit{*revert, *pendingA}, 2 // api runs ddd4444
	fr := &historyFake{commits: []gitstate.Commit{*revert, *pendingA, *commit("ddd4444", "Raj", "prod: raise api replicas to 6", 26*time.Hour)}}
	m := newModel(b, 120, 40)
	m.opts.Rollback = fr
	m = press(t, m, "G", "k", "k")
	mm, cmd := m.Update(keyMsg("h"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	want := []historyMark{markLive, markNotDeployed, markLive}
	if got := m.rbS().marks(&m); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("marks %v, want %v:\n%s", got, want, screenText(m))
	}
}

// historyFake is a Rollbacker with a given history.
type historyFake struct {
	fakeRollback
	commits []gitstate.Commit
}

func (f *historyFake) History(context.Context, string, int) ([]gitstate.Commit, error) {
	return f.commits, nil
}

// TestOutageKeepsTheLastKnownRows: Argo CD serving prod stops; the next
// refresh keeps prod's rows, marked stale with the reason and the age, while
// the other stages stay live; when it returns, the rows are live again.
func TestOutageKeepsTheLastKnownRows(t *testing.T) {
	m := newModel(fixtureBoard(), 120, 40)
	down := fixtureBoard()
	down.CollectedAt = epoch
	down.Stages[2].Apps, down.Stages[2].ArgoError = nil, "argo cd prod.example.com: unreachable (connection refused)"
	mm, _ := m.Update(boardLoadedMsg{gen: m.gen, board: down})
	m = mm.(Model)
	out := screenText(m)
	if !strings.Contains(out, "prod-api") || !strings.Contains(out, "stale 0s: last known state; Argo CD: argo cd prod.example.com: unreachable") {
		t.Fatalf("prod's rows are gone or not marked stale:\n%s", out)
	}
	if !strings.Contains(out, "tst-web") || strings.Count(out, "stale") != 3 { // the stage line and prod's two apps
		t.Errorf("stale marks:\n%s", out)
	}
	mm, _ = m.Update(boardLoadedMsg{gen: m.gen, board: fixtureBoard()})
	m = mm.(Model)
	if out := screenText(m); strings.Contains(out, "stale") {
		t.Errorf("still stale after Argo CD returned:\n%s", out)
	}
}

// TestRollbackOfAnAutoSyncStageLeavesTheSyncToArgoCD: the apps of ITG
// follow main on their own, and Argo CD refuses to pin them: after the
// push there is nothing to sync by hand, and s opens no sync.
func TestRollbackOfAnAutoSyncStageLeavesTheSyncToArgoCD(t *testing.T) {
	fr, fs := &fakeRollback{file: "itg/web/values.yaml"}, &fakeSyncer{}
	b := fixtureBoard()
	m := newModel(b, 120, 40)
	m.opts.Rollback, m.opts.Syncer, m.opts.Operator = fr, fs, "Ann Owner <ann@example.com>"
	mm, cmd := m.Update(keyMsg("h")) // ITG, the first row
	m = drain(t, mm.(Model), func() any { return cmd() })
	m = press(t, m, "v")
	m = typeText(t, m, "INC-8")
	mm, cmd = m.Update(keyMsg("enter"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	mm, cmd = m.Update(keyMsg("y"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	if fr.published != 1 {
		t.Fatalf("published %d:\n%s", fr.published, screenText(m))
	}
	b.Repo.Head = "e0e0e0e000000000000000000000000000000000" // the board saw the push
	mm, _ = m.Update(boardLoadedMsg{gen: m.gen, board: b})
	m = mm.(Model)
	view := screenText(m)
	if !strings.Contains(view, "nothing to sync by hand") || strings.Contains(view, "s sync itg-") {
		t.Errorf("after the push the auto-sync apps are offered a sync:\n%s", view)
	}
	m = press(t, m, "s")
	if m.current() == screenSync || len(fs.sent) != 0 {
		t.Errorf("s opened a sync of auto-sync apps: screen %v sent %+v", m.current(), fs.sent)
	}
}

// TestRollingBackFromWhatRunsNeedsSomethingRunning: an app the rollback
// changes never deployed, so f (roll back from what runs) is not offered
// and, pressed, rebuilds nothing: it says why.
func TestRollingBackFromWhatRunsNeedsSomethingRunning(t *testing.T) {
	fr, fs := &fakeRollback{}, &fakeSyncer{}
	b := fixtureBoard()
	api := &b.Stages[2].Apps[0]
	api.DeployedRevision, api.History, api.Pending, api.PendingCommits = "", nil, nil, 0
	m := previewProdRevert(t, b, fr, fs)
	view := screenText(m)
	if !strings.Contains(view, "prod-api never deployed") || strings.Contains(view, "f roll back from what is running") {
		t.Errorf("preview offers to roll back from what runs for an app never deployed:\n%s", view)
	}
	mm, cmd := m.Update(keyMsg("f"))
	if cmd != nil {
		mm = drain(t, mm.(Model), func() any { return cmd() })
	}
	if len(fr.prepared) != 1 {
		t.Errorf("f rebuilt the rollback from nothing running: %+v", fr.prepared)
	}
	if !strings.Contains(screenText(mm.(Model)), "never deployed") {
		t.Errorf("f does not say why:\n%s", screenText(mm.(Model)))
	}
}

package tui

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/gitstate"
	"github.com/stagedeck/stagedeck/patch"
)

type fakeRollback struct {
	paths     []string
	prepared  []gitstate.Rollback
	published int
	prepErr   error
	file      string // the file the rollback changes (default prod/api/values.yaml)
}

func (f *fakeRollback) History(_ context.Context, path string, _ int) ([]gitstate.Commit, error) {
	f.paths = append(f.paths, path)
	return []gitstate.Commit{
		*commit("ddd5555", "Dana Kim", "prod: new checkout on", time.Hour),
		*commit("ddd4444", "Raj Patel", "prod: raise api replicas to 6", 26*time.Hour),
		*commit("ccc3333", "Raj Patel", "Promote api 2.0.5 to prod", 50*time.Hour),
	}, nil
}

func (f *fakeRollback) PrepareRollback(_ context.Context, rb gitstate.Rollback) (*gitstate.Plan, error) {
	f.prepared = append(f.prepared, rb)
	if f.prepErr != nil {
		return nil, f.prepErr
	}
	file := cmp.Or(f.file, "prod/api/values.yaml")
	return &gitstate.Plan{Parent: plumbing.NewHash("c0ffee1000000000000000000000000000000000"), Commit: plumbing.NewHash("e0e0e0e000000000000000000000000000000000"),
		Message: "Restore prod to ccc3333\n\nbody\n",
		Pairs:   []patch.Pair{{From: &patch.File{Path: file, Content: []byte("replicas: 6\n")}, To: &patch.File{Path: file, Content: []byte("replicas: 4\n")}}}}, nil
}

func (f *fakeRollback) PublishRollback(_ context.Context, p *gitstate.Plan, _ gitstate.Rollback) (gitstate.PublishResult, error) {
	f.published++
	return gitstate.PublishResult{Commit: p.Commit, Attempts: 2, Rebased: true}, nil
}

func TestHistoryRestoreFlow(t *testing.T) {
	fr := &fakeRollback{}
	fs := &fakeSyncer{}
	b := fixtureBoard()
	b.Stages[2].Apps[0].History = append([]board.Deployed{{ID: 2, Revision: "ccc3333" + strings.Repeat("0", 33), DeployedAt: epoch.Add(-48 * time.Hour)}}, b.Stages[2].Apps[0].History...)
	m := newModel(b, 120, 40)
	m.opts.Rollback, m.opts.Syncer, m.opts.Operator = fr, fs, "Ann Owner <ann@example.com>"
	m = press(t, m, "G", "k", "k") // PROD
	mm, cmd := m.Update(keyMsg("h"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	if m.current() != screenHistory || len(fr.paths) != 1 || fr.paths[0] != "prod" {
		t.Fatalf("h did not load prod's history: %v %v", m.current(), fr.paths)
	}
	out := screenText(m)
	if !strings.Contains(out, "ddd4444") || !strings.Contains(out, "● live") || !strings.Contains(out, "◦ deployed") || !strings.Contains(out, "○ not deployed") {
		t.Errorf("history marks:\n%s", out)
	}
	golden(t, "history-120x40", out)
	m = press(t, m, "j", "j", "b")
	if m.rbS().phase != rbReason {
		t.Fatal("R did not ask for a reason")
	}
	m = press(t, m, "enter")
	if len(fr.prepared) != 0 || m.rbS().err == nil {
		t.Error("a rollback without a reason was prepared")
	}
	m = press(t, m, "I", "N", "C")
	mm, cmd = m.Update(keyMsg("enter"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	rb := fr.prepared[0]
	if rb.RestoreTo != "ccc3333"+strings.Repeat("0", 33) || rb.Revert != "" || rb.Reason != "INC" || rb.Path != "prod" || rb.Operator.Email != "ann@example.com" {
		t.Errorf("rollback = %+v", rb)
	}
	out = screenText(m)
	if !strings.Contains(out, "Commit: Restore prod to ccc3333") || !strings.Contains(out, "+replicas: 4") {
		t.Errorf("preview:\n%s", out)
	}
	m = press(t, m, "y") // protected: asks for the name
	if m.rbS().phase != rbConfirm || fr.published != 0 {
		t.Fatal("protected stage pushed without its name")
	}
	m = press(t, m, "p", "r", "o", "d")
	mm, cmd = m.Update(keyMsg("enter"))
	m = mm.(Model)
	if cmd == nil || m.rbS().phase != rbPushing {
		t.Fatal("confirmed push not started")
	}
	// A second enter while pushing sends nothing more.
	m = press(t, m, "enter", "y")
	m = drain(t, m, func() any { return cmd() })
	if fr.published != 1 {
		t.Fatalf("published %d times", fr.published)
	}
	if !strings.Contains(screenText(m), "✓ Pushed e0e0e0e (the remote had moved") {
		t.Errorf("result:\n%s", screenText(m))
	}
	// s waits for the board to see the pushed commit.
	mm, _ = m.Update(keyMsg("s"))
	m = mm.(Model)
	if m.current() != screenHistory || m.rbS().err == nil {
		t.Fatalf("s before the board saw the push: %v %v", m.current(), m.rbS().err)
	}
	b.Repo.Head = "e0e0e0e000000000000000000000000000000000"
	mm, cmd = m.Update(boardLoadedMsg{gen: m.gen, board: b}) // the sync opens by itself
	m = drain(t, mm.(Model), func() any { return cmd() })
	if m.current() != screenSync || m.syncS().revision != "e0e0e0e000000000000000000000000000000000" {
		t.Errorf("s after the push did not open a sync pinned to the rollback commit: %v %q", m.current(), m.syncS().revision)
	}
}

func TestRollbackConflictIsShown(t *testing.T) {
	fr := &fakeRollback{prepErr: errors.New("the revert no longer applies: later commits changed the same lines of prod/api/values.yaml: abc1234 \"hotfix\" (Omar)")}
	m := newModel(fixtureBoard(), 120, 40)
	m.opts.Rollback = fr
	m = press(t, m, "G", "k", "k")
	mm, cmd := m.Update(keyMsg("h"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	m = press(t, m, "v", "x")
	mm, cmd = m.Update(keyMsg("enter"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	if m.rbS().phase != rbPick || !strings.Contains(screenText(m), "abc1234 \"hotfix\"") || fr.published != 0 {
		t.Errorf("conflict not shown or pushed:\n%s", screenText(m))
	}
	if fr.prepared[0].Revert != "ddd4444"+strings.Repeat("0", 33) { // the cursor starts on the live commit
		t.Errorf("v reverted %q", fr.prepared[0].Revert)
	}
}

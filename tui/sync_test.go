package tui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/stagedeck/stagedeck/appstate"
	"github.com/stagedeck/stagedeck/board"
)

// fakeSyncer records what the console sends and replays observations.
type fakeSyncer struct {
	mu         sync.Mutex
	checks     map[string]SyncCheck
	sent       []appstate.SyncRequest
	terminated []string
	obs        []appstate.Observation
}

func (f *fakeSyncer) CheckSync(_ context.Context, _ string, apps []board.App) ([]SyncCheck, error) {
	var out []SyncCheck
	for _, a := range apps {
		c, ok := f.checks[a.Name]
		if !ok {
			c = SyncCheck{App: a.Name, Allowed: true}
		}
		out = append(out, c)
	}
	return out, nil
}

func (f *fakeSyncer) StartSyncs(_ context.Context, _ string, reqs []appstate.SyncRequest) ([]SyncStart, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []SyncStart
	for _, r := range reqs {
		f.sent = append(f.sent, r)
		out = append(out, SyncStart{App: r.App, Revision: r.Revision, Requested: epoch})
	}
	return out, nil
}

func (f *fakeSyncer) FollowSync(context.Context, string, SyncStart) SyncFollower {
	return &replay{obs: f.obs}
}

func (f *fakeSyncer) Terminate(_ context.Context, _, app string) error {
	f.terminated = append(f.terminated, app)
	return nil
}

type replay struct {
	obs []appstate.Observation
	i   int
}

func (r *replay) Next() (appstate.Observation, error) {
	if r.i >= len(r.obs) {
		return appstate.Observation{}, errExhausted
	}
	r.i++
	return r.obs[r.i-1], nil
}
func (r *replay) Close() {}

// errExhausted stands for "still running": drain does not deliver it.
var errExhausted = errors.New("replay exhausted")

// drain runs Cmds until none is left, feeding their messages back in
// (tea.Batch results are expanded); ticks and quits are not followed.
func drain(t *testing.T, m Model, cmd func() any) Model {
	t.Helper()
	queue := []func() any{cmd}
	for n := 0; len(queue) > 0 && n < 200; n++ {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := c()
		switch msg := msg.(type) {
		case tea.BatchMsg:
			for _, bc := range msg {
				if bc != nil {
					queue = append(queue, func() any { return bc() })
				}
			}
			continue
		case syncObsMsg:
			if errors.Is(msg.err, errExhausted) {
				continue
			}
		case tickMsg, nil:
			continue
		}
		mm, next := m.Update(msg)
		m = mm.(Model)
		if next != nil {
			queue = append(queue, func() any { return next() })
		}
	}
	return m
}

func obs(phase, health string, finished bool) appstate.Observation {
	a := appstate.App{Name: "tst-web", Health: health, Operation: appstate.Operation{Phase: phase, Message: phase + " msg", Revision: "c0ffee1"}}
	return appstate.Observation{App: a, Ours: phase != "", Finished: finished}
}

func TestSyncPreviewConfirmAndProgress(t *testing.T) {
	fs := &fakeSyncer{obs: []appstate.Observation{
		{App: appstate.App{Name: "tst-web", Operation: appstate.Operation{Phase: "Succeeded", Revision: "bbb2222"}}}, // the previous op
		obs("Running", "Progressing", false),
		{Reconnecting: true, Err: errors.New("stream closed")},
		obs("Succeeded", "Healthy", true),
	}}
	m := newModel(fixtureBoard(), 120, 40)
	m.opts.Syncer, m.opts.Operator = fs, "Ann Owner"
	m = press(t, m, "j", "j", "j", "j", "j") // tst-web
	mm, cmd := m.Update(keyMsg("s"))
	m = mm.(Model)
	if m.current() != screenSync || m.syncS().revision != "c0ffee1" {
		t.Fatalf("s did not open the preview pinned to the board head: %v %q", m.current(), m.syncS().revision)
	}
	// Confirming before the checks land is refused.
	m = press(t, m, "y")
	if len(fs.sent) != 0 || !strings.Contains(m.syncS().notice, "still checking") {
		t.Fatalf("confirmed before the pre-check: %v", m.syncS().notice)
	}
	m = drain(t, m, func() any { return cmd() })
	golden(t, "sync-preview-120x40", screenText(m))
	// Head moves after the preview: the reviewed revision is still what is sent.
	nb := fixtureBoard()
	nb.Repo.Head = "fffffff"
	mm, _ = m.Update(boardLoadedMsg{gen: m.gen, board: nb})
	m = mm.(Model)
	if !strings.Contains(screenText(m), "Newer commits exist on main (head now fffffff)") {
		t.Error("no notice that head moved")
	}
	m = press(t, m, "p", "m", "J", "-", "1", "enter")
	mm, cmd = m.Update(keyMsg("y"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	if len(fs.sent) != 1 {
		t.Fatalf("sent %d sync requests, want 1", len(fs.sent))
	}
	r := fs.sent[0]
	if r.App != "tst-web" || r.Revision != "c0ffee1" || !r.Prune || r.DryRun || r.Reason != "J-1" || r.Operator != "Ann Owner" || r.Project != "tst" {
		t.Errorf("request = %+v", r)
	}
	if m.syncS().phase != syncDone || !strings.Contains(screenText(m), "✓ Succeeded") {
		t.Errorf("progress did not reach Succeeded:\n%s", screenText(m))
	}
	golden(t, "sync-done-120x40", screenText(m))
}

func TestSyncRefusedByChecksAndProtectedNeedsTheName(t *testing.T) {
	fs := &fakeSyncer{checks: map[string]SyncCheck{"prod-api": {App: "prod-api", Problem: "sync window closed: deny \"0 0 * * *\" for 24h"}}}
	m := newModel(fixtureBoard(), 120, 40)
	m.opts.Syncer = fs
	m = press(t, m, "G", "k", "k") // PROD stage row
	mm, cmd := m.Update(keyMsg("s"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	if !strings.Contains(screenText(m), "✗ sync window closed") {
		t.Errorf("the closed window is not shown in the preview:\n%s", screenText(m))
	}
	m = press(t, m, "y")
	if len(fs.sent) != 0 || !strings.Contains(m.syncS().notice, "prod-api: sync window closed") {
		t.Errorf("a refused sync was sent or not explained: %q", m.syncS().notice)
	}
	// Only prod-web: allowed, but protected.
	m = press(t, m, "esc", "j", "j")
	mm, cmd = m.Update(keyMsg("s"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	m = press(t, m, "y")
	if m.syncS().phase != syncConfirm || len(fs.sent) != 0 {
		t.Fatalf("protected stage did not ask for its name: phase %v", m.syncS().phase)
	}
	m = press(t, m, "p", "r", "o", "enter")
	if len(fs.sent) != 0 || !strings.Contains(m.syncS().notice, "type prod exactly") {
		t.Errorf("a wrong name confirmed the sync: %q", m.syncS().notice)
	}
	m = press(t, m, "d")
	mm, cmd = m.Update(keyMsg("enter"))
	drain(t, mm.(Model), func() any { return cmd() })
	if len(fs.sent) != 1 || fs.sent[0].App != "prod-web" {
		t.Errorf("sent = %+v", fs.sent)
	}
}

func TestSyncTerminateAsksFirst(t *testing.T) {
	fs := &fakeSyncer{obs: []appstate.Observation{obs("Running", "Progressing", false)}}
	m := newModel(fixtureBoard(), 120, 40)
	m.opts.Syncer = fs
	m = press(t, m, "j", "j", "j", "j", "j")
	mm, cmd := m.Update(keyMsg("s"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	mm, cmd = m.Update(keyMsg("y"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	m = press(t, m, "t")
	if !m.syncS().askTerm || len(fs.terminated) != 0 {
		t.Fatal("t terminated without asking")
	}
	mm, cmd = m.Update(keyMsg("y"))
	drain(t, mm.(Model), func() any { return cmd() })
	if len(fs.terminated) != 1 || fs.terminated[0] != "tst-web" {
		t.Errorf("terminated = %v", fs.terminated)
	}
}

// closedFollower records that it was closed.
type closedFollower struct{ closed *int }

func (f closedFollower) Next() (appstate.Observation, error) { return appstate.Observation{}, nil }
func (f closedFollower) Close()                              { *f.closed++ }

// Leaving the sync screen while apps are being sent: the followers that
// arrive after are closed, not left running for ten minutes.
func TestFollowersOfAClosedSyncAreClosed(t *testing.T) {
	m := newModel(fixtureBoard(), 120, 40)
	closed := 0
	mm, _ := m.Update(syncStartedMsg{gen: 99, starts: []SyncStart{{App: "tst-web"}}, followers: []SyncFollower{closedFollower{&closed}}})
	mm, _ = mm.(Model).Update(syncObsMsg{gen: 99, app: "tst-web", f: closedFollower{&closed}})
	if closed != 2 {
		t.Errorf("%d of 2 followers closed", closed)
	}
	_ = mm
}

// TestSyncOfAutoSyncAppsIsBlockedButADryRunIsNot: Argo CD refuses to pin
// an app with auto-sync, so the preview says so and nothing is sent; a
// dry run may be pinned.
func TestSyncOfAutoSyncAppsIsBlockedButADryRunIsNot(t *testing.T) {
	fs := &fakeSyncer{}
	b := fixtureBoard()
	b.Stages[0].Apps[1].TargetRevision = "main\x1b[31m"
	m := newModel(b, 160, 40)
	m.opts.Syncer = fs
	mm, cmd := m.Update(keyMsg("s")) // the ITG stage row: both apps auto-sync
	m = drain(t, mm.(Model), func() any { return cmd() })
	screen := screenText(m)
	if !strings.Contains(screen, "✗ auto-sync follows HEAD") || !strings.Contains(screen, `✗ auto-sync follows main\x1b[31m`) {
		t.Errorf("the preview does not say Argo CD refuses to pin auto-sync apps (target cleaned):\n%s", screen)
	}
	m = press(t, m, "y")
	if len(fs.sent) != 0 || !strings.Contains(m.syncS().notice, "itg-api: auto-sync follows HEAD") {
		t.Fatalf("a pinned sync of auto-sync apps was sent or not explained: %q %+v", m.syncS().notice, fs.sent)
	}
	m = press(t, m, "D")
	if strings.Contains(screenText(m), "✗ auto-sync") {
		t.Errorf("a dry run is still refused:\n%s", screenText(m))
	}
	mm, cmd = m.Update(keyMsg("y"))
	drain(t, mm.(Model), func() any { return cmd() })
	if len(fs.sent) != 2 || !fs.sent[0].DryRun || !fs.sent[1].DryRun {
		t.Errorf("dry run sent %+v, want both itg apps as dry runs", fs.sent)
	}
}

// TestSyncOfAStageWithAnOperationRunningIsBlocked: Argo CD would refuse
// that app after the others were sent; the preview refuses the stage.
func TestSyncOfAStageWithAnOperationRunningIsBlocked(t *testing.T) {
	fs := &fakeSyncer{}
	b := fixtureBoard()
	b.Stages[1].Apps[0].OperationRunning = true // tst-api
	m := newModel(b, 120, 40)
	m.opts.Syncer = fs
	m = press(t, m, "j", "j", "j") // the TST stage row
	mm, cmd := m.Update(keyMsg("s"))
	m = drain(t, mm.(Model), func() any { return cmd() })
	m = press(t, m, "y")
	if len(fs.sent) != 0 || !strings.Contains(m.syncS().notice, "tst-api: an operation is running") {
		t.Errorf("sent %+v, notice %q", fs.sent, m.syncS().notice)
	}
}

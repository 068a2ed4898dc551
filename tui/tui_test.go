package tui

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/gitstate"
)

var update = flag.Bool("update", false, "rewrite golden files")

var epoch = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func commit(sha, author, subject string, ago time.Duration) *gitstate.Commit {
	return &gitstate.Commit{SHA: sha + strings.Repeat("0", 40-len(sha)), Author: author, Date: epoch.Add(-ago), Subject: subject}
}

// fixtureBoard is a small realistic board: ITG synced, TST behind, PROD
// protected and degraded.
func fixtureBoard() *board.Board {
	app := func(stage, name, deployed string, sync, health string, auto bool, pending ...*gitstate.Commit) board.App {
		a := board.App{Name: stage + "-" + name, Project: stage, Path: stage + "/" + name, SyncStatus: sync, HealthStatus: health,
			DeployedRevision: deployed + strings.Repeat("0", 40-len(deployed)), AutoSync: auto, OperationPhase: "Succeeded",
			Images: []string{"registry.example.com/shop/" + name + ":1.4.2"}, ResourceVersion: "10"}
		for _, c := range pending {
			a.Pending = append(a.Pending, *c)
		}
		a.PendingCommits = len(a.Pending)
		a.Head = commit(deployed, "Dana Kim", "Bump "+name, 5*time.Hour)
		if len(pending) > 0 {
			a.Head = pending[0]
		}
		a.History = []board.Deployed{{ID: 3, Revision: a.DeployedRevision, DeployedAt: epoch.Add(-2 * time.Hour)}}
		return a
	}
	bump := commit("c0ffee1", "Omar Haddad", "Promote web 1.4.3 to tst", 25*time.Minute)
	return &board.Board{
		Repo: board.RepoInfo{URL: "git@github.com:acme/ops.git", Branch: "main", Head: "c0ffee1", LastFetch: epoch.Add(-12 * time.Second)},
		Stages: []board.Stage{
			{Name: "itg", Path: "itg", Head: commit("aaa1111", "ci-bot", "ci: deploy web 1.4.3 to itg", 40*time.Minute),
				Apps: []board.App{app("itg", "api", "aaa1111", "Synced", "Healthy", true), app("itg", "web", "aaa1111", "Synced", "Healthy", true)}},
			{Name: "tst", Path: "tst", Head: bump,
				Apps: []board.App{app("tst", "api", "bbb2222", "Synced", "Healthy", false), app("tst", "web", "bbb2222", "OutOfSync", "Healthy", false, bump)}},
			{Name: "prod", Path: "prod", Protected: true, Head: commit("ddd4444", "Raj Patel", "prod: raise api replicas to 6", 26*time.Hour),
				Apps: []board.App{app("prod", "api", "ddd4444", "Synced", "Degraded", false), app("prod", "web", "ddd4444", "Synced", "Healthy", false)}},
		},
		Errors: []board.Error{},
	}
}

// fakeSource returns the same board on every collect and counts calls.
type fakeSource struct {
	b     *board.Board
	err   error
	calls int
}

func (f *fakeSource) Collect(context.Context) (*board.Board, error) {
	f.calls++
	return f.b, f.err
}

func newModel(b *board.Board, w, h int) Model {
	m := New(Options{Now: func() time.Time { return epoch }, Contexts: []string{"corp"}, Source: &fakeSource{b: b}})
	mm, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m = mm.(Model)
	if b != nil {
		mm, _ = m.Update(boardLoadedMsg{gen: m.gen, board: b})
		m = mm.(Model)
	}
	m.watch = watchLive
	return m
}

func press(t testing.TB, m Model, keys ...string) Model {
	for _, k := range keys {
		mm, _ := m.Update(keyMsg(k))
		m = mm.(Model)
	}
	return m
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

func screenText(m Model) string { return ansi.Strip(m.View().Content) }

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s: view differs from golden (go test ./tui -update to accept)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestViewsGolden(t *testing.T) {
	errBoard := fixtureBoard()
	errBoard.Stages[2].Apps = nil
	errBoard.Stages[2].ArgoError = "argo cd prod.example.com:443: list applications: argo cd unreachable (connection refused)"
	errBoard.Errors = []board.Error{{Source: "argocd:prod", Message: errBoard.Stages[2].ArgoError}}
	views := []struct {
		name  string
		board *board.Board
		keys  []string
	}{
		{"board", fixtureBoard(), nil},
		{"matrix", fixtureBoard(), []string{"tab"}},
		{"detail", fixtureBoard(), []string{"j", "j", "j", "j", "j", "enter"}},
		{"detail-stage", fixtureBoard(), []string{"j", "j", "j", "enter"}},
		{"help", fixtureBoard(), []string{"?"}},
		{"filter", fixtureBoard(), []string{"/", "o", "m", "a", "r"}},
		{"error", errBoard, nil},
		{"loading", nil, nil},
	}
	for _, size := range [][2]int{{60, 20}, {80, 24}, {120, 40}} {
		for _, v := range views {
			t.Run(fmt.Sprintf("%s-%dx%d", v.name, size[0], size[1]), func(t *testing.T) {
				m := press(t, newModel(v.board, size[0], size[1]), v.keys...)
				got := screenText(m)
				lines := strings.Split(got, "\n")
				if len(lines) != size[1] {
					t.Errorf("%d lines, want exactly %d", len(lines), size[1])
				}
				for i, l := range lines {
					if w := ansi.StringWidth(l); w > size[0] {
						t.Errorf("line %d is %d wide: %q", i, w, l)
					}
				}
				golden(t, fmt.Sprintf("%s-%dx%d", v.name, size[0], size[1]), got)
			})
		}
	}
}

func TestTinyAndHugeTerminalsDoNotPanic(t *testing.T) {
	for _, size := range [][2]int{{20, 5}, {1, 1}, {300, 100}, {0, 0}} {
		for _, keys := range [][]string{nil, {"tab"}, {"j", "enter"}, {"?"}, {"/", "x"}} {
			m := press(t, newModel(fixtureBoard(), size[0], size[1]), keys...)
			out := screenText(m)
			if size[1] > 0 && strings.Count(out, "\n")+1 > size[1] {
				t.Errorf("%v %v: taller than the terminal", size, keys)
			}
		}
	}
}

func TestNavigationAndFilter(t *testing.T) {
	m := newModel(fixtureBoard(), 120, 40)
	if len(m.list().rows) != 9 {
		t.Fatalf("rows = %d, want 3 stages + 6 apps", len(m.list().rows))
	}
	m = press(t, m, "G")
	if m.selected() != (rowKey{"prod", "prod-web"}) {
		t.Errorf("G: at %v", m.selected())
	}
	m = press(t, m, "g", "j")
	if m.selected() != (rowKey{"itg", "itg-api"}) {
		t.Errorf("g j: at %v", m.selected())
	}
	m = press(t, m, "k", "k", "k")
	if m.list().cursor != 0 {
		t.Errorf("k past the top: cursor %d", m.list().cursor)
	}
	// Fold ITG into its summary row.
	m = press(t, m, "space")
	if len(m.list().rows) != 7 || !strings.Contains(screenText(m), "▸ ITG") {
		t.Errorf("space did not fold ITG: %d rows", len(m.list().rows))
	}
	m = press(t, m, "space")
	// Filter by author: only TST's web (Omar's pending commit) and its stage remain.
	m = press(t, m, "/", "O", "m", "a", "r", "enter")
	var keys []rowKey
	for _, r := range m.list().rows {
		keys = append(keys, m.keyOf(r))
	}
	if fmt.Sprint(keys) != "[{tst } {tst tst-web}]" {
		t.Errorf("filter Omar: %v", keys)
	}
	m = press(t, m, "esc")
	if m.list().filter.Value() != "" || len(m.list().rows) != 9 {
		t.Errorf("esc did not clear the filter: %q, %d rows", m.list().filter.Value(), len(m.list().rows))
	}
	if m.selected() != (rowKey{"tst", ""}) {
		t.Errorf("clearing the filter lost the selection: %v", m.selected())
	}
	// Detail and back keeps the selection.
	m = press(t, m, "g", "j", "enter")
	if m.current() != screenDetail || !strings.Contains(screenText(m), "itg / itg-api") {
		t.Fatalf("enter did not open the detail")
	}
	m = press(t, m, "esc")
	if m.current() != screenBoard || m.selected() != (rowKey{"itg", "itg-api"}) {
		t.Errorf("esc from detail: screen %v at %v", m.current(), m.selected())
	}
	_, cmd := m.Update(keyMsg("q"))
	if cmd == nil || fmt.Sprint(cmd()) != fmt.Sprint(tea.Quit()) {
		t.Error("q does not quit from the board")
	}
}

func TestWatchEventsApplyInPlaceAndStaleRepliesAreDropped(t *testing.T) {
	m := newModel(fixtureBoard(), 120, 40)
	m = press(t, m, "j", "j", "j", "j", "j") // tst-web
	ev := m.board.Stages[1].Apps[1]
	ev.SyncStatus, ev.HealthStatus, ev.OperationRunning, ev.OperationPhase = "Synced", "Progressing", true, "Running"
	ev.DeployedRevision = "c0ffee1" + strings.Repeat("0", 33)
	ev.ResourceVersion = "11"
	ev.Pending = nil
	cmds := m.applyEvents([]AppEvent{{Stage: "tst", App: ev}})
	got := m.board.Stages[1].Apps[1]
	if got.SyncStatus != "Synced" || !got.OperationRunning {
		t.Errorf("event not applied: %+v", got)
	}
	if got.PendingCommits != 1 {
		t.Error("pending count must survive until the recomputation lands")
	}
	if len(cmds) != 0 {
		t.Error("no PendingReader configured, yet a pending Cmd was issued")
	}
	if m.selected() != (rowKey{"tst", "tst-web"}) {
		t.Errorf("cursor moved to %v", m.selected())
	}
	// An older event for the same app is ignored.
	old := ev
	old.SyncStatus, old.ResourceVersion = "OutOfSync", "9"
	m.applyEvents([]AppEvent{{Stage: "tst", App: old}})
	if m.board.Stages[1].Apps[1].SyncStatus != "Synced" {
		t.Error("an older resource version overwrote a newer one")
	}
	// A pending reply for a revision the app no longer has is dropped.
	mm, _ := m.Update(pendingMsg{stage: "tst", app: "tst-web", deployed: "bbb2222" + strings.Repeat("0", 33), git: board.App{Pending: []gitstate.Commit{{SHA: "x"}, {SHA: "y"}}, PendingCommits: 2}})
	m = mm.(Model)
	if m.board.Stages[1].Apps[1].PendingCommits != 1 {
		t.Error("a stale pending reply was applied")
	}
	mm, _ = m.Update(pendingMsg{stage: "tst", app: "tst-web", deployed: ev.DeployedRevision})
	m = mm.(Model)
	if m.board.Stages[1].Apps[1].PendingCommits != 0 {
		t.Error("the current pending reply was not applied")
	}
	// A board from an older refresh generation is dropped.
	nb := fixtureBoard()
	nb.Stages[0].Name = "stale"
	mm, _ = m.Update(boardLoadedMsg{gen: m.gen - 1, board: nb})
	if mm.(Model).board.Stages[0].Name != "itg" {
		t.Error("a stale board replaced the current one")
	}
}

type fakeStream struct{ err error }

// stateStream opens with every app's state, as Argo CD's watch does.
type stateStream struct{ fakeStream }

func (stateStream) OpensWithState() bool { return true }

func (f fakeStream) Next() ([]AppEvent, error) { return nil, f.err }
func (fakeStream) Close()                      {}

func TestWatchReconnectsWithBackoffAndShowsStale(t *testing.T) {
	m := newModel(fixtureBoard(), 120, 40)
	m.opts.Watcher = watcherFunc(func(context.Context) (AppStream, error) { return nil, errors.New("refused") })
	mm, cmd := m.Update(watchEventsMsg{gen: m.streamGen, stream: fakeStream{}, err: errors.New("stream closed")})
	m = mm.(Model)
	if m.watch != watchRetrying || m.backoff != time.Second || cmd == nil {
		t.Fatalf("after a dropped stream: state %v backoff %v", m.watch, m.backoff)
	}
	mm, _ = m.Update(tickMsg(epoch.Add(42 * time.Second)))
	m = mm.(Model)
	if !strings.Contains(screenText(m), "stale 42s") {
		t.Error(`header lacks "stale 42s" while disconnected`)
	}
	mm, _ = m.Update(reconnectMsg{gen: m.streamGen})
	m = mm.(Model)
	mm, _ = m.Update(watchOpenedMsg{gen: m.streamGen, err: errors.New("refused")})
	m = mm.(Model)
	if m.backoff != 2*time.Second {
		t.Errorf("backoff did not double: %v", m.backoff)
	}
	for i := 0; i < 10; i++ {
		mm, _ = m.Update(watchOpenedMsg{gen: m.streamGen, err: errors.New("refused")})
		m = mm.(Model)
	}
	if m.backoff != maxBackoff {
		t.Errorf("backoff not capped: %v", m.backoff)
	}
	mm, _ = m.Update(watchOpenedMsg{gen: m.streamGen, stream: fakeStream{}})
	m = mm.(Model)
	if m.watch != watchLive || !m.disconnected.IsZero() || strings.Contains(screenText(m), "stale") {
		t.Error("reconnect did not clear the stale mark")
	}
	// A late open from an abandoned attempt is closed, not used.
	mm, _ = m.Update(watchOpenedMsg{gen: m.streamGen - 1, stream: fakeStream{}})
	if mm.(Model).streamGen != m.streamGen {
		t.Error("a stale watch reply changed the generation")
	}
}

type watcherFunc func(context.Context) (AppStream, error)

func (f watcherFunc) Watch(ctx context.Context) (AppStream, error) { return f(ctx) }

func TestCachedBoardPaintsAtOnceAndPeriodicRefresh(t *testing.T) {
	src := &fakeSource{b: fixtureBoard()}
	m := New(Options{Now: func() time.Time { return epoch }, Cached: fixtureBoard(), Source: src, Interval: 30 * time.Second})
	if !strings.Contains(screenText(m), "cached") || !strings.Contains(screenText(m), "TST") {
		t.Fatal("cached board not painted before the first refresh")
	}
	init := m.Init()
	if init == nil {
		t.Fatal("Init returned no refresh")
	}
	mm, _ := m.Update(boardLoadedMsg{gen: m.gen, board: fixtureBoard()})
	m = mm.(Model)
	if strings.Contains(screenText(m), " cached ") {
		t.Error("cached mark still shown after the refresh landed")
	}
	mm, cmd := m.Update(tickMsg(epoch.Add(31 * time.Second)))
	m = mm.(Model)
	if !m.loading || cmd == nil {
		t.Error("no refresh after the interval passed")
	}
	// With no cache, the first paint is a loading state.
	empty := New(Options{Now: func() time.Time { return epoch }})
	if !strings.Contains(screenText(empty), "Loading board") {
		t.Error("no loading state without a cache")
	}
}

func TestMatrixFilterAndScrollStayOnMatches(t *testing.T) {
	m := press(t, newModel(fixtureBoard(), 120, 40), "/", "a", "p", "i", "enter", "tab", "j", "j")
	out := screenText(m)
	if !strings.Contains(out, "› api ") || strings.Contains(out, " web ") {
		t.Errorf("matrix filtered to api, scrolled past the end:\n%s", out)
	}
}

func TestWatchEndedByQuitDoesNotReconnect(t *testing.T) {
	m := newModel(fixtureBoard(), 80, 24)
	mm, cmd := m.Update(watchEventsMsg{gen: m.streamGen, stream: fakeStream{}, err: fmt.Errorf("watch: %w", context.Canceled)})
	if cmd != nil && mm.(Model).watch == watchRetrying {
		t.Error("a canceled watch (quitting) schedules a reconnect")
	}
}

// TestColdStartListsOnceThenWatches: at a cold start (no cached board) the
// watch waits for the first board: Argo CD opens every watch with each
// app's state, and decoding that burst alongside the first list delayed
// the first paint. Its opening then starts no second refresh (that threw
// the first away), unless there is no board at all (the first refresh
// failed); a reconnect, or a stream that does not open with every app's
// state, re-lists. Events that come before any board are applied when one
// comes, older ones skipped by resource version.
func TestColdStartListsOnceThenWatches(t *testing.T) {
	b := fixtureBoard()
	for si := range b.Stages {
		for ai := range b.Stages[si].Apps {
			b.Stages[si].Apps[ai].ResourceVersion = "100"
		}
	}
	stage := b.Stages[1].Name
	newer, older := b.Stages[1].Apps[0], b.Stages[1].Apps[1]
	newer.HealthStatus, newer.ResourceVersion = "Degraded", "101"
	older.HealthStatus, older.ResourceVersion = "Missing", "99"
	events := watchEventsMsg{stream: stateStream{}, events: []AppEvent{{Stage: stage, App: newer}, {Stage: stage, App: older}}}
	cold := func() Model {
		m := New(Options{Now: func() time.Time { return epoch }, Source: &fakeSource{b: b},
			Watcher: watcherFunc(func(context.Context) (AppStream, error) { return stateStream{}, nil })})
		mm, _ := m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		m = mm.(Model)
		if m.watchStarted {
			t.Fatal("a cold start opened the watch before the first board")
		}
		return m
	}
	applied := func(m Model) {
		t.Helper()
		st, _ := m.board.Stage(stage)
		if st.Apps[0].HealthStatus != "Degraded" || st.Apps[1].HealthStatus == "Missing" {
			t.Errorf("events: %s %s, want the newer applied and the older skipped", st.Apps[0].HealthStatus, st.Apps[1].HealthStatus)
		}
	}

	// The first board, then the watch: one list, the events applied.
	m := cold()
	gen := m.gen
	mm, _ := m.Update(boardLoadedMsg{gen: gen, board: b.Clone()})
	m = mm.(Model)
	if !m.watchStarted {
		t.Fatal("the watch did not start after the first board")
	}
	mm, _ = m.Update(watchOpenedMsg{gen: m.streamGen, stream: stateStream{}})
	m = mm.(Model)
	if m.gen != gen {
		t.Fatalf("the first watch started another refresh (gen %d -> %d)", gen, m.gen)
	}
	events.gen = m.streamGen
	mm, _ = m.Update(events)
	applied(mm.(Model))

	// The first refresh fails: the watch starts anyway and, with no board,
	// re-lists at once; its events wait for that board.
	m = cold()
	mm, _ = m.Update(boardLoadedMsg{gen: m.gen, err: errors.New("argo cd: deadline exceeded")})
	m = mm.(Model)
	if !m.watchStarted {
		t.Fatal("the watch did not start after a failed first refresh")
	}
	gen = m.gen
	mm, _ = m.Update(watchOpenedMsg{gen: m.streamGen, stream: stateStream{}})
	m = mm.(Model)
	if m.gen == gen {
		t.Fatal("with no board at all the first watch did not re-list")
	}
	events.gen = m.streamGen
	mm, _ = m.Update(events)
	m = mm.(Model)
	mm, _ = m.Update(boardLoadedMsg{gen: m.gen, board: b.Clone()})
	m = mm.(Model)
	applied(m)

	// A reconnect after a drop re-lists (events were missed meanwhile) and
	// forgets events kept from the old stream.
	m.early = []AppEvent{{Stage: stage, App: older}}
	mm, _ = m.Update(watchEventsMsg{gen: m.streamGen, stream: stateStream{}, err: errors.New("stream closed")})
	m = mm.(Model)
	mm, _ = m.Update(reconnectMsg{gen: m.streamGen})
	m = mm.(Model)
	if m.early != nil {
		t.Error("a reconnect kept the old stream's early events")
	}
	gen = m.gen
	mm, _ = m.Update(watchOpenedMsg{gen: m.streamGen, stream: stateStream{}})
	if mm.(Model).gen == gen {
		t.Error("a reconnect did not re-list")
	}

	// A first stream that does not open with every app's state (a console
	// joining a shared watch already open) is re-listed.
	m = cold()
	mm, _ = m.Update(boardLoadedMsg{gen: m.gen, board: b.Clone()})
	m = mm.(Model)
	gen = m.gen
	mm, _ = m.Update(watchOpenedMsg{gen: m.streamGen, stream: fakeStream{}})
	if mm.(Model).gen == gen {
		t.Error("joining a watch without the apps' state did not re-list")
	}

	// Over a cached board the watch starts at once.
	if c := New(Options{Now: func() time.Time { return epoch }, Cached: fixtureBoard(), Source: &fakeSource{b: b},
		Watcher: watcherFunc(func(context.Context) (AppStream, error) { return fakeStream{}, nil })}); !c.watchStarted {
		t.Error("a warm start did not open the watch at once")
	}
}

type recordingPending struct{ got []board.App }

func (r *recordingPending) Pending(_ context.Context, a board.App) (board.App, error) {
	r.got = append(r.got, a)
	return board.App{}, nil
}

// TestWatchRecomputesPendingOverEveryPath: a watch event whose app now
// reads other paths (a new source, a new link) recomputes its pending
// commits over all of them, even at the same deployed revision.
func TestWatchRecomputesPendingOverEveryPath(t *testing.T) {
	m := newModel(fixtureBoard(), 120, 40)
	rec := &recordingPending{}
	m.opts.Pending = rec
	ev := m.board.Stages[1].Apps[1]
	ev.ResourceVersion = "11"
	ev.MorePaths = []string{"prod/web"}
	ev.LinkedPaths = []string{"prod/shared/values.yaml"}
	cmds := m.applyEvents([]AppEvent{{Stage: "tst", App: ev}})
	if len(cmds) != 1 {
		t.Fatalf("%d commands; want the pending recomputation", len(cmds))
	}
	cmds[0]()
	if len(rec.got) != 1 || !slices.Equal(rec.got[0].Paths(), ev.Paths()) || rec.got[0].DeployedRevision != ev.DeployedRevision {
		t.Errorf("pending read %+v; want every path of %+v", rec.got, ev.Paths())
	}
	// The same paths at the same revision: nothing to recompute.
	ev.ResourceVersion = "12"
	if cmds := m.applyEvents([]AppEvent{{Stage: "tst", App: ev}}); len(cmds) != 0 {
		t.Errorf("%d commands for an unchanged app", len(cmds))
	}
}

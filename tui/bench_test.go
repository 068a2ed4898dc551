package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/gitstate"
)

// bigBoard is 5 stages x 200 apps = 1,000 apps.
func bigBoard() *board.Board { return fleet(200) }

// fleet is 5 stages x perStage apps.
func fleet(perStage int) *board.Board {
	b := &board.Board{Repo: board.RepoInfo{URL: "git@github.com:acme/ops.git", Branch: "main"}}
	for s, name := range []string{"mr-1", "itg", "tst", "perf", "prod"} {
		st := board.Stage{Name: name, Path: name, Protected: name == "prod", Head: commit(fmt.Sprintf("%07x", s), "Dana Kim", "bump", time.Hour)}
		for a := 0; a < perStage; a++ {
			app := board.App{
				Name: fmt.Sprintf("%s-svc%03d", name, a), Path: fmt.Sprintf("%s/svc%03d", name, a),
				SyncStatus: []string{"Synced", "OutOfSync"}[a%2], HealthStatus: []string{"Healthy", "Progressing", "Degraded"}[a%3],
				DeployedRevision: strings.Repeat("ab", 20), AutoSync: name == "itg", PendingCommits: a % 4,
				Head: &gitstate.Commit{SHA: strings.Repeat("cd", 20), Author: "Omar Haddad", Date: epoch.Add(-time.Duration(a) * time.Minute), Subject: "Promote svc to " + name},
			}
			st.Apps = append(st.Apps, app)
		}
		b.Stages = append(b.Stages, st)
	}
	return b
}

// BenchmarkViewBoard renders the board of 1,000 apps at 120x40; target under 2 ms.
func BenchmarkViewBoard(b *testing.B) {
	m := newModel(bigBoard(), 120, 40)
	m = press(nil, m, "G") // the cursor at the bottom: the window is not at offset 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.View()
	}
}

func BenchmarkViewMatrix(b *testing.B) {
	m := press(nil, newModel(bigBoard(), 120, 40), "tab")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.View()
	}
}

// BenchmarkApplyWatchBurst applies a burst of 100 watch events to the big board.
func BenchmarkApplyWatchBurst(b *testing.B) {
	m := newModel(bigBoard(), 120, 40)
	var events []AppEvent
	for i := 0; i < 100; i++ {
		a := m.board.Stages[i%5].Apps[i]
		a.SyncStatus = "Synced"
		events = append(events, AppEvent{Stage: m.board.Stages[i%5].Name, App: a})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.applyEvents(events)
	}
}

// BenchmarkFleetBurst is the fleet-scale live update: a burst of 500 app
// changes from the watch applied to a board of 2,000 apps, then the frame a
// key pressed during the burst waits for (the budget: applied
// within 100 ms of the last event, the key drawn within 50 ms).
func BenchmarkFleetBurst(b *testing.B) {
	m := newModel(fleet(400), 120, 40)
	var events []AppEvent
	for i := 0; i < 500; i++ {
		st := m.board.Stages[i%5]
		a := st.Apps[(i*7)%len(st.Apps)]
		a.SyncStatus, a.HealthStatus = "Synced", "Progressing"
		events = append(events, AppEvent{Stage: st.Name, App: a})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.applyEvents(events)
		m = press(nil, m, "j")
		if v := m.View(); v.Content == "" {
			b.Fatal("empty frame")
		}
	}
}

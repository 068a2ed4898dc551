package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/stagedeck/stagedeck/board"
)

const maxBackoff = 30 * time.Second

// Update applies one message. It never does I/O: it returns Cmds.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.clampCursor()
		return m, nil

	case tea.BackgroundColorMsg:
		m.styles = NewStyles(msg.IsDark())
		return m, nil

	case tea.KeyPressMsg:
		if msg.String() == "ctrl+c" {
			return m, tea.Quit
		}
		return m, m.top().update(&m, msg)

	case tickMsg:
		m.now = time.Time(msg)
		var cmds []tea.Cmd
		cmds = append(cmds, tickCmd())
		if !m.loading && !m.lastFetch.IsZero() && m.now.Sub(m.lastFetch) >= m.opts.Interval {
			cmds = append(cmds, m.startRefresh(refreshPeriodic))
		}
		return m, tea.Batch(cmds...)

	case boardLoadedMsg:
		// The deferred first watch starts with the first board back, even
		// one a newer refresh replaces.
		watch := m.watchAfterFirstBoard()
		if msg.gen != m.gen {
			return m, watch // a newer refresh is on its way
		}
		m.loading = false
		m.lastFetch = m.now
		if msg.err != nil {
			m.err = msg.err
			return m, watch
		}
		m.err = nil
		keep := m.selected()
		var known map[string]string
		if m.board != nil {
			known = m.board.KnownHealthy
		}
		m.board = mergeNewer(m.board, msg.board)
		noteHealthy(m.board, known)
		m.cached = false
		m.rebuildRows(keep)
		var early []tea.Cmd
		if len(m.early) > 0 {
			early = m.applyEvents(m.early)
			m.early = nil
		}
		if r, ok := m.top().(*rollbackScreen); ok {
			if cmd := r.boardSeen(&m); cmd != nil {
				return m, tea.Batch(append(early, cmd, watch)...)
			}
		}
		if m.opts.Demo {
			return m, tea.Batch(append(early, watch)...)
		}
		return m, tea.Batch(append(early, watch, saveCacheCmd(m.opts.Cache, m.board))...)

	case fetchDoneMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		if msg.err != nil {
			m.err = msg.err // shown; the collect still runs on what git has
		}
		return m, collectCmd(m.ctx, m.opts.Source, m.gen)

	case refreshDoneMsg:
		if msg.err != nil {
			m.err = msg.err
		}
		return m, nil

	case watchOpenedMsg:
		if msg.gen != m.streamGen {
			if msg.stream != nil {
				msg.stream.Close()
			}
			return m, nil
		}
		if msg.err != nil {
			return m.watchFailed(msg.err)
		}
		m.watch, m.disconnected, m.backoff = watchLive, time.Time{}, 0
		first := !m.watchedOnce
		m.watchedOnce = true
		if first && OpensWithState(msg.stream) && (m.board != nil || m.loading) {
			// The first watch, opening with each app's current state (as
			// Argo CD's does): nothing was missed since the first refresh.
			// (Re-listing here threw the first refresh away and listed the
			// fleet twice before the first paint.) Without any board and
			// none coming (the first refresh failed), it re-lists at once.
			return m, nextEventsCmd(msg.stream, msg.gen)
		}
		// Events missed while disconnected: re-list once.
		return m, tea.Batch(nextEventsCmd(msg.stream, msg.gen), m.startRefresh(refreshPeriodic))

	case watchEventsMsg:
		if msg.gen != m.streamGen {
			return m, nil
		}
		cmds := m.applyEvents(msg.events)
		if msg.err != nil {
			msg.stream.Close()
			mm, cmd := m.watchFailed(msg.err)
			return mm, tea.Batch(append(cmds, cmd)...)
		}
		return m, tea.Batch(append(cmds, nextEventsCmd(msg.stream, msg.gen))...)

	case reconnectMsg:
		if msg.gen != m.streamGen || m.opts.Watcher == nil {
			return m, nil
		}
		// The new stream (or the re-list) brings the current state; the
		// old stream's early events could bring back a deleted app.
		m.early = nil
		m.streamGen++
		m.watch = watchConnecting
		return m, watchCmd(m.ctx, m.opts.Watcher, m.streamGen)

	case pendingMsg:
		st, i := m.findApp(msg.stage, msg.app)
		if i < 0 || st.Apps[i].DeployedRevision != msg.deployed {
			return m, nil // stale: the app moved again or is gone
		}
		if msg.err != nil {
			m.err = msg.err
			return m, nil
		}
		a := &st.Apps[i]
		a.Pending, a.PendingCommits, a.NotAncestor, a.Running = msg.git.Pending, msg.git.PendingCommits, msg.git.NotAncestor, msg.git.Running
		return m, nil

	case pagerDoneMsg:
		if msg.err != nil {
			m.err = fmt.Errorf("diff pager %q: %w", m.opts.Pager, msg.err)
		}
		return m, nil

	case cacheSavedMsg:
		return m, nil // a failed cache write only costs the next start its instant paint

	case syncObsMsg:
		if sy, ok := findScreen[*syncScreen](&m); !ok || sy.gen != msg.gen {
			msg.f.Close() // the sync screen was closed: stop following
			return m, nil
		}
	case syncStartedMsg:
		if sy, ok := findScreen[*syncScreen](&m); !ok || sy.gen != msg.gen {
			for _, f := range msg.followers {
				f.Close() // sent, but nobody watches it here: the board shows it
			}
			return m, nil
		}
	}
	// The rest are replies to a screen's requests: each screen takes its own.
	var cmds []tea.Cmd
	for _, s := range m.stack {
		cmds = append(cmds, s.update(&m, msg))
	}
	return m, tea.Batch(cmds...)
}

func (m Model) watchFailed(err error) (tea.Model, tea.Cmd) {
	if errors.Is(err, context.Canceled) { // quitting: nothing to reconnect
		return m, nil
	}
	if m.disconnected.IsZero() {
		m.disconnected = m.now
	}
	m.watch = watchRetrying
	switch {
	case m.backoff == 0:
		m.backoff = time.Second
	case m.backoff < maxBackoff:
		m.backoff = min(2*m.backoff, maxBackoff)
	}
	m.err = err
	gen := m.streamGen
	return m, tea.Tick(m.backoff, func(time.Time) tea.Msg { return reconnectMsg{gen: gen} })
}

// refresh says why a refresh starts: on the clock, or because the board
// must show something that just happened (a key, a push).
type refresh int

const (
	refreshPeriodic refresh = iota // may reuse a fetch another console just made
	refreshNow                     // git is fetched again, whatever was shared
	refreshArgo                    // refreshNow, and Argo CD reconciles the selected apps
	refreshArgoHard                // refreshArgo with a hard refresh (manifests regenerated)
)

// startRefresh begins a git fetch followed by a full collect; with argo it
// also asks Argo CD to refresh the selected stage's apps.
func (m *Model) startRefresh(why refresh) tea.Cmd {
	argoRefresh, hard := why >= refreshArgo, why == refreshArgoHard
	m.gen++
	m.loading = true
	m.lastFetch = m.now
	cmds := []tea.Cmd{fetchCmd(m.ctx, m.opts.Fetcher, m.gen, why != refreshPeriodic)}
	if argoRefresh {
		stage, apps := m.selectedStageApps()
		cmds = append(cmds, refreshCmd(m.ctx, m.opts.Refresh, stage, apps, hard))
	}
	return tea.Batch(cmds...)
}

func (m *Model) selectedStageApps() (string, []string) {
	if m.board == nil || m.list().cursor >= len(m.list().rows) {
		return "", nil
	}
	r := m.list().rows[m.list().cursor]
	st := m.board.Stages[r.stage]
	if r.app >= 0 {
		return st.Name, []string{st.Apps[r.app].Name}
	}
	names := make([]string, len(st.Apps))
	for i, a := range st.Apps {
		names[i] = a.Name
	}
	return st.Name, names
}

// maxEarlyEvents bounds the events kept before the first board: a fleet's
// initial watch burst, a few times over.
const maxEarlyEvents = 20000

// applyEvents updates rows in place; a moved deployed revision triggers a
// pending-commit recomputation for that app only.
func (m *Model) applyEvents(events []AppEvent) []tea.Cmd {
	if m.board == nil {
		// Before the first board: kept, and applied when it comes (an
		// event older than the board's listing is then skipped by its
		// resource version).
		m.early = append(m.early, events...)
		if n := len(m.early); n > maxEarlyEvents {
			m.early = append([]AppEvent(nil), m.early[n-maxEarlyEvents:]...)
		}
		return nil
	}
	keep := m.selected()
	var cmds []tea.Cmd
	changedRows := false
	for _, ev := range events {
		st, i := m.findApp(ev.Stage, ev.App.Name)
		switch {
		case st == nil:
			continue
		case ev.Deleted:
			if i >= 0 {
				st.Apps = append(st.Apps[:i], st.Apps[i+1:]...)
				changedRows = true
			}
		case i < 0:
			st.Apps = append(st.Apps, ev.App)
			sortApps(st.Apps)
			changedRows = true
			if cmd := pendingCmd(m.ctx, m.opts.Pending, st.Name, ev.App); cmd != nil {
				cmds = append(cmds, cmd)
			}
		default:
			old := st.Apps[i]
			if olderRV(ev.App.ResourceVersion, old.ResourceVersion) {
				continue
			}
			a := ev.App
			a.Head, a.Pending, a.PendingCommits, a.NotAncestor = old.Head, old.Pending, old.PendingCommits, old.NotAncestor
			if a.DeployedRevision == old.DeployedRevision {
				a.Running = old.Running // git's side of the row did not change
			}
			st.Apps[i] = a
			// A new source or link changes what is pending as much as a sync.
			if a.DeployedRevision != old.DeployedRevision || !slices.Equal(a.Paths(), old.Paths()) {
				if cmd := pendingCmd(m.ctx, m.opts.Pending, st.Name, a); cmd != nil {
					cmds = append(cmds, cmd)
				}
			}
		}
	}
	if changedRows {
		m.rebuildRows(keep)
	}
	noteHealthy(m.board, nil)
	return cmds
}

func sortApps(apps []board.App) {
	for i := 1; i < len(apps); i++ {
		for j := i; j > 0 && apps[j].Name < apps[j-1].Name; j-- {
			apps[j], apps[j-1] = apps[j-1], apps[j]
		}
	}
}

// olderRV reports whether resource version a is older than b (numeric when both are).
func olderRV(a, b string) bool {
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	return err1 == nil && err2 == nil && x < y
}

// mergeNewer takes the new board but keeps an app's Argo CD fields from the
// old one when a watch event already brought a newer resource version.
func mergeNewer(old, nb *board.Board) *board.Board {
	if old == nil || nb == nil {
		return nb
	}
	for si := range nb.Stages {
		st := &nb.Stages[si]
		ost, ok := old.Stage(st.Name)
		if !ok {
			continue
		}
		if st.ArgoError != "" && len(st.Apps) == 0 && len(ost.Apps) > 0 {
			// Argo CD is down for this stage: keep what was deployed where,
			// marked stale with the reason and since when, rather than an
			// empty stage nobody can act on at 3 a.m.
			st.Apps = append([]board.App(nil), ost.Apps...)
			st.StaleSince = ost.StaleSince
			if st.StaleSince.IsZero() {
				st.StaleSince = nb.CollectedAt
			}
			continue
		}
		olds := make(map[string]*board.App, len(ost.Apps))
		for i := range ost.Apps {
			olds[ost.Apps[i].Name] = &ost.Apps[i]
		}
		for ai := range st.Apps {
			if oa, ok := olds[st.Apps[ai].Name]; ok && olderRV(st.Apps[ai].ResourceVersion, oa.ResourceVersion) && oa.DeployedRevision == st.Apps[ai].DeployedRevision {
				na := &st.Apps[ai]
				na.SyncStatus, na.HealthStatus, na.OperationPhase, na.OperationMessage = oa.SyncStatus, oa.HealthStatus, oa.OperationPhase, oa.OperationMessage
				na.OperationRunning, na.ResourceVersion = oa.OperationRunning, oa.ResourceVersion
			}
		}
	}
	return nb
}

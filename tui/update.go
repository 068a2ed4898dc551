package tui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/stagedeck/stagedeck/board"
)

const maxBackoff = 30 * time.Second

// Update applies one message. It never does I/O: it returns Cmds.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if mm, cmd, ok := m.handleSyncMsg(msg); ok {
		return mm, cmd
	}
	if mm, cmd, ok := m.handleRollbackMsg(msg); ok {
		return mm, cmd
	}
	switch msg := msg.(type) {
	case timelineLoadedMsg:
		return m.handleTimelineMsg(msg)
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.clampCursor()
		return m, nil

	case tea.BackgroundColorMsg:
		m.styles = NewStyles(msg.IsDark())
		return m, nil

	case tea.KeyPressMsg:
		return m.handleKey(msg)

	case tickMsg:
		m.now = time.Time(msg)
		var cmds []tea.Cmd
		cmds = append(cmds, tickCmd())
		if !m.loading && !m.lastFetch.IsZero() && m.now.Sub(m.lastFetch) >= m.opts.Interval {
			cmds = append(cmds, m.startRefresh(refreshPeriodic))
		}
		return m, tea.Batch(cmds...)

	case boardLoadedMsg:
		if msg.gen != m.gen {
			return m, nil // a newer refresh is on its way
		}
		m.loading = false
		m.lastFetch = m.now
		if msg.err != nil {
			m.err = msg.err
			return m, nil
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
		if r := &m.rollback; m.screen == screenHistory && r.phase == rbDone && r.syncWhenSeen && m.board.Repo.Head == r.result.Commit.String() {
			// s was pressed before the board saw the pushed commit: now it has.
			r.syncWhenSeen, r.err = false, nil
			back := m.back
			apps, also := m.syncAfterRollback(r.stage, board.AppPaths(r.apps), r.rb, r.result.Commit.String())
			cmd := m.openSyncOf(r.stage, apps, r.result.Commit.String(), "rollback: "+r.rb.Reason, also)
			m.back = back
			return m, cmd
		}
		if m.opts.Demo {
			return m, nil
		}
		return m, saveCacheCmd(m.opts.Cache, m.board)

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

	case diffLoadedMsg:
		if msg.gen != m.diff.gen {
			return m, nil // the selection or tab changed since
		}
		m.diff.loading, m.diff.err, m.diff.text = false, msg.err, msg.text
		m.diff.lines = strings.Split(strings.TrimRight(msg.text, "\n"), "\n")
		return m, nil

	case pagerDoneMsg:
		if msg.err != nil {
			m.err = fmt.Errorf("diff pager %q: %w", m.opts.Pager, msg.err)
		}
		return m, nil

	case cacheSavedMsg:
		return m, nil // a failed cache write only costs the next start its instant paint
	}
	if m.filtering {
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		return m, cmd
	}
	return m, nil
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
	if m.board == nil || m.cursor >= len(m.rows) {
		return "", nil
	}
	r := m.rows[m.cursor]
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

// applyEvents updates rows in place; a moved deployed revision triggers a
// pending-commit recomputation for that app only.
func (m *Model) applyEvents(events []AppEvent) []tea.Cmd {
	if m.board == nil {
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
			if cmd := pendingCmd(m.ctx, m.opts.Pending, st.Name, ev.App.Name, ev.App.DeployedRevision, ev.App.Path); cmd != nil {
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
			if a.DeployedRevision != old.DeployedRevision {
				if cmd := pendingCmd(m.ctx, m.opts.Pending, st.Name, a.Name, a.DeployedRevision, a.Path); cmd != nil {
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
		for ai := range st.Apps {
			for _, oa := range ost.Apps {
				if oa.Name == st.Apps[ai].Name && olderRV(st.Apps[ai].ResourceVersion, oa.ResourceVersion) && oa.DeployedRevision == st.Apps[ai].DeployedRevision {
					na := &st.Apps[ai]
					na.SyncStatus, na.HealthStatus, na.OperationPhase, na.OperationMessage = oa.SyncStatus, oa.HealthStatus, oa.OperationPhase, oa.OperationMessage
					na.OperationRunning, na.ResourceVersion = oa.OperationRunning, oa.ResourceVersion
				}
			}
		}
	}
	return nb
}

func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	if m.screen == screenSync || m.screen == screenHistory || m.screen == screenTimeline {
		if msg.String() == "ctrl+c" {
			return m, tea.Quit
		}
		if msg.String() == "?" && (m.screen == screenTimeline || m.screen == screenHistory && (m.rollback.phase == rbPick || m.rollback.phase == rbPreview || m.rollback.phase == rbDone) ||
			m.screen == screenSync && (m.sync.phase == syncPreview || m.sync.phase == syncRunning || m.sync.phase == syncDone)) {
			return m.toggleHelp(), nil
		}
		if m.screen == screenTimeline {
			return m.handleTimelineKey(msg)
		}
		if m.screen == screenHistory {
			return m.handleHistoryKey(msg)
		}
		return m.handleSyncKey(msg)
	}
	if m.filtering {
		switch msg.String() {
		case "esc":
			m.filtering = false
			keep := m.selected()
			m.filter.SetValue("")
			m.filter.Blur()
			m.rebuildRows(keep)
			return m, nil
		case "enter":
			m.filtering = false
			m.filter.Blur()
			return m, nil
		case "ctrl+c":
			return m, tea.Quit
		}
		keep := m.selected()
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		m.rebuildRows(keep)
		return m, cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		if msg.String() == "q" && m.screen != screenBoard && m.screen != screenMatrix {
			m.screen = m.back
			return m, nil
		}
		return m, tea.Quit
	case key.Matches(msg, k.Help):
		return m.toggleHelp(), nil
	case key.Matches(msg, k.Back):
		switch {
		case m.screen == screenHelp:
			m.screen = m.helpFrom
		case m.screen == screenDiff && m.diff.fromHistory:
			m.screen = screenHistory
		case m.screen == screenDetail || m.screen == screenHelp || m.screen == screenDiff || m.screen == screenPick:
			m.screen = m.back
		case m.filter.Value() != "":
			keep := m.selected()
			m.filter.SetValue("")
			m.rebuildRows(keep)
		}
		return m, nil
	}
	if m.screen == screenHelp {
		return m, nil
	}
	if m.screen == screenDiff {
		if key.Matches(msg, k.Sync) {
			app := ""
			if len(m.diff.targets) == 1 && m.diff.targets[0].App != m.diff.targets[0].Stage {
				app = m.diff.targets[0].App
			}
			// A commit's diff opened from history is not a pending diff:
			// s there would sync the stage to head, which nobody reviewed.
			if m.diff.kind == diffPending && len(m.diff.targets) > 0 && !m.diff.fromHistory {
				return m, m.openSync(m.diff.targets[0].Stage, app, m.diff.head)
			}
		}
		return m.handleDiffKey(msg)
	}
	if m.screen == screenPick {
		return m.handlePickKey(msg)
	}
	if m.screen == screenDetail {
		switch {
		case key.Matches(msg, k.Down):
			m.detailOffset++
		case key.Matches(msg, k.Up):
			m.detailOffset = max(0, m.detailOffset-1)
		case key.Matches(msg, k.Top):
			m.detailOffset = 0
		case key.Matches(msg, k.Refresh):
			return m, m.startRefresh(refreshArgo)
		}
		return m, nil
	}
	if m.screen == screenMatrix {
		switch {
		case key.Matches(msg, k.Down):
			m.matrixOffset = min(m.matrixOffset+1, max(0, len(m.matrix)-1))
			return m, nil
		case key.Matches(msg, k.Up):
			m.matrixOffset = max(0, m.matrixOffset-1)
			return m, nil
		case key.Matches(msg, k.Top):
			m.matrixOffset = 0
			return m, nil
		case key.Matches(msg, k.Enter), key.Matches(msg, k.Sync), key.Matches(msg, k.Diff), key.Matches(msg, k.History),
			key.Matches(msg, k.Timeline), key.Matches(msg, k.Compare):
			// A matrix row is an app across stages: nothing to act on without
			// a stage, so nothing acts on a row the cursor does not show.
			m.err = errMatrixActions
			return m, nil
		}
	}
	page := m.listHeight()
	switch {
	case key.Matches(msg, k.Down):
		m.cursor++
	case key.Matches(msg, k.Up):
		m.cursor--
	case key.Matches(msg, k.Top):
		m.cursor = 0
	case key.Matches(msg, k.Bottom):
		m.cursor = len(m.rows) - 1
	case key.Matches(msg, k.PageDown):
		m.cursor += page
	case key.Matches(msg, k.PageUp):
		m.cursor -= page
	case key.Matches(msg, k.Tab):
		if m.screen == screenBoard {
			m.screen = screenMatrix
		} else {
			m.screen = screenBoard
		}
	case key.Matches(msg, k.Filter):
		m.filtering = true
		return m, m.filter.Focus()
	case key.Matches(msg, k.Refresh):
		return m, m.startRefresh(refreshArgo)
	case key.Matches(msg, k.Hard):
		return m, m.startRefresh(refreshArgoHard)
	case key.Matches(msg, k.Diff):
		return m, m.openDiff()
	case key.Matches(msg, k.History):
		return m, m.openHistory()
	case key.Matches(msg, k.Timeline):
		return m, m.openTimeline()
	case key.Matches(msg, k.Sync):
		if m.board != nil && m.cursor < len(m.rows) {
			sel := m.selected()
			return m, m.openSync(sel.stage, sel.app, m.board.Repo.Head)
		}
	case key.Matches(msg, k.Compare):
		m.openPicker()
		return m, nil
	case key.Matches(msg, k.Enter):
		if m.board != nil && m.cursor < len(m.rows) {
			m.detail, m.detailOffset = m.selected(), 0
			m.back, m.screen = m.listScreen(), screenDetail
		}
	case key.Matches(msg, k.Collapse):
		if m.board != nil && m.cursor < len(m.rows) && m.screen == screenBoard {
			st := m.board.Stages[m.rows[m.cursor].stage].Name
			m.collapsed[st] = !m.collapsed[st]
			m.rebuildRows(rowKey{stage: st})
		}
	}
	m.clampCursor()
	return m, nil
}

func (m Model) listScreen() screen {
	if m.screen == screenMatrix || (m.screen != screenBoard && m.back == screenMatrix) {
		return screenMatrix
	}
	return screenBoard
}

// toggleHelp opens the keys (those of the current view first) or closes
// them, back to where they were opened.
func (m Model) toggleHelp() Model {
	if m.screen == screenHelp {
		m.screen = m.helpFrom
		return m
	}
	m.helpFrom = m.screen
	if m.screen == screenBoard || m.screen == screenMatrix {
		m.back = m.screen
	}
	m.screen = screenHelp
	return m
}

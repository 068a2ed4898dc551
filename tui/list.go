package tui

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// listScreen is the bottom of the stack: the board of every stage and app,
// or (tab) the matrix of which revision runs where. Its rows follow the
// board, the filter and the folds.
type listScreen struct {
	matrixMode bool

	rows      []row
	cursor    int
	offset    int
	collapsed map[string]bool
	filter    textinput.Model
	filtering bool

	matrix       []matrixRow
	matrixOffset int
}

func newListScreen() *listScreen {
	fi := textinput.New()
	fi.Prompt = "/"
	fi.Placeholder = "stage, app, author or subject"
	return &listScreen{collapsed: map[string]bool{}, filter: fi}
}

func (l *listScreen) id() screenID {
	if l.matrixMode {
		return screenMatrix
	}
	return screenBoard
}

func (l *listScreen) view(m *Model, w, h int) []string {
	if l.matrixMode {
		return m.matrixLines(w, h)
	}
	return m.boardLines(w, h)
}

func (*listScreen) footer(m *Model) string { return m.help.ShortHelpView(m.keys.ShortHelp()) }

func (l *listScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		if l.filtering { // the filter's cursor blinks
			var cmd tea.Cmd
			l.filter, cmd = l.filter.Update(msg)
			return cmd
		}
		return nil
	}
	if l.filtering {
		return l.updateFilter(m, k)
	}
	keys := m.keys
	switch {
	case key.Matches(k, keys.Quit):
		return tea.Quit
	case key.Matches(k, keys.Help):
		m.pushHelp()
		return nil
	case key.Matches(k, keys.Back):
		if l.filter.Value() != "" {
			keep := m.selected()
			l.filter.SetValue("")
			m.rebuildRows(keep)
		}
		return nil
	}
	if l.matrixMode {
		switch {
		case key.Matches(k, keys.Down):
			l.matrixOffset = min(l.matrixOffset+1, max(0, len(l.matrix)-1))
			return nil
		case key.Matches(k, keys.Up):
			l.matrixOffset = max(0, l.matrixOffset-1)
			return nil
		case key.Matches(k, keys.Top):
			l.matrixOffset = 0
			return nil
		case key.Matches(k, keys.Enter), key.Matches(k, keys.Sync), key.Matches(k, keys.Diff), key.Matches(k, keys.History),
			key.Matches(k, keys.Timeline), key.Matches(k, keys.Compare):
			// A matrix row is an app across stages: nothing to act on without
			// a stage, so nothing acts on a row the cursor does not show.
			m.err = errMatrixActions
			return nil
		}
	}
	page := m.listHeight()
	switch {
	case key.Matches(k, keys.Down):
		l.cursor++
	case key.Matches(k, keys.Up):
		l.cursor--
	case key.Matches(k, keys.Top):
		l.cursor = 0
	case key.Matches(k, keys.Bottom):
		l.cursor = len(l.rows) - 1
	case key.Matches(k, keys.PageDown):
		l.cursor += page
	case key.Matches(k, keys.PageUp):
		l.cursor -= page
	case key.Matches(k, keys.Tab):
		l.matrixMode = !l.matrixMode
	case key.Matches(k, keys.Filter):
		l.filtering = true
		return l.filter.Focus()
	case key.Matches(k, keys.Refresh):
		return m.startRefresh(refreshArgo)
	case key.Matches(k, keys.Hard):
		return m.startRefresh(refreshArgoHard)
	case key.Matches(k, keys.Diff):
		return m.openDiff()
	case key.Matches(k, keys.History):
		return m.openHistory()
	case key.Matches(k, keys.Timeline):
		return m.openTimeline()
	case key.Matches(k, keys.Sync):
		if m.board != nil && l.cursor < len(l.rows) {
			sel := m.selected()
			return m.openSync(sel.stage, sel.app, m.board.Repo.Head)
		}
	case key.Matches(k, keys.Compare):
		m.openPicker()
		return nil
	case key.Matches(k, keys.Enter):
		if m.board != nil && l.cursor < len(l.rows) {
			m.push(&detailScreen{key: m.selected()})
		}
	case key.Matches(k, keys.Collapse):
		if m.board != nil && l.cursor < len(l.rows) && !l.matrixMode {
			st := m.board.Stages[l.rows[l.cursor].stage].Name
			l.collapsed[st] = !l.collapsed[st]
			m.rebuildRows(rowKey{stage: st})
		}
	}
	m.clampCursor()
	return nil
}

// updateFilter edits the filter; the rows follow each key.
func (l *listScreen) updateFilter(m *Model, k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "esc":
		l.filtering = false
		keep := m.selected()
		l.filter.SetValue("")
		l.filter.Blur()
		m.rebuildRows(keep)
		return nil
	case "enter":
		l.filtering = false
		l.filter.Blur()
		return nil
	}
	keep := m.selected()
	var cmd tea.Cmd
	l.filter, cmd = l.filter.Update(k)
	m.rebuildRows(keep)
	return cmd
}

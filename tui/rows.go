package tui

import (
	"sort"
	"strings"

	"github.com/stagedeck/stagedeck/board"
)

// row is one line of the board list: a stage summary or an app.
type row struct {
	stage int // index into board.Stages
	app   int // index into Stages[stage].Apps; -1 for the stage row
}

// matrixRow is one app, named by its directory within the stage, across
// the stages: cells[i] indexes board.Stages[i].Apps, -1 where it is absent.
type matrixRow struct {
	key   string
	cells []int
}

// rowKey names a row stably across refreshes.
type rowKey struct{ stage, app string }

func (m *Model) keyOf(r row) rowKey {
	st := m.board.Stages[r.stage]
	if r.app < 0 {
		return rowKey{stage: st.Name}
	}
	return rowKey{stage: st.Name, app: st.Apps[r.app].Name}
}

// selected is the key of the row under the cursor; take it before
// replacing the board, hand it to rebuildRows after.
func (m *Model) selected() rowKey {
	if m.board == nil || m.list().cursor >= len(m.list().rows) {
		return rowKey{}
	}
	return m.keyOf(m.list().rows[m.list().cursor])
}

// rebuildRows derives the visible rows from board, filter and folds, and
// puts the cursor back on keep (or its stage) when it is still shown.
func (m *Model) rebuildRows(keep rowKey) {
	m.list().rows = m.list().rows[:0]
	if m.board == nil {
		return
	}
	q := strings.ToLower(strings.TrimSpace(m.list().filter.Value()))
	for si, st := range m.board.Stages {
		stageHit := q == "" || strings.Contains(strings.ToLower(st.Name), q)
		var apps []int
		for ai, a := range st.Apps {
			if stageHit || matchApp(a, q) {
				apps = append(apps, ai)
			}
		}
		if q != "" && !stageHit && len(apps) == 0 && !matchStage(st, q) {
			continue
		}
		m.list().rows = append(m.list().rows, row{stage: si, app: -1})
		if m.list().collapsed[st.Name] && q == "" {
			continue
		}
		for _, ai := range apps {
			m.list().rows = append(m.list().rows, row{stage: si, app: ai})
		}
	}
	m.rebuildMatrix(q)
	m.list().cursor = 0
	for i, r := range m.list().rows {
		k := m.keyOf(r)
		if k == keep {
			m.list().cursor = i
			break
		}
		if k.stage == keep.stage && k.app == "" {
			m.list().cursor = i // the stage, until the app itself turns up
		}
	}
	m.clampCursor()
}

// rebuildMatrix derives the matrix rows (filtered by q) once per board or
// filter change, not on every render.
func (m *Model) rebuildMatrix(q string) {
	m.list().matrix = m.list().matrix[:0]
	byKey := map[string]int{}
	for si, st := range m.board.Stages {
		for ai, a := range st.Apps {
			k := strings.TrimPrefix(strings.TrimPrefix(a.Path, st.Path), "/")
			if k == "" {
				k = a.Name
			}
			i, ok := byKey[k]
			if !ok {
				i = len(m.list().matrix)
				byKey[k] = i
				cells := make([]int, len(m.board.Stages))
				for c := range cells {
					cells[c] = -1
				}
				m.list().matrix = append(m.list().matrix, matrixRow{key: k, cells: cells})
			}
			m.list().matrix[i].cells[si] = ai
		}
	}
	if q != "" {
		kept := m.list().matrix[:0]
		for _, r := range m.list().matrix {
			if m.matrixMatch(r, q) {
				kept = append(kept, r)
			}
		}
		m.list().matrix = kept
	}
	sort.Slice(m.list().matrix, func(i, j int) bool { return m.list().matrix[i].key < m.list().matrix[j].key })
	m.list().matrixOffset = min(m.list().matrixOffset, max(0, len(m.list().matrix)-1))
}

// matrixMatch filters matrix rows by app directory or any stage's app name.
func (m *Model) matrixMatch(r matrixRow, q string) bool {
	if strings.Contains(strings.ToLower(r.key), q) {
		return true
	}
	for si, ai := range r.cells {
		if ai >= 0 && strings.Contains(strings.ToLower(m.board.Stages[si].Apps[ai].Name), q) {
			return true
		}
	}
	return false
}

func matchStage(st board.Stage, q string) bool {
	if strings.Contains(strings.ToLower(st.Name), q) {
		return true
	}
	return st.Head != nil && (strings.Contains(strings.ToLower(st.Head.Author), q) || strings.Contains(strings.ToLower(st.Head.Subject), q))
}

func matchApp(a board.App, q string) bool {
	if strings.Contains(strings.ToLower(a.Name), q) {
		return true
	}
	if a.Head != nil && (strings.Contains(strings.ToLower(a.Head.Author), q) || strings.Contains(strings.ToLower(a.Head.Subject), q)) {
		return true
	}
	for _, c := range a.Pending {
		if strings.Contains(strings.ToLower(c.Author), q) || strings.Contains(strings.ToLower(c.Subject), q) {
			return true
		}
	}
	return false
}

// listHeight is how many rows the board list shows.
func (m *Model) listHeight() int {
	// header (2) + column header (1) + footer (2)
	return max(1, m.height-5)
}

func (m *Model) clampCursor() {
	if m.list().cursor >= len(m.list().rows) {
		m.list().cursor = len(m.list().rows) - 1
	}
	if m.list().cursor < 0 {
		m.list().cursor = 0
	}
	h := m.listHeight()
	if m.list().cursor < m.list().offset {
		m.list().offset = m.list().cursor
	}
	if m.list().cursor >= m.list().offset+h {
		m.list().offset = m.list().cursor - h + 1
	}
	if m.list().offset > max(0, len(m.list().rows)-h) {
		m.list().offset = max(0, len(m.list().rows)-h)
	}
	if m.list().offset < 0 {
		m.list().offset = 0
	}
}

// findApp locates an app by stage and name.
func (m *Model) findApp(stage, app string) (*board.Stage, int) {
	if m.board == nil {
		return nil, -1
	}
	st, ok := m.board.Stage(stage)
	if !ok {
		return nil, -1
	}
	// A stage's apps are sorted by name (Collect sorts them, applyEvents
	// inserts in order, the cache and Clone keep the order): a fleet's
	// burst of events costs log n per event, not n.
	if i := sort.Search(len(st.Apps), func(i int) bool { return st.Apps[i].Name >= app }); i < len(st.Apps) && st.Apps[i].Name == app {
		return st, i
	}
	return st, -1
}

package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/gitstate"
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

func (m Model) boardLines(w, h int) []string {
	if h <= 0 {
		return nil
	}
	s := m.styles
	c := columnsFor(w)
	head := strings.Join(c.keep([]string{"  " + pad("STAGE / APP", c.name), pad("SYNC", c.sync), pad("HEALTH", c.health),
		pad("DEPLOY", c.sha), pad("HEAD", c.head), padLeft("BEHIND", c.behind), pad("MODE", c.mode)}), " ")
	if c.last > 0 {
		head += " LAST CHANGE"
	}
	lines := []string{s.ColHead.Render(head)}
	if m.board == nil {
		msg := "Loading board…"
		if m.err != nil {
			msg = "Could not load the board."
		}
		return append(lines, "", "  "+msg)
	}
	if len(m.list().rows) == 0 {
		return append(lines, "", "  "+s.Dim.Render("No stage or app matches the filter; esc clears it."))
	}
	off := m.list().offset
	end := min(len(m.list().rows), off+h-1)
	more := 0
	if end < len(m.list().rows) {
		// Say that rows are cut off, on the last line: at 60x20 PROD must
		// not just vanish.
		end--
		if m.list().cursor >= end && m.list().cursor < len(m.list().rows) {
			off, end = off+m.list().cursor-end+1, m.list().cursor+1
		}
		more = len(m.list().rows) - end
	}
	for i := off; i < end; i++ {
		r := m.list().rows[i]
		st := m.board.Stages[r.stage]
		selected := i == m.list().cursor && m.current() == screenBoard
		if r.app < 0 {
			lines = append(lines, m.stageLine(st, w, selected))
		} else {
			lines = append(lines, m.appLine(st, st.Apps[r.app], c, selected))
		}
	}
	if more > 0 {
		lines = append(lines, s.Dim.Render(fmt.Sprintf("  ↓ %d more below (j/pgdn)", more)))
	}
	return lines
}

func (m Model) stageLine(st board.Stage, w int, selected bool) string {
	s := m.styles
	fold := "▾"
	if m.list().collapsed[st.Name] && m.list().filter.Value() == "" {
		fold = "▸"
	}
	name := strings.ToUpper(st.Name)
	if st.Protected {
		name += " 🔒"
	}
	if st.CIManaged {
		name += " (ci)"
	}
	parts := []string{}
	if !m.board.GitOnly {
		if st.ArgoError != "" && !st.StaleSince.IsZero() {
			parts = append(parts, "stale "+age(m.now, st.StaleSince)+": last known state; Argo CD: "+st.ArgoError)
		} else if st.ArgoError != "" {
			parts = append(parts, "? Argo CD unknown: "+st.ArgoError)
		} else if len(st.Apps) == 0 {
			parts = append(parts, "no apps found under "+st.Path+"/")
		} else {
			sm, _ := s.syncMark(st.Sync())
			hm, _ := s.healthMark(st.Health())
			parts = append(parts, sm+" "+st.Sync()+"  "+hm+" "+st.Health(), fmt.Sprintf("%d behind", st.Behind()))
		}
	}
	if st.Head != nil {
		parts = append(parts, "head "+st.Head.ShortSHA(), fmt.Sprintf("%s %s: %s", age(m.now, st.Head.Date), st.Head.Author, st.Head.Subject))
	}
	// The gutter's › marks the cursor without colour (NO_COLOR, 16 colours).
	plain := "›" + fold + " " + name + "  " + strings.Join(parts, " · ")
	if selected {
		return s.Selected.Render(pad(plain, w))
	}
	rest := strings.Join(parts, " · ")
	if st.ArgoError != "" {
		rest = s.Unknown.Render(rest)
	}
	return " " + s.Stage.Render(fold+" "+name) + "  " + rest
}

func (m Model) appLine(st board.Stage, a board.App, c boardColumns, selected bool) string {
	s := m.styles
	sm, sst := s.syncMark(a.SyncStatus)
	hm, hst := s.healthMark(a.HealthStatus)
	syncT := pad(sm+" "+a.SyncStatus, c.sync)
	healthT := pad(hm+" "+a.HealthStatus, c.health)
	dep := gitstate.Short(a.DeployedRevision)
	if dep == "" {
		dep = "-"
	}
	headSHA := "-"
	if a.Head != nil {
		headSHA = a.Head.ShortSHA()
		// Deployed at a later commit that did not touch this app (a sync of
		// the whole repo head): DEPLOY names the commit of this path whose
		// content runs, not a commit of another stage. The detail view
		// shows the exact revision.
		switch {
		case a.Running != nil:
			dep = a.Running.ShortSHA()
		case a.DeployedRevision != "" && a.PendingCommits == 0 && !a.NotAncestor:
			dep = headSHA
		}
	}
	behind := ""
	switch {
	case a.NotAncestor:
		behind = "?"
	case a.DeployedRevision != "":
		behind = fmt.Sprint(a.PendingCommits)
	}
	mode := "manual"
	if a.AutoSync {
		mode = "auto"
	}
	pm, pst := s.phaseMark(a.OperationPhase, a.OperationRunning)
	if pm != "" {
		mode = pm + " " + map[bool]string{true: "sync", false: "fail"}[a.OperationRunning]
	}
	last := ""
	if c.last > 0 && a.Head != nil {
		last = fmt.Sprintf("%s %s: %s", age(m.now, a.Head.Date), a.Head.Author, a.Head.Subject)
	}
	cells := []string{"  " + pad(a.Name, c.name), syncT, healthT, pad(dep, c.sha), pad(headSHA, c.head), padLeft(behind, c.behind), pad(mode, c.mode)}
	if last != "" {
		cells = append(cells, last)
	}
	stale := !st.StaleSince.IsZero()
	if stale {
		cells[6] = pad("stale", c.mode) // the last known state, Argo CD unreadable
	}
	if selected {
		cells[0] = "›" + cells[0][1:]
		return s.Selected.Render(strings.Join(c.keep(cells), " "))
	}
	if stale {
		return s.Unknown.Render(strings.Join(c.keep(cells), " "))
	}
	behindStyle := s.Dim
	if a.PendingCommits > 0 || a.NotAncestor {
		behindStyle = s.Warn
	}
	modeStyle := s.Dim
	if pm != "" {
		modeStyle = pst
	}
	cells[1], cells[2] = sst.Render(syncT), hst.Render(healthT)
	cells[5], cells[6] = behindStyle.Render(cells[5]), modeStyle.Render(cells[6])
	return strings.Join(c.keep(cells), " ")
}

// matrixLines shows which revision is where: apps (by path within the
// stage) as rows, stages as columns.
func (m Model) matrixLines(w, h int) []string {
	s := m.styles
	if m.board == nil {
		return []string{"", "  Loading board…"}
	}
	nameW := 14
	n := max(1, len(m.board.Stages))
	cellW := max(9, (w-2-nameW)/n-1)
	head := "  " + pad("APP", nameW)
	for _, st := range m.board.Stages {
		t := st.Name
		if st.Protected {
			t += " 🔒"
		}
		head += " " + pad(t, cellW)
	}
	lines := []string{s.ColHead.Render(head)}
	start := min(m.list().matrixOffset, max(0, len(m.list().matrix)-1))
	for i, r := range m.list().matrix[start:] {
		if len(lines) >= h {
			break
		}
		cur := "  "
		if i == 0 {
			cur = "› " // the cursor is the top row: j/k move it
		}
		line := cur + pad(r.key, nameW)
		for si, ai := range r.cells {
			if ai < 0 {
				line += " " + s.Dim.Render(pad("·", cellW))
				continue
			}
			a := m.board.Stages[si].Apps[ai]
			mark, style := s.syncMark(a.SyncStatus)
			if a.HealthStatus == "Degraded" {
				mark, style = s.healthMark(a.HealthStatus)
			}
			if a.OperationRunning {
				mark, style = "⟳", s.Busy
			}
			txt := mark + " " + gitstate.Short(a.DeployedRevision)
			if tag := imageTag(a.Images); tag != "" && cellW-len([]rune(txt)) > 3 {
				txt += " " + tag
			}
			line += " " + style.Render(pad(txt, cellW))
		}
		lines = append(lines, line)
	}
	if len(m.list().matrix) == 0 {
		lines = append(lines, "", "  No Argo CD apps on the board (or none match the filter).")
	}
	return lines
}

func imageTag(images []string) string {
	if len(images) == 0 {
		return ""
	}
	img := images[0]
	if i := strings.LastIndex(img, ":"); i >= 0 && !strings.Contains(img[i:], "/") {
		return img[i+1:]
	}
	return ""
}

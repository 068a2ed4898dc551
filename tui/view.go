package tui

import (
	"charm.land/bubbles/v2/key"
	"fmt"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/gitstate"
	"github.com/stagedeck/stagedeck/sanitize"
)

// View renders the whole screen. It is pure: the clock comes from the model.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "stagedeck"
	return v
}

// render builds exactly height lines of at most width cells.
func (m Model) render() string {
	w, h := max(m.width, 1), max(m.height, 1)
	var lines []string
	lines = append(lines, m.headerLines(w)...)
	body := max(0, h-len(lines)-2)
	lines = append(lines, m.top().view(&m, w, body)...)
	for len(lines) < h-2 {
		lines = append(lines, "")
	}
	lines = append(lines, m.statusLine(w), m.top().footer(&m))
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if m.opts.ASCII {
			l = asciiGlyphs.Replace(l)
		}
		lines[i] = ansi.Truncate(l, w, m.ellipsis())
	}
	return strings.Join(lines, "\n")
}

func (m Model) headerLines(w int) []string {
	s := m.styles
	var badges []string
	if m.opts.Demo {
		badges = append(badges, s.Badge.Render(" DEMO "))
	}
	if m.opts.ReadOnly {
		badges = append(badges, s.BadgeWarn.Render(" READ-ONLY "))
	}
	if m.cached {
		badges = append(badges, s.BadgeWarn.Render(" cached "))
	}
	if m.board != nil && len(m.board.Overlaps) > 0 {
		badges = append(badges, s.BadgeWarn.Render(" nested stages "))
	}
	if !m.disconnected.IsZero() {
		badges = append(badges, s.BadgeWarn.Render(" stale "+board.ShortDuration(m.now.Sub(m.disconnected))+" "))
	}
	repo := "ops repo: loading"
	if m.board != nil {
		repo = fmt.Sprintf("ops %s@%s", displayURL(m.board.Repo.URL), m.board.Repo.Branch)
		if !m.board.Repo.LastFetch.IsZero() {
			repo += " · fetched " + age(m.now, m.board.Repo.LastFetch) + " ago"
		}
	}
	argoCtx := "argocd: git-only mode"
	if len(m.opts.Contexts) > 0 {
		argoCtx = "argocd " + strings.Join(m.opts.Contexts, ",")
		switch m.watch {
		case watchLive:
			argoCtx += " · live"
		case watchConnecting:
			argoCtx += " · connecting"
		case watchRetrying:
			argoCtx += fmt.Sprintf(" · reconnecting (%s)", m.backoff)
		}
	}
	left := s.Header.Render("stagedeck") + "  " + repo + " · " + argoCtx
	right := strings.Join(badges, " ")
	line1 := left
	if right != "" {
		gap := w - lipgloss.Width(left) - lipgloss.Width(right)
		if gap < 1 {
			line1 = right + " " + left
		} else {
			line1 = left + strings.Repeat(" ", gap) + right
		}
	}
	tabs := []string{"Board", "Matrix"}
	cur := 0
	if m.list().matrixMode {
		cur = 1
	}
	for i, t := range tabs {
		if i == cur {
			tabs[i] = s.Title.Render(t)
		} else {
			tabs[i] = s.Dim.Render(t)
		}
	}
	line2 := strings.Join(tabs, " │ ") + "   " + s.Dim.Render(m.summary())
	return []string{line1, line2}
}

func (m Model) summary() string {
	if m.board == nil {
		return ""
	}
	apps, out, behind := 0, 0, 0
	for _, st := range m.board.Stages {
		behind += st.Behind()
		for _, a := range st.Apps {
			apps++
			if a.SyncStatus == "OutOfSync" {
				out++
			}
		}
	}
	// "behind" counts commits not deployed, everywhere it is used.
	commits := "commits"
	if behind == 1 {
		commits = "commit"
	}
	return fmt.Sprintf("%d stages · %d apps · %d out of sync · %d %s behind", len(m.board.Stages), apps, out, behind, commits)
}

// boardColumns are the app-row column widths for a terminal width.
// boardColumns are the board's column widths; head and mode are 0 when
// the terminal is too narrow for them (dropped first, in that order).
type boardColumns struct{ name, sync, health, sha, head, behind, mode, last int }

func columnsFor(w int) boardColumns {
	c := boardColumns{name: 18, sync: 11, health: 13, sha: 7, head: 7, behind: 6, mode: 6}
	if w >= 110 {
		c.name = 24
	}
	width := func() int {
		n := 2 + c.name + 1 + c.sync + 1 + c.health + 1 + c.sha + 1 + c.behind + 1
		if c.head > 0 {
			n += c.head + 1
		}
		if c.mode > 0 {
			n += c.mode + 1
		}
		return n
	}
	// Narrow terminals drop columns by priority: MODE, then HEAD; then the
	// name column gives up what it must (never below 12).
	if width() > w {
		c.mode = 0
	}
	if width() > w {
		c.head = 0
	}
	if over := width() - w; over > 0 {
		c.name = max(12, c.name-over)
	}
	used := width()
	if rest := w - used; rest >= 14 {
		c.last = rest
	}
	return c
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

// keep drops the cells of dropped columns (HEAD is cell 4, MODE cell 6).
func (c boardColumns) keep(cells []string) []string {
	out := cells[:0:0]
	for i, cell := range cells {
		if i == 4 && c.head == 0 || i == 6 && c.mode == 0 {
			continue
		}
		out = append(out, cell)
	}
	return out
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

// helpLines lists every key; when help was opened over a screen other than
// the board, that screen's keys come first.
func (m *Model) helpLines(from screen, w, h int) []string {
	lines := []string{m.styles.Title.Render("Keys"), ""}
	if from != nil && from.id() != screenBoard && from.id() != screenMatrix && from.id() != screenHelp {
		lines = append(lines, m.styles.Header.Render("In the "+from.id().String()+" view"), "  "+ansi.Strip(from.footer(m)), "", m.styles.Header.Render("Everywhere"))
	}
	// The columns wrap to the width instead of being cut off: every key
	// shows at 60 columns too.
	var row []string
	rowW := 0
	flush := func() {
		if len(row) > 0 {
			lines = append(lines, strings.Split(lipgloss.JoinHorizontal(lipgloss.Top, row...), "\n")...)
			lines = append(lines, "")
		}
		row, rowW = nil, 0
	}
	for _, group := range m.keys.FullHelp() {
		col := m.help.FullHelpView([][]key.Binding{group}) + "   "
		cw := lipgloss.Width(col)
		if rowW+cw > w && len(row) > 0 {
			flush()
		}
		row, rowW = append(row, col), rowW+cw
	}
	flush()
	lines = append(lines, m.styles.Dim.Render("States carry a symbol as well as a colour: ✓ synced  ✗ out of sync  ? unknown"),
		m.styles.Dim.Render("♥ healthy  ◐ progressing  ✖ degraded  ∅ missing"),
		m.styles.Dim.Render("⟳ operation running  ! last sync failed"),
		m.styles.Dim.Render("🔒 protected: a sync or rollback asks you to type the stage's name"))
	return lines
}

func (m *Model) detailLines(d *detailScreen, w, h int) []string {
	s := m.styles
	if m.board == nil {
		return nil
	}
	st, ok := m.board.Stage(d.key.stage)
	if !ok {
		return []string{"", "  " + d.key.stage + " is no longer on the board. esc goes back."}
	}
	var lines []string
	add := func(l ...string) { lines = append(lines, l...) }
	commitLine := func(c gitstate.Commit) string {
		return fmt.Sprintf("  %s  %-16s %4s  %s", c.ShortSHA(), clip(c.Author, 16), age(m.now, c.Date), c.Subject)
	}
	if d.key.app == "" {
		title := "Stage " + st.Name + "  (" + st.Path + "/)"
		if st.Protected {
			title += "  🔒 protected"
		}
		add(s.Title.Render(title), "")
		for _, o := range m.board.OverlapNotes() {
			if strings.HasPrefix(o, st.Name+" ") || strings.Contains(o, " inside "+st.Name+" ") {
				add(s.Warn.Render("⚠ nested: "+o+": a change to the outer stage can change the inner one"), "")
			}
		}
		if st.Head != nil {
			add("Head      "+commitLine(*st.Head)[2:], "")
		}
		if st.ArgoError != "" {
			add(s.Error.Render("Argo CD: "+st.ArgoError), "")
		}
		add(s.Header.Render("Apps"))
		for _, a := range st.Apps {
			add(fmt.Sprintf("  %-22s %-10s %-12s deployed %s  %d behind", a.Name, a.SyncStatus, a.HealthStatus, dash(gitstate.Short(a.DeployedRevision)), a.PendingCommits))
		}
		if len(st.Apps) == 0 {
			add("  none")
		}
		add("", s.Header.Render("Pending commits (deployed..head, any app)"))
		seen := map[string]bool{}
		var all []gitstate.Commit
		for _, a := range st.Apps {
			for _, c := range a.Pending {
				if !seen[c.SHA] {
					seen[c.SHA] = true
					all = append(all, c)
				}
			}
		}
		sort.Slice(all, func(i, j int) bool { return all[i].Date.After(all[j].Date) })
		for _, c := range all {
			add(commitLine(c))
		}
		if len(all) == 0 {
			add("  none: every app is at head")
		}
	} else {
		_, i := m.findApp(st.Name, d.key.app)
		if i < 0 {
			return []string{"", "  " + d.key.app + " is no longer on the board. esc goes back."}
		}
		a := st.Apps[i]
		mode := "manual sync"
		if a.AutoSync {
			mode = "auto-sync"
		}
		add(s.Title.Render(st.Name+" / "+a.Name)+"  "+s.Dim.Render(mode+" · project "+a.Project+" · "+a.Path+"/"), "")
		sm, sst := s.syncMark(a.SyncStatus)
		hm, hst := s.healthMark(a.HealthStatus)
		add("Sync      " + sst.Render(sm+" "+a.SyncStatus) + "    Health " + hst.Render(hm+" "+a.HealthStatus))
		add("Deployed  " + dash(gitstate.Short(a.DeployedRevision)) + "    compared against " + dash(gitstate.Short(a.ComparedRevision)))
		if a.Head != nil {
			add("Head      " + commitLine(*a.Head)[2:])
		}
		if a.NotAncestor {
			add(s.Warn.Render("The deployed revision is not in " + m.board.Repo.Branch + "'s history (rewritten or foreign)."))
		}
		if len(a.Images) > 0 {
			add("Images    " + strings.Join(a.Images, ", "))
		}
		add("", s.Header.Render(fmt.Sprintf("Pending commits (%d)", a.PendingCommits)))
		for _, c := range a.Pending {
			add(commitLine(c))
		}
		if len(a.Pending) == 0 {
			add("  none")
		}
		add("", s.Header.Render("Last operation"))
		if a.OperationPhase == "" {
			add("  none")
		} else {
			pm, pst := s.phaseMark(a.OperationPhase, a.OperationRunning)
			add("  " + pst.Render(strings.TrimSpace(pm+" "+a.OperationPhase)) + "  " + a.OperationMessage)
		}
		add("", s.Header.Render("Conditions"))
		for _, c := range a.Conditions {
			add("  " + s.Warn.Render(c))
		}
		if len(a.Conditions) == 0 {
			add("  none")
		}
		add("", s.Header.Render("Deploy history (Argo CD)"))
		for j := len(a.History) - 1; j >= 0 && j >= len(a.History)-5; j-- {
			hst := a.History[j]
			add(fmt.Sprintf("  #%d  %s  %s ago", hst.ID, gitstate.Short(hst.Revision), age(m.now, hst.DeployedAt)))
		}
		if len(a.History) == 0 {
			add("  none")
		}
	}
	off := min(d.offset, max(0, len(lines)-h))
	lines = lines[off:]
	if len(lines) > h {
		lines = lines[:h]
	}
	return lines
}

func (m Model) statusLine(w int) string {
	s := m.styles
	switch {
	case m.list().filtering:
		return m.list().filter.View()
	case m.err != nil:
		return s.Error.Render("✗ " + oneLine(m.err.Error()))
	case m.list().filter.Value() != "":
		return s.Dim.Render("filter: " + m.list().filter.Value() + "  (esc clears)")
	case m.loading && m.board != nil:
		return s.Dim.Render("refreshing…")
	case m.board != nil && len(m.board.Errors) > 0:
		e := m.board.Errors[0]
		return s.Error.Render("✗ " + e.Source + ": " + oneLine(e.Message))
	}
	return ""
}

// --- small text helpers ---

func pad(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}

func padLeft(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw >= w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-sw) + s
}

func clip(s string, w int) string { return ansi.Truncate(s, w, "…") }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine is how foreign text (errors, Argo CD messages) is shown: one
// line, credentials hidden, control characters escaped.
func oneLine(s string) string {
	return sanitize.Line(sanitize.Userinfo(strings.Join(strings.Fields(s), " ")))
}

func displayURL(u string) string {
	if i := strings.Index(u, "stagedeck-demo-"); i >= 0 {
		return "demo:" + u[strings.LastIndex(u, "/")+1:]
	}
	return u
}

func age(now, t time.Time) string { return board.Age(now, t) }

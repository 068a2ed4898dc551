package tui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/stagedeck/stagedeck/board"
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
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…") // a wide rune that does not fit leaves a cell
	}
	return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
}

func padLeft(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw >= w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-sw) + s
}

func clip(s string, w int) string { return ansi.Truncate(s, w, "…") }

// widen pads s to w cells and never cuts it (fmt's %-Ns counts runes,
// not the cells a wide character takes).
func widen(s string, w int) string {
	if sw := ansi.StringWidth(s); sw < w {
		return s + strings.Repeat(" ", w-sw)
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine is how foreign text (errors, Argo CD messages) is shown: one
// line, credentials hidden, control characters escaped.
func oneLine(s string) string {
	return sanitize.Line(strings.Join(strings.Fields(s), " "))
}

func displayURL(u string) string {
	if i := strings.Index(u, "stagedeck-demo-"); i >= 0 {
		return "demo:" + u[strings.LastIndex(u, "/")+1:]
	}
	return u
}

func age(now, t time.Time) string { return board.Age(now, t) }

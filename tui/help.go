package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// pushHelp opens the keys, those of the current screen first.
func (m *Model) pushHelp() { m.push(&helpScreen{}) }

// helpScreen lists the keys: the screen's own first, then every key.
type helpScreen struct{}

func (*helpScreen) id() screenID { return screenHelp }

func (*helpScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Help), key.Matches(k, m.keys.Back):
		m.pop()
	case k.String() == "q":
		m.popToList()
	}
	return nil
}

func (*helpScreen) view(m *Model, w, h int) []string {
	var from screen
	if len(m.stack) > 1 {
		from = m.stack[len(m.stack)-2]
	}
	return m.helpLines(from, w, h)
}

func (*helpScreen) footer(m *Model) string {
	return m.styles.Footer.Render("? or esc back · ctrl+c quit")
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

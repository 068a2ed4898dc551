package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// pickScreen chooses the stage to compare the selected one with.
type pickScreen struct {
	from   rowKey
	cursor int
}

func (m *Model) openPicker() {
	if m.board == nil || m.list().cursor >= len(m.list().rows) {
		return
	}
	m.push(&pickScreen{from: m.selected()})
}

func (*pickScreen) id() screenID { return screenPick }

func (p *pickScreen) choices(m *Model) []string {
	var out []string
	for _, st := range m.board.Stages {
		if st.Name != p.from.stage {
			out = append(out, st.Name)
		}
	}
	return out
}

func (p *pickScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	if m.backKey(k) {
		return nil
	}
	choices := p.choices(m)
	switch {
	case key.Matches(k, m.keys.Down):
		p.cursor = min(p.cursor+1, len(choices)-1)
	case key.Matches(k, m.keys.Up):
		p.cursor = max(p.cursor-1, 0)
	case key.Matches(k, m.keys.Enter) && len(choices) > 0:
		return m.openCompare(p.from, choices[p.cursor])
	}
	return nil
}

func (*pickScreen) footer(m *Model) string {
	return m.styles.Footer.Render("↑/↓ choose · enter compare · esc back")
}

func (p *pickScreen) view(m *Model, w, h int) []string {
	s := m.styles
	what := p.from.stage
	if p.from.app != "" {
		what += " / " + p.from.app
	}
	lines := []string{s.Title.Render("Compare " + what + " with…"), s.Dim.Render("The diff shows what promoting " + p.from.stage + " into the chosen stage would change."), ""}
	for i, c := range p.choices(m) {
		mark := "  "
		if i == p.cursor {
			mark = "› "
			lines = append(lines, s.Selected.Render(mark+c))
			continue
		}
		lines = append(lines, mark+c)
	}
	return lines
}

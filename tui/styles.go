package tui

import (
	"image/color"
	"strings"

	"charm.land/lipgloss/v2"
)

// Styles are built once from the terminal's background; no style globals.
type Styles struct {
	Header, Badge, BadgeWarn, Footer, Error, Dim, Title, Selected, Stage, ColHead lipgloss.Style
	Good, Warn, Bad, Busy, Unknown                                                lipgloss.Style
}

// NewStyles picks colours that read on a dark or light background. Colour
// only reinforces state: every state also has its own symbol.
func NewStyles(dark bool) Styles {
	ld := lipgloss.LightDark(dark)
	c := func(light, darkC string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(darkC)) }
	return Styles{
		Header:    lipgloss.NewStyle().Bold(true),
		Badge:     lipgloss.NewStyle().Bold(true).Foreground(c("#ffffff", "#000000")).Background(c("#5a56e0", "#9b97ff")),
		BadgeWarn: lipgloss.NewStyle().Bold(true).Foreground(c("#ffffff", "#000000")).Background(c("#c4391d", "#ff8a65")),
		Footer:    lipgloss.NewStyle().Foreground(c("#6b6b6b", "#8a8a8a")),
		Error:     lipgloss.NewStyle().Foreground(c("#c4391d", "#ff6e5a")),
		Dim:       lipgloss.NewStyle().Foreground(c("#8a8a8a", "#6b6b6b")),
		Title:     lipgloss.NewStyle().Bold(true).Underline(true),
		Selected:  lipgloss.NewStyle().Reverse(true),
		Stage:     lipgloss.NewStyle().Bold(true),
		ColHead:   lipgloss.NewStyle().Bold(true).Foreground(c("#6b6b6b", "#a0a0a0")),
		Good:      lipgloss.NewStyle().Foreground(c("#1a7f37", "#56d364")),
		Warn:      lipgloss.NewStyle().Foreground(c("#9a6700", "#e3b341")),
		Bad:       lipgloss.NewStyle().Foreground(c("#c4391d", "#ff6e5a")),
		Busy:      lipgloss.NewStyle().Foreground(c("#0969da", "#58a6ff")),
		Unknown:   lipgloss.NewStyle().Foreground(c("#6b6b6b", "#8a8a8a")),
	}
}

// syncMark is the symbol and style of a sync status.
func (s Styles) syncMark(status string) (string, lipgloss.Style) {
	switch status {
	case "Synced":
		return "✓", s.Good
	case "OutOfSync":
		return "✗", s.Warn
	case "":
		return " ", s.Dim
	}
	return "?", s.Unknown
}

// healthMark is the symbol and style of a health status.
func (s Styles) healthMark(status string) (string, lipgloss.Style) {
	switch status {
	case "Healthy":
		return "♥", s.Good
	case "Progressing":
		return "◐", s.Busy
	case "Degraded":
		return "✖", s.Bad
	case "Suspended":
		return "‖", s.Warn
	case "Missing":
		return "∅", s.Warn
	case "":
		return " ", s.Dim
	}
	return "?", s.Unknown
}

// phaseMark marks a running or failed operation.
func (s Styles) phaseMark(phase string, running bool) (string, lipgloss.Style) {
	switch {
	case running:
		return "⟳", s.Busy
	case phase == "Failed" || phase == "Error":
		return "!", s.Bad
	}
	return "", s.Dim
}

// asciiGlyphs stands in for the console's symbols where the locale is not
// UTF-8. Every state keeps its own mark.
var asciiGlyphs = strings.NewReplacer(
	"✓", "+", "✗", "x", "♥", "*", "◐", "%", "✖", "X", "‖", "|", "∅", "0", "⟳", "@",
	"🔒", "[P]", "▾", "v", "▸", ">", "›", ">", "●", "#", "◦", "o", "○", "_", "·", "-", "│", "|",
	"•", "*", "…", "~", "↓", "v", "↑", "^", "→", "->", "⚠", "!", "←", "<",
)

// ellipsis marks a cut line.
func (m Model) ellipsis() string {
	if m.opts.ASCII {
		return "~"
	}
	return "…"
}

package tui

import "charm.land/bubbles/v2/key"

// keyMap is every binding of the console; it implements help.KeyMap.
type keyMap struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Enter, Back, Filter, Refresh, Hard      key.Binding
	Tab, Collapse, Help, Quit               key.Binding
	Diff, Compare, NextCommit, PrevCommit   key.Binding
	Pager, Sync, History, Timeline          key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Up:         key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:       key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		Top:        key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:     key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		PageUp:     key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:   key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Enter:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail")),
		Back:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back/clear")),
		Filter:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Refresh:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		Hard:       key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "hard refresh")),
		Tab:        key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "board/matrix")),
		Collapse:   key.NewBinding(key.WithKeys("space", "left", "right"), key.WithHelp("space", "fold stage")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "keys")),
		Quit:       key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Diff:       key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "diff")),
		Compare:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "compare stages")),
		NextCommit: key.NewBinding(key.WithKeys("n", "]"), key.WithHelp("n/p", "next/prev commit")),
		PrevCommit: key.NewBinding(key.WithKeys("p", "["), key.WithHelp("p", "previous commit")),
		Pager:      key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open in a pager")),
		Sync:       key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sync")),
		History:    key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "history")),
		Timeline:   key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "timeline")),
	}
}

// ShortHelp is the footer line.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Diff, k.Sync, k.History, k.Timeline, k.Filter, k.Help, k.Quit}
}

// FullHelp is the ? screen.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown},
		{k.Enter, k.Back, k.Filter, k.Collapse, k.Tab},
		{k.Diff, k.Compare, k.NextCommit, k.Pager, k.Sync, k.History, k.Timeline},
		{k.Refresh, k.Hard, k.Help, k.Quit},
	}
}

package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// screenID names a screen: for the help title and for tests.
type screenID int

const (
	screenBoard screenID = iota
	screenMatrix
	screenDetail
	screenHelp
	screenDiff
	screenPick
	screenSync
	screenHistory
	screenTimeline
)

func (s screenID) String() string {
	return [...]string{"board", "matrix", "detail", "help", "diff", "pick", "sync", "history", "timeline"}[s]
}

// screen is one view of the console, in its own file: its own state,
// Update, View and keys. It reads the shared board through the root and
// asks the root to push or pop screens; it never does I/O itself.
type screen interface {
	id() screenID
	// update handles one message. Keys reach the top screen only; other
	// messages every screen on the stack, which ignores what is not its own
	// (replies carry the generation of the screen that asked).
	update(m *Model, msg tea.Msg) tea.Cmd
	// view renders the body between the header and the status line.
	view(m *Model, w, h int) []string
	// footer is the screen's key hint (also shown at the top of its help).
	footer(m *Model) string
}

// top is the screen shown.
func (m *Model) top() screen { return m.stack[len(m.stack)-1] }

// current names the screen shown.
func (m *Model) current() screenID { return m.top().id() }

// list is the board and matrix at the bottom of the stack.
func (m *Model) list() *listScreen { return m.stack[0].(*listScreen) }

// push opens s over the current screen (a copy of the stack: older models
// never see it change).
func (m *Model) push(s screen) {
	m.stack = append(m.stack[:len(m.stack):len(m.stack)], s)
}

// pop closes the top screen; the board stays.
func (m *Model) pop() {
	if len(m.stack) > 1 {
		m.stack = m.stack[: len(m.stack)-1 : len(m.stack)-1]
	}
}

// popToList closes every screen over the board.
func (m *Model) popToList() { m.stack = m.stack[:1:1] }

// replace swaps the top screen for s: the picker becomes the diff it chose.
func (m *Model) replace(s screen) {
	m.pop()
	m.push(s)
}

// nextGen numbers a request; the reply carrying it is the only one its
// screen accepts.
func (m *Model) nextGen() int {
	m.seq++
	return m.seq
}

// findScreen is the topmost screen of type T on the stack.
func findScreen[T screen](m *Model) (T, bool) {
	for i := len(m.stack) - 1; i >= 0; i-- {
		if s, ok := m.stack[i].(T); ok {
			return s, true
		}
	}
	var zero T
	return zero, false
}

// backKey handles the keys every screen over the board shares: q to the
// board, ? to the keys, esc back one screen. It reports whether k was one.
func (m *Model) backKey(k tea.KeyPressMsg) bool {
	switch {
	case k.String() == "q":
		m.popToList()
	case key.Matches(k, m.keys.Help):
		m.pushHelp()
	case key.Matches(k, m.keys.Back):
		m.pop()
	default:
		return false
	}
	return true
}

package tui

import (
	"context"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/gitstate"
)

// timelineScreen is a stage's (or app's) commits and deploys, newest first:
// what changed in prod in the last two hours.
type timelineScreen struct {
	stage, app, path string
	events           []board.Event
	loading          bool
	err              error
	offset           int
	gen              int
}

type timelineLoadedMsg struct {
	gen     int
	commits []gitstate.Commit
	err     error
}

func timelineCmd(ctx context.Context, r Rollbacker, path string, gen int) tea.Cmd {
	return func() tea.Msg {
		cs, err := r.History(ctx, path, historyLimit)
		return timelineLoadedMsg{gen: gen, commits: board.CleanCommits(cs), err: err}
	}
}

// openTimeline opens the timeline of the selected stage or app.
func (m *Model) openTimeline() tea.Cmd {
	if m.board == nil || m.list().cursor >= len(m.list().rows) || m.opts.Rollback == nil {
		return nil
	}
	k := m.selected()
	st, _ := m.board.Stage(k.stage)
	path := st.Path
	if k.app != "" {
		if _, i := m.findApp(st.Name, k.app); i >= 0 {
			path = st.Apps[i].Path
		}
	}
	t := &timelineScreen{stage: st.Name, app: k.app, path: path, loading: true, gen: m.nextGen()}
	m.push(t)
	return timelineCmd(m.ctx, m.opts.Rollback, path, t.gen)
}

func (*timelineScreen) id() screenID { return screenTimeline }

func (*timelineScreen) footer(m *Model) string {
	return m.styles.Footer.Render("↑/↓ pgup/pgdn scroll · esc back · ctrl+c quit")
}

func (t *timelineScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case timelineLoadedMsg:
		if msg.gen != t.gen {
			return nil
		}
		t.loading, t.err = false, msg.err
		if st, ok := m.board.Stage(t.stage); ok {
			t.events = board.Timeline(*st, t.app, msg.commits, time.Time{})
		}
	case tea.KeyPressMsg:
		t.updateKey(m, msg)
	}
	return nil
}

func (t *timelineScreen) updateKey(m *Model, msg tea.KeyPressMsg) {
	page := max(1, m.height-8)
	switch msg.String() {
	case "?":
		m.pushHelp()
		return
	case "j", "down":
		t.offset++
	case "k", "up":
		t.offset--
	case "pgdown", "ctrl+f":
		t.offset += page
	case "pgup", "ctrl+b":
		t.offset -= page
	case "g", "home":
		t.offset = 0
	case "G", "end":
		t.offset = len(t.events)
	case "esc", "q":
		m.pop()
		return
	}
	t.offset = max(0, min(t.offset, len(t.events)-page))
}

func (t *timelineScreen) view(m *Model, w, h int) []string {
	s := m.styles
	what := t.stage
	if t.app != "" {
		what += " / " + t.app
	}
	lines := []string{s.Title.Render("Timeline of "+what) + s.Dim.Render("  commits on "+t.path+"/ and Argo CD deploys · newest first")}
	switch {
	case t.loading:
		return append(lines, "", "  Loading…")
	case t.err != nil:
		return append(lines, "", s.Error.Render("  "+oneLine(t.err.Error())))
	case len(t.events) == 0:
		return append(lines, "", "  Nothing yet.")
	}
	lines = append(lines, s.Dim.Render(clip("  TIME              AGE   KIND    REV      WHAT", w)))
	room := max(1, h-len(lines))
	for _, e := range t.events[min(t.offset, len(t.events)):min(len(t.events), t.offset+room)] {
		kind, what := s.Dim.Render("commit"), firstWord(e.Author)+": "+e.Subject
		if e.Kind == board.EventDeploy {
			by := e.InitiatedBy
			if by == "" {
				by = "unknown"
			}
			kind, what = s.Good.Render("deploy"), e.App+" deployed by "+by
			if e.Reason != "" {
				what += ": " + e.Reason
			}
		}
		lines = append(lines, clip(fmt.Sprintf("  %s  %-4s  %s  %s  %s", e.Time.In(m.now.Location()).Format("2006-01-02 15:04"), age(m.now, e.Time), kind, gitstate.Short(e.Revision), what), w))
	}
	return lines
}

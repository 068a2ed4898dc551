package tui

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/stagedeck/stagedeck/gitstate"
)

// detailScreen is everything known of one stage or app.
type detailScreen struct {
	key    rowKey
	offset int
}

func (*detailScreen) id() screenID { return screenDetail }

func (d *detailScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	if m.backKey(k) {
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Down):
		d.offset++
	case key.Matches(k, m.keys.Up):
		d.offset = max(0, d.offset-1)
	case key.Matches(k, m.keys.Top):
		d.offset = 0
	case key.Matches(k, m.keys.Refresh):
		return m.startRefresh(refreshArgo)
	}
	return nil
}

func (d *detailScreen) view(m *Model, w, h int) []string { return m.detailLines(d, w, h) }

func (*detailScreen) footer(m *Model) string {
	return m.styles.Footer.Render("esc back · ↑/↓ scroll · r refresh · q back · ctrl+c quit")
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
		return fmt.Sprintf("  %s  %s %4s  %s", c.ShortSHA(), pad(c.Author, 16), age(m.now, c.Date), c.Subject)
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
			add(fmt.Sprintf("  %s %s %s deployed %s  %d behind", widen(a.Name, 22), widen(a.SyncStatus, 10), widen(a.HealthStatus, 12), dash(gitstate.Short(a.DeployedRevision)), a.PendingCommits))
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
		if len(a.MorePaths) > 0 {
			add("Sources   " + strings.Join(a.MorePaths, ", ") + s.Dim.Render("  (its other sources in the ops repository)"))
		}
		if len(a.LinkedPaths) > 0 {
			add("Links to  " + strings.Join(a.LinkedPaths, ", ") + s.Dim.Render("  (read through symbolic links: pending and protected as its own)"))
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

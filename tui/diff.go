package tui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/gitstate"
	"github.com/stagedeck/stagedeck/patch"
	"github.com/stagedeck/stagedeck/review"
)

// diffKind says what the diff screen compares.
type diffKind int

const (
	diffPending diffKind = iota // deployed..head, or one commit
	diffCompare                 // two stage directories at head
)

// diffTab is the pending diff's tab.
type diffTab int

const (
	tabConfig diffTab = iota
	tabManifests
)

func (t diffTab) String() string { return [...]string{"Config (git)", "Manifests (Argo CD)"}[t] }

// diffScreen is the state of the diff view; its text is split into lines
// once, and only the visible window is drawn.
type diffScreen struct {
	kind     diffKind
	title    string
	targets  []review.Target
	head     string
	commits  []gitstate.Commit // pending, newest first
	sel      int               // 0 = the whole range; i = commits[i-1]
	tab      diffTab
	dirA     string // compare: promote dirA ...
	dirB     string // ... into dirB
	lines    []string
	text     string
	offset   int
	loading  bool
	err      error
	gen      int
	external string // STAGEDECK_DIFF_PAGER
	// fromHistory: opened on a commit of the history; esc goes back there.
	fromHistory bool
}

type diffLoadedMsg struct {
	gen  int
	text string
	err  error
}

type pagerDoneMsg struct{ err error }

func pendingDiffCmd(ctx context.Context, src DiffSource, req review.Request, gen int) tea.Cmd {
	return func() tea.Msg {
		text, err := src.PendingDiff(ctx, req)
		return diffLoadedMsg{gen: gen, text: text, err: err}
	}
}

func compareDiffCmd(ctx context.Context, src DiffSource, head, a, b string, gen int) tea.Cmd {
	return func() tea.Msg {
		text, err := src.CompareDiff(ctx, head, a, b)
		return diffLoadedMsg{gen: gen, text: text, err: err}
	}
}

func manifestDiffCmd(ctx context.Context, src DiffSource, targets []review.Target, gen int) tea.Cmd {
	return func() tea.Msg {
		text, err := src.ManifestDiff(ctx, targets)
		return diffLoadedMsg{gen: gen, text: text, err: err}
	}
}

// targetsOf turns the selected row into diff targets and its pending commits.
func targetsOf(st board.Stage, app string) ([]review.Target, []gitstate.Commit) {
	var out []review.Target
	seen := map[string]bool{}
	var commits []gitstate.Commit
	for _, a := range st.Apps {
		if app != "" && a.Name != app {
			continue
		}
		out = append(out, review.TargetOf(st.Name, a))
		for _, c := range a.Pending {
			if !seen[c.SHA] {
				seen[c.SHA] = true
				commits = append(commits, c)
			}
		}
	}
	if len(out) == 0 {
		out = append(out, review.Target{Stage: st.Name, App: st.Name, Path: st.Path})
	}
	sort.SliceStable(commits, func(i, j int) bool { return commits[i].Date.After(commits[j].Date) })
	return out, commits
}

// openDiff opens the pending diff of the selected row.
func (m *Model) openDiff() tea.Cmd {
	if m.board == nil || m.list().cursor >= len(m.list().rows) || m.opts.Diff == nil {
		return nil
	}
	k := m.selected()
	st, _ := m.board.Stage(k.stage)
	targets, commits := targetsOf(*st, k.app)
	title := "Pending on " + st.Name
	if k.app != "" {
		title += " / " + k.app
	}
	d := &diffScreen{
		kind: diffPending, title: title, targets: targets, head: m.board.Repo.Head, commits: commits,
		loading: true, gen: m.nextGen(), external: m.opts.Pager,
	}
	m.push(d)
	return pendingDiffCmd(m.ctx, m.opts.Diff, review.Request{Targets: targets, Head: d.head}, d.gen)
}

// openCommitDiff shows one commit's changes under path, from the history.
func (m *Model) openCommitDiff(stage, app, path string, c gitstate.Commit) tea.Cmd {
	targets := []review.Target{{Stage: stage, App: app, Path: path}}
	if app == "" {
		targets[0].App = stage
	}
	d := &diffScreen{
		kind: diffPending, title: "Commit " + c.ShortSHA() + " " + c.Subject, targets: targets, head: m.board.Repo.Head,
		commits: []gitstate.Commit{c}, sel: 1, loading: true, gen: m.nextGen(), external: m.opts.Pager, fromHistory: true,
	}
	m.push(d)
	return pendingDiffCmd(m.ctx, m.opts.Diff, review.Request{Targets: targets, Head: d.head, Commit: c.SHA}, d.gen)
}

// openCompare replaces the picker with the comparison of its stage (or
// app) with another.
func (m *Model) openCompare(k rowKey, other string) tea.Cmd {
	st, ok1 := m.board.Stage(k.stage)
	ot, ok2 := m.board.Stage(other)
	if !ok1 || !ok2 || m.opts.Diff == nil {
		return nil
	}
	dirA, dirB := st.Path, ot.Path
	title := fmt.Sprintf("Promote %s → %s", st.Name, ot.Name)
	if k.app != "" {
		if _, i := m.findApp(st.Name, k.app); i >= 0 {
			rel := strings.TrimPrefix(strings.TrimPrefix(st.Apps[i].Path, st.Path), "/")
			dirA, dirB = st.Path+"/"+rel, ot.Path+"/"+rel
			title += " (" + rel + ")"
		}
	}
	d := &diffScreen{kind: diffCompare, title: title, head: m.board.Repo.Head, dirA: dirA, dirB: dirB, loading: true, gen: m.nextGen(), external: m.opts.Pager}
	m.replace(d)
	return compareDiffCmd(m.ctx, m.opts.Diff, d.head, dirA, dirB, d.gen)
}

func (*diffScreen) id() screenID { return screenDiff }

// reload fetches the diff for the current commit selection or tab.
func (d *diffScreen) reload(m *Model) tea.Cmd {
	d.gen, d.loading, d.err, d.offset = m.nextGen(), true, nil, 0
	if d.tab == tabManifests {
		return manifestDiffCmd(m.ctx, m.opts.Diff, d.targets, d.gen)
	}
	req := review.Request{Targets: d.targets, Head: d.head}
	if d.sel > 0 {
		req.Commit = d.commits[d.sel-1].SHA
	}
	return pendingDiffCmd(m.ctx, m.opts.Diff, req, d.gen)
}

func (d *diffScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case diffLoadedMsg:
		if msg.gen == d.gen { // else the selection or tab changed since
			d.loading, d.err, d.text = false, msg.err, msg.text
			d.lines = strings.Split(strings.TrimRight(msg.text, "\n"), "\n")
		}
		return nil
	case tea.KeyPressMsg:
		return d.updateKey(m, msg)
	}
	return nil
}

func (d *diffScreen) updateKey(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case m.backKey(msg): // esc goes to the history when opened from there
		return nil
	case key.Matches(msg, k.Sync):
		app := ""
		if len(d.targets) == 1 && d.targets[0].App != d.targets[0].Stage {
			app = d.targets[0].App
		}
		// A commit's diff opened from history is not a pending diff:
		// s there would sync the stage to head, which nobody reviewed.
		if d.kind == diffPending && len(d.targets) > 0 && !d.fromHistory {
			return m.openSync(d.targets[0].Stage, app, d.head)
		}
	}
	page := max(1, m.height-7)
	switch {
	case key.Matches(msg, k.Down):
		d.offset++
	case key.Matches(msg, k.Up):
		d.offset--
	case key.Matches(msg, k.PageDown):
		d.offset += page
	case key.Matches(msg, k.PageUp):
		d.offset -= page
	case key.Matches(msg, k.Top):
		d.offset = 0
	case key.Matches(msg, k.Bottom):
		d.offset = len(d.lines)
	case key.Matches(msg, k.NextCommit) && d.kind == diffPending && d.tab == tabConfig && len(d.commits) > 0:
		d.sel = (d.sel + 1) % (len(d.commits) + 1)
		return d.reload(m)
	case key.Matches(msg, k.PrevCommit) && d.kind == diffPending && d.tab == tabConfig && len(d.commits) > 0:
		d.sel = (d.sel + len(d.commits)) % (len(d.commits) + 1)
		return d.reload(m)
	case key.Matches(msg, k.Tab) && d.kind == diffPending && len(m.opts.Contexts) > 0:
		d.tab = 1 - d.tab
		return d.reload(m)
	case key.Matches(msg, k.Pager) && d.external != "" && !d.loading:
		return pagerCmd(d.external, d.text)
	}
	d.offset = max(0, min(d.offset, len(d.lines)-page))
	return nil
}

func (d *diffScreen) footer(m *Model) string {
	// Every footer fits 80 columns: the rest is under ?.
	hint := "esc back · ↑/↓ scroll"
	if d.kind == diffPending && !d.fromHistory {
		hint += " · n/p commit · tab manifests"
	}
	if d.external != "" {
		hint += " · o pager"
	}
	return m.styles.Footer.Render(hint + " · ? keys")
}

// credentialVars are never passed to a child process: a pager has no use
// for the Argo CD token, the git token or the SSH agent.
var credentialVars = []string{"ARGOCD_AUTH_TOKEN", "STAGEDECK_GIT_TOKEN", "SSH_AUTH_SOCK", "STAGEDECK_SSH_KEY_PASSPHRASE", "ARGOCD_OPTS"}

// PagerEnv is env without the credential variables.
func PagerEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(credentialVars, k) {
			out = append(out, kv)
		}
	}
	return out
}

// pagerCmd hands the redacted diff to STAGEDECK_DIFF_PAGER: argv split on
// spaces, no shell; Bubble Tea releases the terminal and restores it after.
func pagerCmd(pager, text string) tea.Cmd {
	argv := strings.Fields(pager)
	if len(argv) == 0 {
		return nil
	}
	c := exec.Command(argv[0], argv[1:]...)
	c.Stdin = strings.NewReader(text)
	c.Env = PagerEnv(os.Environ())
	return tea.ExecProcess(c, func(err error) tea.Msg { return pagerDoneMsg{err: err} })
}

func (d *diffScreen) view(m *Model, w, h int) []string {
	s := m.styles
	var lines []string
	title := s.Title.Render(d.title)
	if d.kind == diffPending {
		tabs := []string{tabConfig.String()}
		if len(m.opts.Contexts) > 0 {
			tabs = append(tabs, tabManifests.String())
		}
		for i := range tabs {
			if diffTab(i) == d.tab {
				tabs[i] = s.Header.Render("[" + tabs[i] + "]")
			} else {
				tabs[i] = s.Dim.Render(tabs[i])
			}
		}
		title += "   " + strings.Join(tabs, " ")
	}
	title += s.Dim.Render("   head " + gitstate.Short(d.head))
	lines = append(lines, title)
	if d.kind == diffPending && d.tab == tabConfig {
		sel := fmt.Sprintf("All %d pending commits (deployed..head)", len(d.commits))
		if len(d.commits) == 0 {
			sel = "No pending commits"
		}
		if d.sel > 0 {
			c := d.commits[d.sel-1]
			sel = fmt.Sprintf("Commit %d/%d  %s  %s  %s ago  %s", d.sel, len(d.commits), c.ShortSHA(), c.Author, age(m.now, c.Date), c.Subject)
		}
		lines = append(lines, s.Dim.Render("n/p ")+sel)
		for i, c := range d.commits {
			if len(lines) >= 2+min(5, h/4) {
				lines = append(lines, s.Dim.Render(fmt.Sprintf("    … %d more", len(d.commits)-i)))
				break
			}
			mark := "  "
			if d.sel == i+1 {
				mark = "› "
			}
			lines = append(lines, s.Dim.Render(fmt.Sprintf("  %s%s %s %4s  %s", mark, c.ShortSHA(), pad(c.Author, 14), age(m.now, c.Date), c.Subject)))
		}
	}
	switch {
	case d.loading:
		return append(lines, "", "  Loading diff…")
	case d.err != nil:
		return append(lines, "", s.Error.Render("  "+oneLine(d.err.Error())))
	case len(d.lines) == 0 || strings.TrimSpace(d.text) == "":
		return append(lines, "", "  No differences.")
	}
	room := h - len(lines)
	if room <= 0 {
		return lines
	}
	off := max(0, min(d.offset, len(d.lines)-room))
	end := min(len(d.lines), off+room)
	for _, l := range d.lines[off:end] {
		lines = append(lines, m.colorDiffLine(l, w))
	}
	return lines
}

// colorDiffLine colours a unified-diff line; in YAML lines the key is bold.
func (m Model) colorDiffLine(l string, w int) string {
	s := m.styles
	l = clip(strings.ReplaceAll(l, "\t", "    "), w)
	switch patch.Classify(l) {
	case patch.LineAdd:
		return yamlKey(l, s.Good.Bold(true), s.Good)
	case patch.LineDelete:
		return yamlKey(l, s.Bad.Bold(true), s.Bad)
	case patch.LineHunk:
		return s.Busy.Render(l)
	case patch.LineFile:
		return s.Header.Render(l)
	case patch.LineBinary:
		return s.Warn.Render(l)
	}
	if strings.HasPrefix(l, "#") {
		return s.Dim.Render(l)
	}
	return l
}

type renderer interface{ Render(...string) string }

func yamlKey(l string, keyStyle, rest renderer) string {
	if i := strings.Index(l, ": "); i > 0 && !strings.ContainsAny(l[1:i], "\"'{[") {
		return keyStyle.Render(l[:i+1]) + rest.Render(l[i+1:])
	}
	if strings.HasSuffix(l, ":") && !strings.ContainsAny(l[1:], " \"'") {
		return keyStyle.Render(l)
	}
	return rest.Render(l)
}

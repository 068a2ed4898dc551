package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/gitstate"
	"github.com/stagedeck/stagedeck/patch"
	"github.com/stagedeck/stagedeck/sanitize"
)

// Rollbacker reads a path's history and rolls a stage back by a new commit.
type Rollbacker interface {
	History(ctx context.Context, path string, limit int) ([]gitstate.Commit, error)
	PrepareRollback(ctx context.Context, rb gitstate.Rollback) (*gitstate.Plan, error)
	PublishRollback(ctx context.Context, plan *gitstate.Plan, rb gitstate.Rollback) (gitstate.PublishResult, error)
}

// rollbackPhase is where the history/rollback flow is.
type rollbackPhase int

const (
	rbPick rollbackPhase = iota
	rbReason
	rbPreparing
	rbPreview
	rbConfirm
	rbPushing
	rbDone
)

// historyLimit is how many commits the history view lists.
const historyLimit = 200

type rollbackScreen struct {
	stage, app, path string
	auto             bool
	touched          []board.Stage // every stage whose files the prepared commit changes
	apps             []board.App   // the apps whose directories the commit changes: the sync after it
	also             []string      // commits those apps would deploy besides the rollback
	syncWhenSeen     bool          // s pressed before the board saw the pushed commit
	commits          []gitstate.Commit
	cursor, offset   int
	loading          bool
	err              error
	phase            rollbackPhase
	restore          bool // restore-to instead of revert
	target           gitstate.Commit
	reason           reasonInput
	confirm          nameConfirm
	rb               gitstate.Rollback
	plan             *gitstate.Plan
	lines            []string
	result           gitstate.PublishResult
	gen              int
}

type historyLoadedMsg struct {
	gen     int
	commits []gitstate.Commit
	err     error
}

type rollbackPreparedMsg struct {
	gen  int
	plan *gitstate.Plan
	err  error
}

type rollbackPublishedMsg struct {
	gen int
	res gitstate.PublishResult
	err error
}

func historyCmd(ctx context.Context, r Rollbacker, path string, gen int) tea.Cmd {
	return func() tea.Msg {
		cs, err := r.History(ctx, path, historyLimit)
		return historyLoadedMsg{gen: gen, commits: board.CleanCommits(cs), err: err}
	}
}

func prepareRollbackCmd(ctx context.Context, r Rollbacker, rb gitstate.Rollback, gen int) tea.Cmd {
	return func() tea.Msg {
		p, err := r.PrepareRollback(ctx, rb)
		return rollbackPreparedMsg{gen: gen, plan: p, err: err}
	}
}

func publishRollbackCmd(ctx context.Context, r Rollbacker, plan *gitstate.Plan, rb gitstate.Rollback, gen int) tea.Cmd {
	return func() tea.Msg {
		res, err := r.PublishRollback(ctx, plan, rb)
		return rollbackPublishedMsg{gen: gen, res: res, err: err}
	}
}

func (m *Model) openHistory() tea.Cmd {
	if m.board == nil || m.list().cursor >= len(m.list().rows) || m.opts.Rollback == nil {
		return nil
	}
	k := m.selected()
	st, _ := m.board.Stage(k.stage)
	path := st.Path
	auto := false
	for _, a := range st.Apps {
		if k.app == "" || a.Name == k.app {
			auto = auto || a.AutoSync
			if k.app != "" {
				path = a.Path
			}
		}
	}
	reason := newReasonInput("Reason (required): ", "why, e.g. INC-42 checkout errors", true)
	r := &rollbackScreen{stage: st.Name, app: k.app, path: path, auto: auto,
		loading: true, reason: reason, gen: m.nextGen()}
	m.push(r)
	return historyCmd(m.ctx, m.opts.Rollback, path, r.gen)
}

func (*rollbackScreen) id() screenID { return screenHistory }

func (r *rollbackScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if msg.String() == "?" && (r.phase == rbPick || r.phase == rbPreview || r.phase == rbDone) {
			m.pushHelp()
			return nil
		}
		return r.updateKey(m, msg)
	case historyLoadedMsg:
		if msg.gen == r.gen {
			r.loading, r.err, r.commits = false, msg.err, msg.commits
			// The cursor starts on what runs now: the commit to revert is
			// usually that one, not the newest.
			for i, mk := range r.marks(m) {
				if mk == markLive {
					r.cursor = i
					break
				}
			}
		}
		return nil
	case rollbackPreparedMsg:
		if msg.gen != r.gen {
			return nil
		}
		if msg.err != nil {
			r.phase, r.err = rbPick, msg.err
			return nil
		}
		r.plan, r.phase, r.offset = msg.plan, rbPreview, 0
		// Protection follows the files the commit changes.
		r.touched = m.board.Touching(msg.plan.Paths())
		r.confirm = newNameConfirm(board.Protected(r.touched)...)
		// The sync after it goes to the apps it changes, and only those.
		r.apps, r.also = m.syncAfterRollback(r.stage, msg.plan.Paths(), r.rb, "")
		// The whole commit message (Reason and Operator lines included),
		// then the exact diff, scrolled together.
		r.lines = nil
		for _, l := range strings.Split(strings.TrimRight(msg.plan.Message, "\n"), "\n") {
			r.lines = append(r.lines, "    "+sanitize.Line(l))
		}
		r.lines = append(r.lines, "")
		r.lines = append(r.lines, strings.Split(strings.TrimRight(patch.Unified(msg.plan.Pairs, 3), "\n"), "\n")...)
		return nil
	case rollbackPublishedMsg:
		if msg.gen != r.gen {
			return nil
		}
		if msg.err != nil {
			r.phase, r.err = rbPreview, msg.err
			return nil
		}
		r.result, r.phase = msg.res, rbDone
		// Fetch so the board (and a sync preview) sees the new commit.
		return m.startRefresh(refreshNow)
	}
	return nil
}

// boardSeen opens the sync after a push once the board has seen the pushed
// commit, when s was pressed before it had.
func (r *rollbackScreen) boardSeen(m *Model) tea.Cmd {
	if r.phase != rbDone || !r.syncWhenSeen || m.board.Repo.Head != r.result.Commit.String() {
		return nil
	}
	r.syncWhenSeen, r.err = false, nil
	apps, also := m.syncAfterRollback(r.stage, board.AppPaths(r.apps), r.rb, r.result.Commit.String())
	return m.openSyncOf(r.stage, apps, r.result.Commit.String(), "rollback: "+r.rb.Reason, also)
}

func (r *rollbackScreen) updateKey(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	switch r.phase {
	case rbReason:
		outcome, cmd := r.reason.update(msg)
		switch outcome {
		case confirmCancelled:
			r.phase = rbPick
			return nil
		case confirmWrong:
			r.err = errors.New("a rollback needs a reason: it goes into the commit")
			return nil
		case confirmDone:
			if m.opts.OperatorErr != nil {
				r.err = m.opts.OperatorErr // nothing is built without an identity
				return nil
			}
			if m.cached {
				r.err = errCachedBoard
				return nil
			}
			r.rb = gitstate.Rollback{Stage: r.stage, Path: m.stagePath(r.stage), Reason: r.reason.input.Value(), Operator: gitstate.ParseOperator(m.opts.Operator),
				Readers: m.board.Readers()} // the apps reading its files count, in any stage
			if r.restore {
				r.rb.RestoreTo = r.target.SHA
			} else {
				r.rb.Revert = r.target.SHA
			}
			r.phase, r.err = rbPreparing, nil
			return prepareRollbackCmd(m.ctx, m.opts.Rollback, r.rb, r.gen)
		}
		return cmd
	case rbConfirm:
		outcome, cmd := r.confirm.update(msg)
		switch outcome {
		case confirmCancelled:
			r.phase = rbPreview
		case confirmWrong:
			r.err = errors.New(r.confirm.wrongMsg())
		case confirmDone:
			r.phase, r.err = rbPushing, nil
			return publishRollbackCmd(m.ctx, m.opts.Rollback, r.plan, m.guarded(r.rb, r.confirm.stages), r.gen)
		}
		return cmd
	case rbPreparing, rbPushing:
		return nil // one at a time; never two pushes
	case rbPreview:
		switch {
		case msg.String() == "y" || msg.String() == "enter":
			if r.confirm.needed() {
				r.phase = rbConfirm
				return r.confirm.input.Focus()
			}
			r.phase, r.err = rbPushing, nil
			return publishRollbackCmd(m.ctx, m.opts.Rollback, r.plan, m.guarded(r.rb, nil), r.gen)
		case msg.String() == "f" && len(r.also) > 0 && len(r.rb.FromRunning) == 0 && len(r.neverDeployed()) > 0:
			r.err = fmt.Errorf("cannot roll back from what runs: %s never deployed", strings.Join(r.neverDeployed(), ", "))
		case msg.String() == "f" && len(r.also) > 0 && len(r.rb.FromRunning) == 0:
			// Roll back from what is running: the undeployed commits are undone too.
			for _, a := range r.apps {
				r.rb.FromRunning = append(r.rb.FromRunning, gitstate.RunningApp{Path: a.Path, Deployed: a.DeployedRevision})
			}
			r.phase, r.err, r.plan = rbPreparing, nil, nil
			return prepareRollbackCmd(m.ctx, m.opts.Rollback, r.rb, r.gen)
		case key.Matches(msg, m.keys.Down):
			r.offset = min(r.offset+1, max(0, len(r.lines)-1))
		case key.Matches(msg, m.keys.Up):
			r.offset = max(0, r.offset-1)
		case msg.String() == "esc" || msg.String() == "q":
			r.phase, r.plan = rbPick, nil // the prepared commit is simply dropped
		}
		return nil
	case rbDone:
		switch msg.String() {
		case "s":
			if m.opts.Syncer != nil && len(manualApps(r.apps)) > 0 {
				// The sync is decided on the board that has seen the pushed
				// commit: its pending lists are what the sync brings.
				pushed := r.result.Commit.String()
				if m.board.Repo.Head != pushed {
					r.err, r.syncWhenSeen = errors.New("waiting for the board to see the pushed commit…"), true
					return m.startRefresh(refreshNow)
				}
				apps, also := m.syncAfterRollback(r.stage, board.AppPaths(r.apps), r.rb, pushed)
				return m.openSyncOf(r.stage, apps, pushed, "rollback: "+r.rb.Reason, also)
			}
		case "esc", "q":
			m.pop()
		}
		return nil
	}
	// rbPick
	switch {
	case key.Matches(msg, m.keys.Down):
		r.cursor = min(r.cursor+1, len(r.commits)-1)
	case key.Matches(msg, m.keys.Up):
		r.cursor = max(r.cursor-1, 0)
	case key.Matches(msg, m.keys.Top):
		r.cursor = 0
	case key.Matches(msg, m.keys.Bottom):
		r.cursor = len(r.commits) - 1
	case (msg.String() == "enter" || msg.String() == "d") && len(r.commits) > 0 && m.opts.Diff != nil:
		return m.openCommitDiff(r.stage, r.app, r.path, r.commits[r.cursor])
	case msg.String() == "v" || msg.String() == "b":
		if len(r.commits) == 0 {
			return nil
		}
		if m.opts.ReadOnly {
			r.err = errors.New("read-only mode: rollbacks are off (started with --read-only or readOnly: true)")
			return nil
		}
		if m.opts.OperatorErr != nil {
			r.err = m.opts.OperatorErr // no reason asked for what would be refused
			return nil
		}
		r.restore = msg.String() == "b"
		r.target = r.commits[r.cursor]
		r.phase, r.err = rbReason, nil
		r.reason.set("") // a dropped rollback's reason is not the next one's
		return r.reason.focus()
	case msg.String() == "esc" || msg.String() == "q":
		m.pop()
	}
	return nil
}

func (m Model) stagePath(stage string) string {
	if st, ok := m.board.Stage(stage); ok {
		return st.Path
	}
	return stage
}

// knownHealthy is the set of revisions last seen deployed and Healthy for
// the apps in view.
func (m Model) knownHealthy(stage, app string) map[string]bool {
	healthy := map[string]bool{}
	if st, ok := m.board.Stage(stage); ok {
		for _, a := range st.Apps {
			if app == "" || a.Name == app {
				if rev := m.board.KnownHealthy[a.Name]; rev != "" {
					healthy[rev] = true
				}
			}
		}
	}
	return healthy
}

func (r *rollbackScreen) footer(m *Model) string {
	switch r.phase {
	case rbPick:
		if m.opts.ReadOnly {
			return m.styles.Footer.Render("↑/↓ choose · d diff · esc back · read-only: no rollbacks")
		}
		return m.styles.Footer.Render("↑/↓ choose · d diff · v revert · b restore back to it · esc back · ? keys")
	case rbPreview:
		if len(r.also) > 0 && len(r.rb.FromRunning) == 0 && len(r.neverDeployed()) == 0 {
			return m.styles.Footer.Render("y push · f roll back from what runs · ↑/↓ scroll · esc drop")
		}
		return m.styles.Footer.Render("y/enter commit and push · ↑/↓ scroll · esc drop")
	}
	return m.styles.Footer.Render("enter done · esc back · ctrl+c quit")
}

func (r *rollbackScreen) view(m *Model, w, h int) []string {
	s := m.styles
	what := r.stage
	if r.app != "" {
		what += " / " + r.app
	}
	lines := []string{s.Title.Render("History of "+what) + s.Dim.Render("  "+r.path+"/ · newest first")}
	switch r.phase {
	case rbPreview, rbConfirm, rbPushing, rbDone:
		return append(lines, r.previewLines(m, w, h-1)...)
	}
	if r.loading {
		return append(lines, "", "  Loading history…")
	}
	healthy := m.knownHealthy(r.stage, r.app)
	marks := r.marks(m)
	room := max(1, h-7)
	off := 0
	if r.cursor >= room {
		off = r.cursor - room + 1
	}
	// The marker comes before the subject, so no width cuts it off.
	lines = append(lines, s.Dim.Render(clip("  SHA      DATE             AGE   STATE           AUTHOR     SUBJECT", w)))
	for i := off; i < len(r.commits) && i < off+room; i++ {
		c := r.commits[i]
		mark := marks[i].String()
		if healthy[c.SHA] && marks[i] != markLive {
			mark = "♥ was healthy"
		}
		mark = fmt.Sprintf("%-14s", mark)
		switch marks[i] {
		case markLive:
			mark = s.Good.Render(mark)
		case markNotDeployed:
			mark = s.Warn.Render(mark)
		default:
			mark = s.Dim.Render(mark)
		}
		text := fmt.Sprintf("%s  %s %-4s  ", c.ShortSHA(), c.Date.In(m.now.Location()).Format("2006-01-02 15:04"), age(m.now, c.Date))
		rest := fmt.Sprintf("  %s %s", pad(firstWord(c.Author), 10), c.Subject)
		cur := "  "
		if i == r.cursor {
			cur = "› "
		}
		line := cur + text + mark + rest
		if i == r.cursor {
			line = s.Selected.Render(cur+text) + mark + s.Selected.Render(rest)
		}
		lines = append(lines, clip(line, w))
	}
	if len(r.commits) == 0 && r.err == nil {
		lines = append(lines, "", "  No commits changed "+r.path+"/.")
	}
	if r.phase == rbReason {
		verb := "Revert " + r.target.ShortSHA()
		if r.restore {
			verb = "Restore " + r.stage + " to " + r.target.ShortSHA()
		}
		lines = append(lines, "", s.Header.Render(verb))
		if !r.restore && r.markOf(m, r.target.SHA) == markNotDeployed {
			lines = append(lines, s.Warn.Render("⚠ "+r.target.ShortSHA()+" is not deployed: reverting it changes git only, not what runs now."))
		}
		lines = append(lines, r.reason.view())
	}
	if r.phase == rbPreparing {
		lines = append(lines, "", s.Dim.Render("Preparing the commit…"))
	}
	if r.err != nil {
		lines = append(lines, "", s.Error.Render(oneLine(r.err.Error())))
	}
	return lines
}

func (r *rollbackScreen) previewLines(m *Model, w, h int) []string {
	s := m.styles
	subject, _, _ := strings.Cut(r.plan.Message, "\n")
	subject = sanitize.Line(subject)
	lines := []string{s.Header.Render("Commit: ") + subject + s.Dim.Render("  on "+gitstate.Short(r.plan.Parent.String())),
		s.Dim.Render("As      ") + sanitize.Line(m.opts.Operator),
		s.Dim.Render("Changes ") + strings.Join(board.Names(r.touched), ", ")}
	if m.opts.Syncer != nil {
		sync := "no app deploys these files"
		if len(r.apps) > 0 {
			sync = strings.Join(board.AppNames(r.apps), ", ") + " only"
		}
		lines = append(lines, s.Dim.Render("Sync to  ")+sync)
	}
	if len(r.rb.FromRunning) > 0 {
		lines = append(lines, s.Warn.Render("Rolled back from what is running: the commits never deployed there are undone too (named in the message)."))
	}
	if len(r.also) > 0 && len(r.rb.FromRunning) == 0 && r.phase != rbDone {
		lines = append(lines, s.Warn.Render("⚠ Syncing this also deploys commits never deployed there:"))
		for _, c := range r.also {
			lines = append(lines, s.Warn.Render("    "+c))
		}
		if never := r.neverDeployed(); len(never) > 0 {
			lines = append(lines, "  y push anyway (the sync names them again) · esc cancel",
				s.Dim.Render("  (no rolling back from what runs: "+strings.Join(never, ", ")+" never deployed)"))
		} else {
			lines = append(lines, "  y push anyway (the sync names them again) · f roll back from what is running instead · esc cancel")
		}
	}
	lines = append(lines, "")
	switch r.phase {
	case rbDone:
		note := ""
		if r.result.Rebased {
			note = fmt.Sprintf(" (the remote had moved: rebuilt on its new head, attempt %d)", r.result.Attempts)
		}
		lines = append(lines, s.Good.Render("✓ Pushed "+gitstate.Short(r.result.Commit.String())+note))
		if r.auto {
			lines = append(lines, s.Dim.Render("Auto-sync apps: Argo CD picks the commit up on its own; watch the board."))
		}
		if manual := manualApps(r.apps); m.opts.Syncer != nil && len(manual) > 0 {
			lines = append(lines, "s sync "+strings.Join(board.AppNames(manual), ", ")+" to "+gitstate.Short(r.result.Commit.String())+" (preview first) · esc back")
		} else if m.opts.Syncer != nil && r.auto {
			lines = append(lines, s.Dim.Render("nothing to sync by hand · esc back"))
		} else if m.opts.Syncer != nil {
			lines = append(lines, s.Dim.Render("no app deploys these files: nothing to sync · esc back"))
		} else {
			lines = append(lines, s.Dim.Render("git-only mode: sync in Argo CD when ready · esc back"))
		}
		return lines
	case rbPushing:
		lines = append(lines, s.Dim.Render("Pushing…"))
	case rbConfirm:
		lines = append(lines, s.Warn.Render("🔒 protected: "+strings.Join(r.confirm.stages, ", ")+": type each name to confirm."), r.confirm.input.View())
	default:
		lines = append(lines, "This exact change will be committed and pushed (y/enter; esc drops it):")
	}
	if r.err != nil {
		lines = append(lines, s.Error.Render(oneLine(r.err.Error())))
	}
	room := h - len(lines)
	if room > 0 && len(r.lines) > 0 {
		off := max(0, min(r.offset, len(r.lines)-room))
		for _, l := range r.lines[off:min(len(r.lines), off+room)] {
			lines = append(lines, m.colorDiffLine(l, w))
		}
	}
	return lines
}

// noteHealthy records, per app, the last revision seen deployed and Healthy.
func noteHealthy(b *board.Board, old map[string]string) {
	if b == nil {
		return
	}
	if b.KnownHealthy == nil {
		b.KnownHealthy = map[string]string{}
	}
	for k, v := range old {
		if _, ok := b.KnownHealthy[k]; !ok {
			b.KnownHealthy[k] = v
		}
	}
	for _, st := range b.Stages {
		for _, a := range st.Apps {
			if a.HealthStatus == "Healthy" && !a.OperationRunning && a.DeployedRevision != "" && a.SyncStatus != "Unknown" {
				b.KnownHealthy[a.Name] = a.DeployedRevision
			}
		}
	}
}

// guarded lets a rollback rebuilt at push time through only if every
// protected stage it changes is among the names the owner typed.
func (m Model) guarded(rb gitstate.Rollback, confirmed []string) gitstate.Rollback {
	b := m.board
	rb.Allow = func(paths []string) error {
		for _, name := range board.Protected(b.Touching(paths)) {
			if !slices.Contains(confirmed, name) {
				return fmt.Errorf("changes protected stage %s, not confirmed", name)
			}
		}
		return nil
	}
	return rb
}

// syncAfterRollback is the sync a rollback calls for: the stage's apps whose
// directories paths change and, for a revert, the commits those apps have
// not deployed that the sync would ship with it (not the reverted one, not
// the pushed rollback itself). Called again on the board that saw the push,
// it shows commits someone else pushed meanwhile.
func (m Model) syncAfterRollback(stage string, paths []string, rb gitstate.Rollback, pushed string) ([]board.App, []string) {
	st, ok := m.board.Stage(stage)
	if !ok {
		return nil, nil
	}
	var apps []board.App
	for _, a := range manualApps(st.Apps) {
		if slices.ContainsFunc(a.Paths(), func(p string) bool { return config.OverlapsAny(p, paths) }) {
			apps = append(apps, a)
		}
	}
	if rb.RestoreTo != "" || len(rb.FromRunning) > 0 {
		return apps, nil // the restored or running content is what gets deployed
	}
	return apps, board.Undeployed(apps, rb.Revert, pushed)
}

// manualApps leaves out the apps with auto-sync: Argo CD deploys a pushed
// commit to them on its own, and refuses to pin them.
func manualApps(apps []board.App) []board.App {
	var out []board.App
	for _, a := range apps {
		if !a.AutoSync {
			out = append(out, a)
		}
	}
	return out
}

// historyMark is what Argo CD did with a commit of the history in view.
type historyMark int

const (
	markOlder       historyMark = iota // older than what runs, never deployed by itself
	markLive                           // its content is what runs now
	markEarlier                        // deployed before, replaced since
	markNotDeployed                    // newer than what runs: the next sync brings it
)

func (k historyMark) String() string {
	return [...]string{"· older", "● live", "◦ deployed", "○ not deployed"}[k]
}

// marks marks each commit of the history: those pending for an app
// in view are not deployed; the newest one that is not is live (its
// content runs); older ones Argo CD's history names were deployed earlier.
func (r *rollbackScreen) marks(m *Model) []historyMark {
	out := make([]historyMark, len(r.commits))
	st, ok := m.board.Stage(r.stage)
	if !ok {
		return out
	}
	index := map[string]int{}
	for i, c := range r.commits {
		index[c.SHA] = i
	}
	live := map[int]bool{}
	pending := map[string]bool{}
	hist := map[string]bool{}
	// Each app runs one commit of this history: its deployed revision when
	// that is one of these commits, else (deployed at a later commit
	// elsewhere) the newest one not pending for it. Apps of one stage can
	// run different ones (after a rollback synced one app).
	for _, a := range st.Apps {
		if r.app != "" && a.Name != r.app || a.DeployedRevision == "" {
			continue
		}
		mine := map[string]bool{}
		for _, c := range a.Pending {
			mine[c.SHA], pending[c.SHA] = true, true
		}
		for _, h := range a.History {
			hist[h.Revision] = true
		}
		if i, ok := index[a.DeployedRevision]; ok {
			live[i] = true
			continue
		}
		for i, c := range r.commits {
			if !mine[c.SHA] {
				live[i] = true
				break
			}
		}
	}
	newestLive := len(r.commits)
	for i := range live {
		newestLive = min(newestLive, i)
	}
	for i, c := range r.commits {
		switch {
		case live[i]:
			out[i] = markLive
		case pending[c.SHA], i < newestLive && len(live) > 0:
			// Pending for an app, or newer than anything that runs.
			out[i] = markNotDeployed
		case hist[c.SHA]:
			out[i] = markEarlier
		}
	}
	return out
}

func (r *rollbackScreen) markOf(m *Model, sha string) historyMark {
	for i, mk := range r.marks(m) {
		if r.commits[i].SHA == sha {
			return mk
		}
	}
	return markOlder
}

func firstWord(s string) string {
	if f, _, ok := strings.Cut(s, " "); ok {
		return f
	}
	return s
}

// neverDeployed names the apps the sync would send that never deployed:
// nothing runs there to roll back from.
func (r *rollbackScreen) neverDeployed() []string {
	var out []string
	for _, a := range r.apps {
		if a.DeployedRevision == "" {
			out = append(out, a.Name)
		}
	}
	return out
}

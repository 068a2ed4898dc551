package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/stagedeck/stagedeck/appstate"
	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/gitstate"
	"github.com/stagedeck/stagedeck/sanitize"
)

// Syncer runs manual syncs against the Argo CD serving a stage.
type Syncer interface {
	CheckSync(ctx context.Context, stage string, apps []board.App) ([]SyncCheck, error)
	// StartSyncs checks every request before sending any (the revision is
	// still on the branch, no app is busy, none would be refused), then
	// sends each once, in order. On an error the starts are those sent.
	StartSyncs(ctx context.Context, stage string, reqs []appstate.SyncRequest) ([]SyncStart, error)
	FollowSync(ctx context.Context, stage string, start SyncStart) SyncFollower
	Terminate(ctx context.Context, stage, app string) error
}

// SyncCheck is the pre-check of one app: RBAC and sync windows.
type SyncCheck struct {
	App     string
	Allowed bool
	Problem string
}

// SyncStart is what following a sent sync needs.
type SyncStart struct {
	App, Revision          string
	Requested, PrevStarted time.Time
	DryRun                 bool
}

// SyncFollower yields observations of a running sync; it re-attaches by itself.
type SyncFollower interface {
	Next() (appstate.Observation, error)
	Close()
}

// syncPhase is where the sync flow is.
type syncPhase int

const (
	syncPreview syncPhase = iota
	syncEditReason
	syncConfirm // typing a protected stage's name
	syncRunning
	syncDone
)

type appProgress struct {
	obs     appstate.Observation
	sendErr error
	err     error
	sent    bool
}

// syncScreen is the sync preview, confirmation and progress.
type syncScreen struct {
	stage    string
	touched  []board.Stage // every stage whose directory the apps deploy
	also     []string      // after a rollback: commits the sync deploys besides it
	apps     []board.App
	revision string // pinned: the head the owner reviewed
	commits  []gitstate.Commit
	prune    bool
	dryRun   bool
	checks   map[string]SyncCheck
	checking bool
	checkErr error
	reason   reasonInput
	confirm  nameConfirm
	phase    syncPhase
	progress map[string]*appProgress
	askTerm  bool
	notice   string
	gen      int
}

type syncCheckedMsg struct {
	gen    int
	checks []SyncCheck
	err    error
}

type syncStartedMsg struct {
	gen       int
	starts    []SyncStart
	followers []SyncFollower
	failedApp string
	err       error
}

type syncObsMsg struct {
	gen int
	app string
	f   SyncFollower
	obs appstate.Observation
	err error
}

type terminateDoneMsg struct {
	gen int
	err error
}

func checkSyncCmd(ctx context.Context, s Syncer, stage string, apps []board.App, gen int) tea.Cmd {
	return func() tea.Msg {
		checks, err := s.CheckSync(ctx, stage, apps)
		for i := range checks {
			checks[i].Problem = sanitize.Line(checks[i].Problem)
		}
		return syncCheckedMsg{gen: gen, checks: checks, err: err}
	}
}

// startSyncCmd sends the stage's syncs, all checked before any is sent,
// and follows those sent.
func startSyncCmd(ctx context.Context, s Syncer, stage string, reqs []appstate.SyncRequest, gen int) tea.Cmd {
	return func() tea.Msg {
		starts, err := s.StartSyncs(ctx, stage, reqs)
		msg := syncStartedMsg{gen: gen, starts: starts, err: err}
		if err != nil && len(starts) < len(reqs) {
			msg.failedApp = reqs[len(starts)].App
		}
		for _, st := range starts {
			msg.followers = append(msg.followers, s.FollowSync(ctx, stage, st))
		}
		return msg
	}
}

// followCmd waits for the next observation; the handler re-arms it.
func followCmd(f SyncFollower, app string, gen int) tea.Cmd {
	return func() tea.Msg {
		o, err := f.Next()
		o.App = o.App.Cleaned()
		return syncObsMsg{gen: gen, app: app, f: f, obs: o, err: err}
	}
}

func terminateCmd(ctx context.Context, s Syncer, stage string, apps []string, gen int) tea.Cmd {
	return func() tea.Msg {
		var errs []error
		for _, a := range apps {
			if err := s.Terminate(ctx, stage, a); err != nil {
				errs = append(errs, err)
			}
		}
		return terminateDoneMsg{gen: gen, err: errors.Join(errs...)}
	}
}

// openSync opens the preview for apps of stage, pinned to revision.
func (m *Model) openSync(stage, app, revision string) tea.Cmd {
	if m.opts.Syncer == nil || m.board == nil {
		if m.opts.Syncer == nil {
			m.err = errors.New("syncing needs Argo CD: the config has no argocd section")
		}
		return nil
	}
	st, ok := m.board.Stage(stage)
	if !ok {
		return nil
	}
	var apps []board.App
	for _, a := range st.Apps {
		if app == "" || a.Name == app {
			apps = append(apps, a)
		}
	}
	return m.openSyncOf(stage, apps, revision, "", nil)
}

// openSyncOf opens the preview for exactly these apps of stage: a
// rollback's sync goes to the apps its commit changes, with its reason,
// and names the commits it would deploy besides (also).
func (m *Model) openSyncOf(stage string, apps []board.App, revision, why string, also []string) tea.Cmd {
	st, ok := m.board.Stage(stage)
	if !ok {
		return nil
	}
	if len(apps) == 0 {
		m.err = fmt.Errorf("%s has no Argo CD apps to sync", stage)
		return nil
	}
	if m.opts.OperatorErr != nil {
		m.err = m.opts.OperatorErr // nothing is sent without an identity
		return nil
	}
	if m.cached {
		m.err = errCachedBoard
		return nil
	}
	seen := map[string]bool{}
	var commits []gitstate.Commit
	for _, a := range apps {
		for _, c := range a.Pending {
			if !seen[c.SHA] {
				seen[c.SHA] = true
				commits = append(commits, c)
			}
		}
	}
	sort.SliceStable(commits, func(i, j int) bool { return commits[i].Date.After(commits[j].Date) })
	// Protection follows the paths of the apps sent, and the stage's own flag.
	paths := board.AppPaths(apps) // every source's: an app with several may deploy into another stage
	touched := m.board.Touching(paths)
	guard := board.Protected(touched)
	if st.Protected && !slices.Contains(guard, st.Name) {
		guard = append([]string{st.Name}, guard...)
	}
	reason := newReasonInput("Reason    ", "optional, sent with the sync ([m] to edit)", false)
	reason.set(why)
	confirm := newNameConfirm(guard...)
	sy := &syncScreen{
		stage: st.Name, touched: touched, apps: apps, revision: revision, commits: commits,
		checks: map[string]SyncCheck{}, checking: true, reason: reason, confirm: confirm,
		progress: map[string]*appProgress{}, gen: m.nextGen(), also: also,
	}
	// esc from the sync goes back to the board, wherever it was opened.
	m.popToList()
	m.push(sy)
	return checkSyncCmd(m.ctx, m.opts.Syncer, st.Name, apps, sy.gen)
}

// blocked says why the sync cannot be confirmed now ("" = it can).
func (s *syncScreen) blocked() string {
	if s.checking {
		return "still checking permissions and sync windows"
	}
	if s.checkErr != nil {
		return "the pre-check failed: " + oneLine(s.checkErr.Error())
	}
	var probs []string
	for _, a := range s.apps {
		if why := s.pinRefusal(a); why != "" {
			probs = append(probs, a.Name+": "+why)
			continue
		}
		if a.OperationRunning { // refused by Argo CD: the stage would go half synced
			probs = append(probs, a.Name+": an operation is running (wait for it, or terminate it)")
			continue
		}
		if c, ok := s.checks[a.Name]; !ok || !c.Allowed {
			p := "not checked"
			if ok {
				p = c.Problem
			}
			probs = append(probs, a.Name+": "+p)
		}
	}
	return strings.Join(probs, "; ")
}

// pinRefusal says why Argo CD would refuse this sync of a (auto-sync:
// only a dry run may be pinned), cleaned for the screen; "" if it would not.
func (s *syncScreen) pinRefusal(a board.App) string {
	return sanitize.Line(appstate.PinRefusal(a.AutoSync, a.TargetRevision, s.revision, s.dryRun))
}

func (s *syncScreen) send(m *Model) tea.Cmd {
	operator := m.opts.Operator
	var reqs []appstate.SyncRequest
	for _, a := range s.apps {
		reqs = append(reqs, appstate.SyncRequest{App: a.Name, Project: a.Project, Revision: s.revision, DryRun: s.dryRun, Prune: s.prune,
			Reason: s.reason.value(), Operator: operator})
		s.progress[a.Name] = &appProgress{}
	}
	s.phase = syncRunning
	return startSyncCmd(m.ctx, m.opts.Syncer, s.stage, reqs, s.gen)
}

func (*syncScreen) id() screenID { return screenSync }

func (s *syncScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if msg.String() == "?" && (s.phase == syncPreview || s.phase == syncRunning || s.phase == syncDone) {
			m.pushHelp()
			return nil
		}
		return s.updateKey(m, msg)
	case syncCheckedMsg:
		if msg.gen != s.gen {
			return nil
		}
		s.checking, s.checkErr, s.notice = false, msg.err, ""
		for _, c := range msg.checks {
			s.checks[c.App] = c
		}
		return nil
	case syncStartedMsg:
		if msg.gen != s.gen {
			return nil
		}
		var cmds []tea.Cmd
		for i, st := range msg.starts {
			s.progress[st.App].sent = true
			cmds = append(cmds, followCmd(msg.followers[i], st.App, s.gen))
		}
		if msg.err != nil {
			if p, ok := s.progress[msg.failedApp]; ok {
				p.sendErr = msg.err
			}
			for _, a := range s.apps {
				if p := s.progress[a.Name]; !p.sent && p.sendErr == nil {
					p.sendErr = errors.New("not sent")
				}
			}
			if len(msg.starts) == 0 {
				s.phase = syncDone
			}
		}
		return tea.Batch(cmds...)
	case syncObsMsg:
		if msg.gen != s.gen {
			msg.f.Close()
			return nil
		}
		p := s.progress[msg.app]
		if msg.err != nil {
			p.err = msg.err
			msg.f.Close()
			s.checkDone()
			return nil
		}
		p.obs = msg.obs
		if msg.obs.Finished {
			msg.f.Close()
			s.checkDone()
			return nil
		}
		return followCmd(msg.f, msg.app, s.gen)
	case terminateDoneMsg:
		if msg.gen == s.gen && msg.err != nil {
			s.notice = "terminate: " + oneLine(msg.err.Error())
		}
		return nil
	}
	return nil
}

func (s *syncScreen) checkDone() {
	for _, p := range s.progress {
		if p.sendErr == nil && p.err == nil && !p.obs.Finished {
			return
		}
	}
	s.phase = syncDone
}

func (s *syncScreen) updateKey(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	switch s.phase {
	case syncEditReason:
		outcome, cmd := s.reason.update(msg)
		if outcome == confirmDone || outcome == confirmCancelled {
			s.phase = syncPreview
		}
		return cmd
	case syncConfirm:
		outcome, cmd := s.confirm.update(msg)
		switch outcome {
		case confirmCancelled:
			s.phase = syncPreview
		case confirmWrong:
			s.notice = s.confirm.wrongMsg()
		case confirmDone:
			return s.send(m)
		}
		return cmd
	case syncRunning, syncDone:
		switch {
		case s.askTerm && msg.String() == "y":
			s.askTerm = false
			var running []string
			for _, a := range s.apps {
				if p := s.progress[a.Name]; p.sent && !p.obs.Finished && p.err == nil {
					running = append(running, a.Name)
				}
			}
			s.notice = "terminating " + strings.Join(running, ", ")
			return terminateCmd(m.ctx, m.opts.Syncer, s.stage, running, s.gen)
		case s.askTerm:
			s.askTerm = false
		case msg.String() == "t" && s.phase == syncRunning:
			s.askTerm = true
		case key.Matches(msg, m.keys.Back), msg.String() == "q":
			m.pop()
		}
		return nil
	}
	// preview
	switch msg.String() {
	case "esc", "q":
		m.pop()
	case "p":
		s.prune = !s.prune
	case "D":
		s.dryRun = !s.dryRun
	case "m":
		s.phase = syncEditReason
		return s.reason.focus()
	case "y", "enter":
		if why := s.blocked(); why != "" {
			s.notice = "cannot sync: " + why
			return nil
		}
		if s.confirm.needed() {
			s.phase = syncConfirm
			s.notice = ""
			return s.confirm.input.Focus()
		}
		return s.send(m)
	}
	return nil
}

func (s *syncScreen) footer(m *Model) string {
	switch s.phase {
	case syncPreview:
		return m.styles.Footer.Render("y/enter sync · p prune · D dry run · m reason · esc cancel")
	case syncEditReason, syncConfirm:
		return m.styles.Footer.Render("enter done · esc back")
	}
	return m.styles.Footer.Render("t terminate · esc back · ctrl+c quit")
}

func (sy *syncScreen) view(m *Model, w, h int) []string {
	s := m.styles
	var lines []string
	add := func(l ...string) { lines = append(lines, l...) }
	target := sy.stage
	if len(sy.apps) == 1 && len(m.stageApps(sy.stage)) > 1 {
		target += " / " + sy.apps[0].Name
	}
	title := fmt.Sprintf("Sync %s → %s", target, gitstate.Short(sy.revision))
	if sy.dryRun {
		title += "  (dry run)"
	}
	add(s.Title.Render(title))
	if m.board != nil && m.board.Repo.Head != "" && m.board.Repo.Head != sy.revision {
		add(s.Warn.Render(fmt.Sprintf("! Newer commits exist on %s (head now %s): %s, the revision you reviewed, is what is sent.",
			m.board.Repo.Branch, gitstate.Short(m.board.Repo.Head), gitstate.Short(sy.revision))))
	}
	if sy.phase >= syncRunning {
		return append(lines, sy.progressLines(m, w)...)
	}
	add("", s.Header.Render(fmt.Sprintf("Brings %d commit(s)", len(sy.commits))))
	for i, c := range sy.commits {
		if i == 5 {
			add(s.Dim.Render(fmt.Sprintf("  … %d more", len(sy.commits)-5)))
			break
		}
		add(fmt.Sprintf("  %s  %s %4s  %s", c.ShortSHA(), pad(c.Author, 16), age(m.now, c.Date), c.Subject))
	}
	add("", s.Header.Render("Apps"))
	for _, a := range sy.apps {
		state := s.Dim.Render("checking…")
		if why := sy.pinRefusal(a); why != "" {
			state = s.Bad.Render("✗ " + why)
		} else if c, ok := sy.checks[a.Name]; ok {
			if c.Allowed {
				state = s.Good.Render("✓ allowed")
			} else {
				state = s.Bad.Render("✗ " + c.Problem)
			}
		} else if !sy.checking {
			state = s.Bad.Render("✗ not checked")
		}
		mode := "manual"
		if a.AutoSync {
			mode = "auto"
		}
		add(fmt.Sprintf("  %s %-6s deployed %s  ", pad(a.Name, 20), mode, dash(gitstate.Short(a.DeployedRevision))) + state)
	}
	if sy.checkErr != nil {
		add(s.Error.Render("  pre-check failed: " + oneLine(sy.checkErr.Error())))
	}
	onoff := map[bool]string{true: "on", false: "off"}
	add("", fmt.Sprintf("Options   [p] prune: %s   [D] dry run: %s   [m] reason", onoff[sy.prune], onoff[sy.dryRun]))
	add(sy.reason.view())
	add(s.Dim.Render("As        " + sanitize.Line(m.operator())))
	add(s.Dim.Render("Changes   ") + strings.Join(board.Names(sy.touched), ", "))
	if m.opts.ReadOnly {
		add(s.BadgeWarn.Render(" READ-ONLY ") + " stagedeck refuses to send syncs in read-only mode.")
	}
	if len(sy.also) > 0 {
		add("", s.Warn.Render("⚠ This sync also deploys commits never deployed before:"))
		for _, c := range sy.also {
			add(s.Warn.Render("    " + c))
		}
	}
	if sy.confirm.needed() {
		add("", s.Warn.Render("🔒 protected: "+strings.Join(sy.confirm.stages, ", ")+": you will type each name to confirm."))
	}
	if sy.phase == syncConfirm {
		add(sy.confirm.input.View())
	}
	if sy.notice != "" {
		add("", s.Error.Render(sy.notice))
	}
	return lines
}

func (m Model) operator() string { return m.opts.Operator }

func (m Model) stageApps(stage string) []board.App {
	if m.board == nil {
		return nil
	}
	st, ok := m.board.Stage(stage)
	if !ok {
		return nil
	}
	return st.Apps
}

func (sy *syncScreen) progressLines(m *Model, w int) []string {
	s := m.styles
	var lines []string
	for _, a := range sy.apps {
		p := sy.progress[a.Name]
		if p == nil {
			continue
		}
		name := pad(a.Name, 20)
		switch {
		case p.sendErr != nil:
			lines = append(lines, name+" "+s.Bad.Render("✗ "+oneLine(p.sendErr.Error())))
			continue
		case !p.sent:
			lines = append(lines, name+" "+s.Dim.Render("sending…"))
			continue
		case p.err != nil:
			lines = append(lines, name+" "+s.Bad.Render("✗ "+oneLine(p.err.Error())))
			continue
		case p.obs.Reconnecting:
			lines = append(lines, name+" "+s.Warn.Render("connection lost; re-attaching to the running operation (not re-sent)"))
			continue
		case !p.obs.Ours:
			lines = append(lines, name+" "+s.Dim.Render("sent; waiting for Argo CD to start the operation"))
			continue
		}
		op := p.obs.App.Operation
		mark, st := s.phaseMark(op.Phase, op.Running())
		switch {
		case op.Phase == "Succeeded":
			mark, st = "✓", s.Good
		case mark == "":
			mark = "·"
		}
		hm, hst := s.healthMark(p.obs.App.Health)
		line := name + " " + st.Render(mark+" "+pad(op.Phase, 10)) + " " + hst.Render(hm+" "+pad(p.obs.App.Health, 11)) + " " + oneLine(op.Message)
		lines = append(lines, line)
		for _, r := range op.Resources {
			rs := s.Good
			if r.Status != "Synced" {
				rs = s.Bad
			}
			lines = append(lines, "    "+pad(r.Kind+"/"+r.Name, 30)+" "+rs.Render(pad(r.Status, 10))+" "+s.Dim.Render(oneLine(r.Message)))
		}
	}
	lines = append(lines, "")
	switch {
	case sy.askTerm:
		lines = append(lines, s.Warn.Render("Terminate the running operation(s)? y to confirm, any other key to keep them running."))
	case sy.phase == syncDone:
		lines = append(lines, s.Header.Render("Done.")+" "+s.Dim.Render("esc returns to the board; its rows update from the watch."))
	default:
		lines = append(lines, s.Dim.Render("t terminate · esc back to the board (the sync goes on)"))
	}
	if sy.notice != "" {
		lines = append(lines, s.Warn.Render(sy.notice))
	}
	return lines
}

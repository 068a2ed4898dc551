// Package tui is the interactive console: the board of every stage, the
// revision matrix, details, diffs, sync, history and rollback, the
// timeline, filter and help. One root model keeps the layout, the board and
// its feed, and a stack of screens (screen.go), each in its own file with
// its own Update, View and keys. All I/O runs in tea.Cmds built from the
// small interfaces below; Update never blocks.
package tui

import (
	"context"
	"errors"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/review"
)

// BoardSource collects a whole board: git walk plus one Argo CD List per context.
type BoardSource interface {
	Collect(ctx context.Context) (*board.Board, error)
}

// Fetcher updates the ops repository from its remote.
type Fetcher interface {
	Fetch(ctx context.Context) error
}

// SharedFetcher is a Fetcher several consoles share: Fetch may reuse a
// fetch another console just made; FetchNow fetches again (after a key
// press or a push, the board must show what happened).
type SharedFetcher interface {
	Fetcher
	FetchNow(ctx context.Context) error
}

// Refresher asks Argo CD to reconcile the apps of a stage (List ignores
// refresh). The stage says which Argo CD serves them: nothing is probed.
type Refresher interface {
	Refresh(ctx context.Context, stage string, apps []string, hard bool) error
}

// Watcher opens a stream of application changes, already placed in stages.
type Watcher interface {
	Watch(ctx context.Context) (AppStream, error)
}

// AppStream yields app changes until it fails. Next blocks for the next
// change and returns it with the ones that follow in the same burst (a sync
// touches an app several times within milliseconds), so the console redraws
// once per burst.
type AppStream interface {
	Next() ([]AppEvent, error)
	Close()
}

// StateStream is an AppStream that opens with an event for every app's
// current state, as Argo CD's watch does. The console's first connection to
// one needs no re-list; any other stream is re-listed on connecting, since
// what changed before it was joined is not in it.
type StateStream interface {
	OpensWithState() bool
}

// OpensWithState reports whether s is a StateStream that opens with state.
func OpensWithState(s AppStream) bool {
	ss, ok := s.(StateStream)
	return ok && ss.OpensWithState()
}

// AppEvent is one application change placed in its stage.
type AppEvent struct {
	Stage   string
	App     board.App
	Deleted bool
}

// PendingReader recomputes one app's pending commits when its deployed
// revision or its paths moved.
type PendingReader interface {
	// Pending reads app's DeployedRevision and Paths; the app returned
	// carries Pending, PendingCommits, NotAncestor and Running.
	Pending(ctx context.Context, app board.App) (board.App, error)
}

// CacheWriter saves the last board so the next start paints at once.
type CacheWriter interface {
	Save(b *board.Board) error
}

// Options are the console's injected dependencies. Any interface may be nil:
// git-only mode has no Watcher or Refresher.
type Options struct {
	Ctx     context.Context
	Source  BoardSource
	Fetcher Fetcher
	Refresh Refresher
	Watcher Watcher
	Pending PendingReader
	Cache   CacheWriter
	Diff    DiffSource
	Syncer  Syncer
	// Rollback reads history and pushes revert commits (git-only mode too).
	Rollback Rollbacker
	// Operator is who acts ("Name <email>"): the commit author and Operator
	// trailer of a rollback, sent with syncs. OperatorErr says why there is
	// none; then every action is refused before anything is built or sent.
	Operator    string
	OperatorErr error
	// Pager is STAGEDECK_DIFF_PAGER: a command line (no shell) given the diff on stdin.
	Pager    string
	Cached   *board.Board // last board from disk, shown marked "cached"
	Contexts []string     // argocd contexts, for the header
	Demo     bool
	ReadOnly bool
	// ASCII draws every symbol in ASCII, for terminals whose locale is not
	// UTF-8 (LANG=C): states keep a distinct mark each.
	ASCII bool
	// Interval between git fetches (default 30s).
	Interval time.Duration
	// Now is the clock; tests freeze it.
	Now func() time.Time
}

// Model is the root: layout, the shared board and its feed (refresh, watch,
// cache), errors, and the stack of screens over the board.
type Model struct {
	opts   Options
	ctx    context.Context
	styles Styles
	keys   keyMap
	help   help.Model

	width, height int
	stack         []screen // stack[0] is the board; the last is shown
	seq           int      // generations handed to screens' requests

	board   *board.Board
	cached  bool // board came from disk and no refresh landed yet
	loading bool
	gen     int // generation of the latest board request
	err     error

	now          time.Time
	lastFetch    time.Time
	watch        watchState
	streamGen    int
	disconnected time.Time // zero while the watch is connected
	// watchedOnce: a watch has been live; early holds events that came
	// before any board did (applied once it comes).
	watchedOnce  bool
	watchStarted bool // the deferred first watch was asked for
	early        []AppEvent
	backoff      time.Duration
}

// watchState is the Argo CD watch connection's state.
type watchState int

const (
	watchOff watchState = iota // git-only mode
	watchConnecting
	watchLive
	watchRetrying
)

// New builds the root model.
func New(opts Options) Model {
	if opts.Ctx == nil {
		opts.Ctx = context.Background()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Interval <= 0 {
		opts.Interval = 30 * time.Second
	}
	m := Model{
		opts: opts, ctx: opts.Ctx, styles: NewStyles(true), keys: newKeyMap(), help: help.New(),
		width: 80, height: 24, stack: []screen{newListScreen()},
		now: opts.Now(), loading: true, gen: 1, streamGen: 1,
	}
	if opts.ReadOnly {
		// Read-only offers nothing it would refuse: no sync key in the
		// footer or the help, and s does nothing.
		m.keys.Sync.SetEnabled(false)
	}
	if opts.Cached != nil {
		m.board, m.cached = opts.Cached.Cleaned(), true
		noteHealthy(m.board, nil)
		m.rebuildRows(rowKey{})
	}
	if opts.Watcher != nil {
		m.watch = watchConnecting
		m.watchStarted = m.board != nil // Init starts it at once over a cached board
	}
	return m
}

// Init paints at once (cached board or loading) and starts the first
// refresh, the watch and the clock.
//
// Without a cached board the watch waits for the first one: Argo CD opens
// every watch with the state of each app, and at fleet scale decoding that
// burst while the first list is decoded (on both ends) delayed the first
// paint by a third.
func (m Model) Init() tea.Cmd {
	collect := collectCmd(m.ctx, m.opts.Source, 1)
	var watch tea.Cmd
	if m.opts.Watcher != nil && m.watchStarted {
		watch = watchCmd(m.ctx, m.opts.Watcher, 1)
	}
	if m.board != nil {
		// Over a cached board, the first frame is drawn before the
		// session opens: a fleet's first list and watch burst decode on
		// the same cores, and would hold the frame back.
		collect, watch = afterFirstFrame(collect), afterFirstFrame(watch)
	}
	return tea.Batch(collect, watch, tickCmd(), tea.RequestBackgroundColor)
}

// firstFrame is how long a cached board's first frame is given.
const firstFrame = 40 * time.Millisecond

func afterFirstFrame(c tea.Cmd) tea.Cmd {
	if c == nil {
		return nil
	}
	return func() tea.Msg {
		time.Sleep(firstFrame)
		return c()
	}
}

// watchAfterFirstBoard starts the watch deferred by Init, once.
func (m *Model) watchAfterFirstBoard() tea.Cmd {
	if m.opts.Watcher == nil || m.watchedOnce || m.watchStarted || m.streamGen != 1 {
		return nil
	}
	m.watchStarted = true
	return watchCmd(m.ctx, m.opts.Watcher, 1)
}

// --- messages: each Cmd returns exactly one of these ---

type boardLoadedMsg struct {
	gen   int
	board *board.Board
	err   error
}

type fetchDoneMsg struct {
	gen int
	err error
}

type refreshDoneMsg struct{ err error }

type tickMsg time.Time

type watchOpenedMsg struct {
	gen    int
	stream AppStream
	err    error
}

type watchEventsMsg struct {
	gen    int
	stream AppStream
	events []AppEvent
	err    error // the stream ended after these events
}

type reconnectMsg struct{ gen int }

type pendingMsg struct {
	stage, app, deployed string
	git                  board.App // git's side: Pending, PendingCommits, NotAncestor, Running
	err                  error
}

type cacheSavedMsg struct{ err error }

// --- commands: capture inputs by value, never touch the model ---

func collectCmd(ctx context.Context, src BoardSource, gen int) tea.Cmd {
	if src == nil {
		return nil
	}
	return func() tea.Msg {
		b, err := src.Collect(ctx)
		return boardLoadedMsg{gen: gen, board: b.Cleaned(), err: err}
	}
}

func fetchCmd(ctx context.Context, f Fetcher, gen int, now bool) tea.Cmd {
	if f == nil {
		return func() tea.Msg { return fetchDoneMsg{gen: gen} }
	}
	if sf, ok := f.(SharedFetcher); ok && now {
		return func() tea.Msg { return fetchDoneMsg{gen: gen, err: sf.FetchNow(ctx)} }
	}
	return func() tea.Msg { return fetchDoneMsg{gen: gen, err: f.Fetch(ctx)} }
}

func refreshCmd(ctx context.Context, r Refresher, stage string, apps []string, hard bool) tea.Cmd {
	if r == nil || len(apps) == 0 {
		return nil
	}
	return func() tea.Msg { return refreshDoneMsg{err: r.Refresh(ctx, stage, apps, hard)} }
}

func tickCmd() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

func watchCmd(ctx context.Context, w Watcher, gen int) tea.Cmd {
	return func() tea.Msg {
		s, err := w.Watch(ctx)
		return watchOpenedMsg{gen: gen, stream: s, err: err}
	}
}

// nextEventsCmd waits for the next burst of changes; the handler re-arms it.
func nextEventsCmd(s AppStream, gen int) tea.Cmd {
	return func() tea.Msg {
		in, err := s.Next()
		// A new slice: the stream's may be shared with other consoles.
		events := make([]AppEvent, len(in))
		for i, ev := range in {
			ev.App = ev.App.Cleaned()
			events[i] = ev
		}
		return watchEventsMsg{gen: gen, stream: s, events: events, err: err}
	}
}

func pendingCmd(ctx context.Context, r PendingReader, stage string, app board.App) tea.Cmd {
	if r == nil || app.DeployedRevision == "" {
		return nil
	}
	// Only what git's side reads: the rest of the row may change meanwhile.
	app = board.App{Name: app.Name, Path: app.Path, MorePaths: app.MorePaths, LinkedPaths: app.LinkedPaths, DeployedRevision: app.DeployedRevision}
	return func() tea.Msg {
		a, err := r.Pending(ctx, app)
		return pendingMsg{stage: stage, app: app.Name, deployed: app.DeployedRevision, git: a.Cleaned(), err: err}
	}
}

func saveCacheCmd(c CacheWriter, b *board.Board) tea.Cmd {
	if c == nil || b == nil {
		return nil
	}
	return func() tea.Msg { return cacheSavedMsg{err: c.Save(b)} }
}

// DiffSource renders redacted unified diffs.
type DiffSource interface {
	PendingDiff(ctx context.Context, req review.Request) (string, error)
	CompareDiff(ctx context.Context, head, dirA, dirB string) (string, error)
	ManifestDiff(ctx context.Context, targets []review.Target) (string, error)
}

// errCachedBoard refuses actions decided on the board from disk: the
// config's protection may have changed since it was saved.
var errCachedBoard = errors.New("the board is from the cache: wait for the first refresh before syncing or rolling back")

// errMatrixActions explains why the matrix does not act on its rows.
var errMatrixActions = errors.New("the matrix shows where each revision runs: tab back to the board to act on a stage or app")

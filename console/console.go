// Package console runs the interactive board: it adapts a session's real
// clients to the tui's small interfaces, merges the Argo CD watches of every
// instance into one stream, and keeps the last board on disk for an instant
// first paint.
package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/stagedeck/stagedeck/argo"
	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/demo"
	"github.com/stagedeck/stagedeck/deploy"
	"github.com/stagedeck/stagedeck/feed"
	"github.com/stagedeck/stagedeck/opsrepo"
	"github.com/stagedeck/stagedeck/review"
	"github.com/stagedeck/stagedeck/session"
	"github.com/stagedeck/stagedeck/tui"
)

// live adapts the session's real clients to the console's small interfaces.
// The session opens on first use, inside a Cmd, so the console paints
// (cached board or loading) before any clone, fetch or Argo CD dial.
type live struct{ lazy *lazySession }

type lazySession struct {
	flags session.Flags
	mu    sync.Mutex
	s     *session.Session
	early error // start's error, for the first get to return
}

// start opens the session in the background, so that its dials, lists
// and clone run while the console starts; a get waits for it.
func (l *lazySession) start(ctx context.Context) {
	l.mu.Lock() // here, not in the goroutine: no get goes first
	go func() {
		defer l.mu.Unlock()
		l.s, l.early = session.Open(ctx, l.flags, false)
	}()
}

func (l *lazySession) get(ctx context.Context) (*session.Session, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.early; err != nil {
		l.early = nil // the next get tries again
		return nil, err
	}
	if l.s == nil {
		s, err := session.Open(ctx, l.flags, false)
		if err != nil {
			return nil, err // retried on the next refresh
		}
		l.s = s
	}
	return l.s, nil
}

func (l *lazySession) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s != nil {
		l.s.Close()
	}
}

// client is the Argo CD client serving stage, on the session.
func (l live) client(ctx context.Context, stage string) (*argo.Client, error) {
	s, err := l.lazy.get(ctx)
	if err != nil {
		return nil, err
	}
	return s.ClientFor(stage)
}

func (l live) Collect(ctx context.Context) (*board.Board, error) {
	s, err := l.lazy.get(ctx)
	if err != nil {
		return nil, err
	}
	b, err := board.Collect(ctx, s.Sources())
	// A collect is a burst: the fleet's list, decoded and converted, is
	// garbage once the board is built. Go keeps freed memory for minutes;
	// a console idles between refreshes, so it is given back now (at
	// 2,007 apps: 30 MB private instead of 39-49).
	go giveBack()
	return b, err
}

// giveBack returns the memory a collect freed to the system.
var giveBack = debug.FreeOSMemory

func (l live) Fetch(ctx context.Context) error {
	s, err := l.lazy.get(ctx)
	if err != nil {
		return err
	}
	return s.Repo.Fetch(ctx)
}

// Refresh asks the Argo CD serving stage to reconcile its apps (a Get with
// refresh; List ignores it). Only that instance is asked: real Argo CD
// answers "permission denied" for an app it does not have, so probing the
// others would only turn into errors.
func (l live) Refresh(ctx context.Context, stage string, apps []string, hard bool) error {
	mode := "normal"
	if hard {
		mode = "hard"
	}
	c, err := l.client(ctx, stage)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range apps {
		cctx, cancel := argo.WithTimeout(ctx)
		_, err := c.Get(cctx, name, mode)
		cancel()
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Pending recomputes git's side of one app whose deployed revision or
// paths moved: its pending commits over every path and the commit of its
// path that runs, as a full collect would.
func (l live) Pending(ctx context.Context, app board.App) (board.App, error) {
	deployed := app.DeployedRevision
	s, err := l.lazy.get(ctx)
	if err != nil {
		return board.App{}, err
	}
	fill := func() (board.App, error) {
		head, err := s.Repo.Head()
		if err != nil {
			return board.App{}, err
		}
		apps := []board.App{{Path: app.Path, MorePaths: app.MorePaths, LinkedPaths: app.LinkedPaths, DeployedRevision: deployed}}
		err = board.FillPending(ctx, s.Repo, head, apps)
		return apps[0], err
	}
	a, err := fill()
	if err == nil && a.NotAncestor {
		if _, rerr := s.Repo.Resolve(deployed); errors.Is(rerr, opsrepo.ErrUnknownRevision) {
			// Deployed by Argo CD but pushed after our last fetch: fetch, look again.
			if err := s.Repo.Fetch(ctx); err != nil {
				return board.App{}, err
			}
			a, err = fill()
		}
	}
	return a, err
}

// Watch merges the watch streams of every Argo CD context into one.
func (l live) Watch(ctx context.Context) (tui.AppStream, error) {
	s, err := l.lazy.get(ctx)
	if err != nil {
		return nil, err
	}
	if len(s.Argo) == 0 {
		for _, err := range s.ArgoErr {
			return nil, err
		}
		return nil, fmt.Errorf("argo cd: %w", argo.ErrUnreachable)
	}
	ctx, cancel := context.WithCancel(ctx)
	m := &mergedStream{ch: make(chan streamItem, 64), ctx: ctx, cancel: cancel}
	src := s.Sources()
	var firstErr error
	opened := 0
	for name, c := range s.Argo {
		w, err := c.Watch(ctx, "")
		if err != nil {
			// One unreachable Argo CD must not stop the others' live rows;
			// its stages show the error from the last refresh.
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		opened++
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			for {
				ev, err := w.Next()
				if err != nil {
					select {
					case m.ch <- streamItem{err: err}:
					case <-ctx.Done():
					}
					return
				}
				stage, app, ok := src.Place(name, ev.App)
				if !ok {
					continue
				}
				item := streamItem{ev: tui.AppEvent{Stage: stage, App: app, Deleted: ev.Type == argo.Deleted}}
				select {
				case m.ch <- item:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	if opened == 0 {
		cancel()
		return nil, firstErr
	}
	return m, nil
}

type streamItem struct {
	ev  tui.AppEvent
	err error
}

type mergedStream struct {
	ch     chan streamItem
	ctx    context.Context // ends every watch; Next returns then
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// burstWindow is how long Next keeps gathering after the first change.
const burstWindow = 40 * time.Millisecond

func (m *mergedStream) Next() ([]tui.AppEvent, error) {
	var it streamItem
	select {
	case it = <-m.ch:
	case <-m.ctx.Done():
		return nil, m.ctx.Err()
	}
	if it.err != nil {
		return nil, it.err
	}
	events := []tui.AppEvent{it.ev}
	deadline := time.NewTimer(burstWindow)
	defer deadline.Stop()
	for len(events) < 256 {
		select {
		case it := <-m.ch:
			if it.err != nil {
				return events, it.err
			}
			events = append(events, it.ev)
		case <-deadline.C:
			return events, nil
		}
	}
	return events, nil
}

// Close ends every underlying watch.
func (m *mergedStream) Close() { m.cancel() }

// OpensWithState: Argo CD opens every watch with an event per app.
func (m *mergedStream) OpensWithState() bool { return true }

// boardCache keeps the last board on disk for an instant first paint. It
// is gob, not JSON: at 2,000 apps encoding/json took 20 ms to read it
// back, gob 3, on the path of the warm first paint. It keeps the values
// the board's JSON keeps, not the fields JSON leaves out (json:"-":
// whether an operation runs now, resource versions, e-mail addresses);
// an empty list comes back nil, which the console reads alike. Gob
// matches fields by their Go names: renaming one is a new SchemaVersion.
type boardCache struct{ path string }

// encodeCached is b in gob without its json:"-" fields; b is not changed.
// They are cleared on b's Cleaned copy, which copies each stage, app and
// commit, and is what the console shows of a loaded board anyway.
func encodeCached(b *board.Board) ([]byte, error) {
	c := b.Cleaned()
	clearUnshown(reflect.ValueOf(c).Elem())
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(c)
	return buf.Bytes(), err
}

// clearUnshown zeroes, through structs, pointers and slices, every field
// tagged json:"-".
func clearUnshown(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			clearUnshown(v.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			clearUnshown(v.Index(i))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			switch {
			case !f.IsExported():
			case f.Tag.Get("json") == "-":
				v.Field(i).SetZero()
			default:
				clearUnshown(v.Field(i))
			}
		}
	}
}

func cachePathFor(cfgPath, url string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(cfgPath + "\x00" + url))
	return filepath.Join(dir, "stagedeck", "board-"+hex.EncodeToString(sum[:8])+".gob")
}

func (c boardCache) Load() *board.Board {
	if c.path == "" {
		return nil
	}
	data, err := os.ReadFile(c.path)
	if err != nil {
		return nil
	}
	var b board.Board
	// A board of another shape would show its fields under the wrong names.
	if gob.NewDecoder(bytes.NewReader(data)).Decode(&b) != nil || b.SchemaVersion != board.SchemaVersion {
		return nil
	}
	return &b
}

func (c boardCache) Save(b *board.Board) error {
	if c.path == "" {
		return nil
	}
	data, err := encodeCached(b)
	if err != nil {
		return err
	}
	if err := opsrepo.PrivateDir(filepath.Dir(c.path)); err != nil {
		return err
	}
	// A unique temp file (0600 from CreateTemp) renamed into place: two
	// consoles never interleave, a reader never sees half a file.
	f, err := os.CreateTemp(filepath.Dir(c.path), ".board-*.tmp")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(f.Name())
		return werr
	}
	if err := os.Rename(f.Name(), c.path); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	if old, ok := strings.CutSuffix(c.path, ".gob"); ok {
		_ = os.Remove(old + ".json") // earlier versions' JSON cache
	}
	return nil
}

// Shared is what every console of one process shares: the config, the
// session (opened on first use, inside a Cmd), the adapter over it, the
// board feed and the board cache. `stagedeck` runs one console on it,
// `stagedeck serve` one per SSH session.
type Shared struct {
	Config *config.Config // the demo's stages for --demo, until the sandbox runs
	Feed   *feed.Feed
	flags  session.Flags
	lazy   *lazySession
	live   live
	cache  boardCache
	cached *board.Board
}

// NewShared reads the config and the cached board; nothing is dialled or
// cloned until the first refresh.
func NewShared(ctx context.Context, flags session.Flags) (*Shared, error) {
	sh := &Shared{flags: flags, lazy: &lazySession{flags: flags}}
	sh.Config = &config.Config{ArgoCD: &config.ArgoCD{Context: "demo"}, Stages: demo.Stages, Refresh: config.Duration{Duration: 10 * time.Second}}
	if !flags.Demo {
		cfg, err := session.LoadConfig(flags)
		if err != nil {
			return nil, cmdutil.WithCode(cmdutil.ExitUsage, err)
		}
		sh.Config = cfg
		sh.cache = boardCache{path: cachePathFor(cfg.Path, cfg.OpsRepo.URL)}
		sh.cached = sh.cache.Load()
	}
	sh.live = live{sh.lazy}
	sh.Feed = feed.New(ctx, sh.live, 0)
	return sh, nil
}

// Session is the shared session, opened on first use.
func (sh *Shared) Session(ctx context.Context) (*session.Session, error) { return sh.lazy.get(ctx) }

// Close closes the session (and removes the demo sandbox).
func (sh *Shared) Close() { sh.lazy.Close() }

// Console is what differs between consoles on one Shared: who acts.
type Console struct {
	// Operator is who acts ("Name <email>"); OperatorErr why there is none.
	Operator    string
	OperatorErr error
	ReadOnly    bool
	Pager       string // "" = no pager (always so over SSH)
	ASCII       bool
}

// Options are the tui options of one console over the shared feed.
func (sh *Shared) Options(ctx context.Context, c Console) tui.Options {
	cfg, l, fd := sh.Config, sh.live, sh.Feed
	opts := tui.Options{
		Ctx: ctx, Source: fd, Fetcher: fd, Pending: l, Cache: sh.cache, Cached: sh.cached, Diff: l, Rollback: l,
		Pager: c.Pager, Operator: c.Operator, OperatorErr: c.OperatorErr,
		Demo: sh.flags.Demo, ReadOnly: c.ReadOnly || sh.flags.ReadOnly || cfg.ReadOnly, Interval: cfg.Refresh.Duration, ASCII: c.ASCII,
	}
	if !cfg.GitOnly() {
		opts.Refresh, opts.Watcher, opts.Syncer = l, fd, l
		seen := map[string]bool{}
		for _, st := range cfg.Stages {
			name := cfg.ContextFor(st)
			if name == "" {
				name = "current"
			}
			if !seen[name] {
				seen[name] = true
				opts.Contexts = append(opts.Contexts, name)
			}
		}
	}
	return opts
}

// Run opens the interactive board until the user quits or ctx ends.
func Run(ctx context.Context, flags session.Flags) error {
	cmdutil.LeanHeap()
	sh, err := NewShared(ctx, flags)
	if err != nil {
		return err
	}
	defer sh.Close()
	if sh.cached == nil {
		// Without a board to draw, the first frame waits for the session:
		// it opens while the terminal and the rest start (10-20 ms). Over a
		// cached board the frame comes first (tui's afterFirstFrame).
		sh.lazy.start(ctx)
	}
	op, opErr := opsrepo.DefaultOperator()
	if opErr != nil && flags.Demo {
		op, opErr = session.DemoOperator, nil
	}
	opts := sh.Options(ctx, Console{Operator: op.String(), OperatorErr: opErr, Pager: diffPager(), ASCII: !UTF8Locale(os.Getenv)})
	p := tea.NewProgram(tui.New(opts), tea.WithContext(ctx))
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) && ctx.Err() == nil {
		return cmdutil.WithCode(cmdutil.ExitUsage, fmt.Errorf("console: %w", err))
	}
	return nil
}

func (l live) PendingDiff(ctx context.Context, req review.Request) (string, error) {
	s, err := l.lazy.get(ctx)
	if err != nil {
		return "", err
	}
	return review.Pending(ctx, s.Repo, req)
}

func (l live) CompareDiff(ctx context.Context, head, dirA, dirB string) (string, error) {
	s, err := l.lazy.get(ctx)
	if err != nil {
		return "", err
	}
	return review.Compare(ctx, s.Repo, head, dirA, dirB)
}

func (l live) ManifestDiff(ctx context.Context, targets []review.Target) (string, error) {
	s, err := l.lazy.get(ctx)
	if err != nil {
		return "", err
	}
	return review.Manifests(ctx, func(stage string) (review.ResourceLister, error) { return s.ClientFor(stage) }, targets)
}

func (l live) CheckSync(ctx context.Context, stage string, apps []board.App) ([]tui.SyncCheck, error) {
	c, err := l.client(ctx, stage)
	if err != nil {
		return nil, err
	}
	var out []tui.SyncCheck
	for _, ch := range deploy.Checks(ctx, c, apps) {
		out = append(out, tui.SyncCheck{App: ch.App.Name, Allowed: ch.Allowed, Problem: ch.Problem})
	}
	return out, nil
}

// StartSyncs sends a stage's syncs as the CLI does: the revision must
// still be on the branch as the remote has it now (a force-push may have
// dropped the commit the owner reviewed), and every app is prepared against
// Argo CD before any is sent, so a refusal leaves nothing half synced.
func (l live) StartSyncs(ctx context.Context, stage string, reqs []argo.SyncRequest) ([]tui.SyncStart, error) {
	c, err := l.client(ctx, stage)
	if err != nil {
		return nil, err
	}
	s, err := l.lazy.get(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Repo.Fetch(ctx); err != nil {
		return nil, fmt.Errorf("fetching %s to check the revision is still on it: %w (nothing was sent)", s.Repo.Branch(), err)
	}
	prepared := make([]deploy.Prepared, 0, len(reqs))
	for _, req := range reqs {
		rev, err := deploy.ReviewedRevision(ctx, s.Repo, req.Revision)
		if err != nil {
			return nil, fmt.Errorf("%w (nothing was sent)", err)
		}
		req.Revision, req.RepoURLs = rev, s.Repo.RemoteURLs()
		p, err := deploy.Prepare(ctx, c, req)
		if err != nil {
			return nil, fmt.Errorf("%w (nothing was sent)", err)
		}
		prepared = append(prepared, p)
	}
	var out []tui.SyncStart
	for _, p := range prepared {
		requested, err := deploy.Send(ctx, c, p)
		if err != nil {
			return out, err
		}
		out = append(out, tui.SyncStart{App: p.Req.App, Revision: p.Req.Revision, Requested: requested, PrevStarted: p.PrevStarted, DryRun: p.Req.DryRun})
	}
	return out, nil
}

func (l live) FollowSync(ctx context.Context, stage string, st tui.SyncStart) tui.SyncFollower {
	c, err := l.client(ctx, stage)
	if err != nil {
		return failedFollower{err}
	}
	ctx, cancel := context.WithTimeout(ctx, followTimeout)
	return timedFollower{c.Follow(ctx, st.App, st.Revision, st.Requested, st.PrevStarted, st.DryRun), cancel}
}

// followTimeout bounds how long the console waits for a sync to finish and
// the app's health to settle.
const followTimeout = 10 * time.Minute

// timedFollower gives up following after followTimeout, saying so plainly.
type timedFollower struct {
	f      *argo.Follower
	cancel context.CancelFunc
}

func (t timedFollower) Next() (argo.Observation, error) {
	o, err := t.f.Next()
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no final state after %s: the operation may still be running (nothing was re-sent); watch the board", followTimeout)
	}
	return o, err
}

func (t timedFollower) Close() {
	t.f.Close()
	t.cancel()
}

func (l live) Terminate(ctx context.Context, stage, app string) error {
	c, err := l.client(ctx, stage)
	if err != nil {
		return err
	}
	return deploy.Terminate(ctx, c, app)
}

// failedFollower reports why following could not even start.
type failedFollower struct{ err error }

func (f failedFollower) Next() (argo.Observation, error) { return argo.Observation{}, f.err }
func (failedFollower) Close()                            {}

func (l live) History(ctx context.Context, path string, limit int) ([]opsrepo.Commit, error) {
	s, err := l.lazy.get(ctx)
	if err != nil {
		return nil, err
	}
	head, err := s.Repo.Head()
	if err != nil {
		return nil, err
	}
	return s.Repo.History(ctx, head, path, limit)
}

// PrepareRollback fetches first, so the commit is built on the remote's head.
func (l live) PrepareRollback(ctx context.Context, rb opsrepo.Rollback) (*opsrepo.Plan, error) {
	s, err := l.lazy.get(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Repo.Fetch(ctx); err != nil {
		return nil, err
	}
	return s.Repo.PrepareRollback(ctx, rb)
}

func (l live) PublishRollback(ctx context.Context, plan *opsrepo.Plan, rb opsrepo.Rollback) (opsrepo.PublishResult, error) {
	s, err := l.lazy.get(ctx)
	if err != nil {
		return opsrepo.PublishResult{}, err
	}
	return s.Repo.Publish(ctx, plan, rb)
}

// diffPager is the command the console hands a diff to: STAGEDECK_DIFF_PAGER,
// else $PAGER, else less -R when installed ("" = no pager).
func diffPager() string {
	for _, v := range []string{"STAGEDECK_DIFF_PAGER", "PAGER"} {
		if p := strings.TrimSpace(os.Getenv(v)); p != "" {
			return p
		}
	}
	if _, err := exec.LookPath("less"); err == nil {
		return "less -R"
	}
	return ""
}

// UTF8Locale reports whether the terminal's locale can show the console's
// symbols: LC_ALL, else LC_CTYPE, else LANG; unset means UTF-8 (most
// terminals today), an explicit C or POSIX or other charset means ASCII.
// getenv is the process's, or an SSH session's.
func UTF8Locale(getenv func(string) string) bool {
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if l := getenv(v); l != "" {
			l = strings.ToLower(l)
			return strings.Contains(l, "utf-8") || strings.Contains(l, "utf8")
		}
	}
	return true
}

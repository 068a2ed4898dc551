// Package feed shares one board feed between several consoles: one git
// fetcher, one collect at a time, and one Argo CD watch whose events fan out
// to every subscriber. A single console uses it too, so the shared path is
// the path that runs.
package feed

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/tui"
)

// Upstream is what the feed shares: it collects boards, fetches git and
// opens the merged watch of every Argo CD instance.
type Upstream interface {
	tui.BoardSource
	tui.Fetcher
	tui.Watcher
}

// ErrBehind ends a subscriber that could not keep up; its console
// reconnects and re-collects, as after any watch error.
var ErrBehind = errors.New("watch: this console fell behind the shared feed; reconnecting")

// DefaultFresh is how long a fetch or a board is reused by the consoles
// that ask for one after it.
const DefaultFresh = 2 * time.Second

// subBuffer is how many bursts a subscriber may lag before it is dropped.
const subBuffer = 256

// Feed implements tui.BoardSource, tui.Fetcher and tui.Watcher over one
// Upstream, for any number of consoles.
type Feed struct {
	ctx   context.Context // the feed's lifetime: git and Argo CD calls run under it
	up    Upstream
	fresh time.Duration
	now   func() time.Time

	fetch   shared[struct{}]
	collect shared[*board.Board]

	mu      sync.Mutex
	current *pump         // the upstream watch followed now, if any
	opening chan struct{} // closed when an upstream open attempt ends
	openErr error
	watches int // upstream watches opened, for tests and figures
}

// New builds a feed living as long as ctx; fresh <= 0 means DefaultFresh.
func New(ctx context.Context, up Upstream, fresh time.Duration) *Feed {
	if fresh <= 0 {
		fresh = DefaultFresh
	}
	return &Feed{ctx: ctx, up: up, fresh: fresh, now: time.Now}
}

// Fetch fetches git once for every console asking at about the same time,
// reusing a fetch that ended less than fresh ago.
func (f *Feed) Fetch(ctx context.Context) error {
	return f.doFetch(ctx, f.fresh)
}

// FetchNow fetches git again (joining a fetch already running): after a
// key press or a push the board must show what happened.
func (f *Feed) FetchNow(ctx context.Context) error {
	return f.doFetch(ctx, 0)
}

func (f *Feed) doFetch(ctx context.Context, fresh time.Duration) error {
	_, err := f.fetch.do(f.ctx, ctx, fresh, f.now, func(ctx context.Context) (struct{}, error) {
		err := f.up.Fetch(ctx)
		// What git has changed: a board collected before is not reused.
		f.collect.forget()
		return struct{}{}, err
	})
	return err
}

// Collect returns a board collected once for every console asking at about
// the same time; each caller gets its own copy to change.
func (f *Feed) Collect(ctx context.Context) (*board.Board, error) {
	b, err := f.collect.do(f.ctx, ctx, f.fresh, f.now, f.up.Collect)
	return b.Clone(), err // the console cleans it, as any board it collects
}

// Subscribers is how many consoles follow the watch now.
func (f *Feed) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.current == nil {
		return 0
	}
	return len(f.current.subs)
}

// UpstreamWatches is how many times the upstream watch was opened.
func (f *Feed) UpstreamWatches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.watches
}

// Watch subscribes a console to the shared watch, opening the upstream one
// when nobody follows it yet. The stream ends when ctx does or on Close.
func (f *Feed) Watch(ctx context.Context) (tui.AppStream, error) {
	for {
		f.mu.Lock()
		if p := f.current; p != nil {
			s := p.subscribeLocked(f)
			// It joins without the opening burst and re-lists: that list
			// must start after the join, not be one collected before.
			f.collect.forget()
			f.mu.Unlock()
			go s.closeOn(ctx)
			return s, nil
		}
		if wait := f.opening; wait != nil { // another console is opening it
			f.mu.Unlock()
			select {
			case <-wait:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			f.mu.Lock()
			err, opened := f.openErr, f.current != nil
			f.mu.Unlock()
			if !opened && err != nil {
				return nil, err
			}
			continue
		}
		f.opening = make(chan struct{})
		f.mu.Unlock()
		return f.open(ctx)
	}
}

// open starts the upstream watch and the pump that fans it out.
func (f *Feed) open(ctx context.Context) (tui.AppStream, error) {
	// The upstream lives as long as anyone follows it (and the feed), not
	// as long as the console that happened to open it.
	uctx, cancel := context.WithCancel(f.ctx)
	up, err := f.up.Watch(uctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.watches++
	close(f.opening)
	f.opening, f.openErr = nil, err
	if err != nil {
		cancel()
		return nil, err
	}
	p := &pump{cancel: cancel, subs: map[*subscriber]struct{}{}}
	f.current = p
	s := p.subscribeLocked(f)
	s.state = tui.OpensWithState(up)
	go s.closeOn(ctx)
	go f.run(p, up)
	return s, nil
}

// pump is one upstream watch and the consoles following it.
type pump struct {
	cancel context.CancelFunc
	subs   map[*subscriber]struct{}
}

func (p *pump) subscribeLocked(f *Feed) *subscriber {
	s := &subscriber{f: f, p: p, ch: make(chan item, subBuffer), done: make(chan struct{})}
	p.subs[s] = struct{}{}
	return s
}

// run reads the upstream and hands every burst to every subscriber. A
// console alone on the feed is waited for (its pager may hold it); among
// several, one whose buffer is full is ended rather than slowing the others.
func (f *Feed) run(p *pump, up tui.AppStream) {
	defer up.Close()
	for {
		events, err := up.Next()
		f.mu.Lock()
		subs := make([]*subscriber, 0, len(p.subs))
		for s := range p.subs {
			subs = append(subs, s)
		}
		f.mu.Unlock()
		if len(events) > 0 {
			for _, s := range subs {
				it := item{events: slices.Clone(events)}
				if len(subs) == 1 {
					s.sendWait(it)
				} else if !s.send(it) {
					f.drop(p, s, ErrBehind)
				}
			}
		}
		f.mu.Lock()
		if err != nil || len(p.subs) == 0 {
			if err == nil {
				err = errors.New("watch: no console follows it")
			}
			for s := range p.subs {
				s.end(err)
				delete(p.subs, s)
			}
			if f.current == p {
				f.current = nil
			}
			p.cancel()
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
	}
}

// drop ends a subscriber that fell behind.
func (f *Feed) drop(p *pump, s *subscriber, err error) {
	f.mu.Lock()
	delete(p.subs, s)
	f.mu.Unlock()
	s.end(err)
}

// unsubscribe drops s; the last one leaving ends the upstream watch.
func (f *Feed) unsubscribe(s *subscriber) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := s.p
	if _, ok := p.subs[s]; !ok {
		return
	}
	delete(p.subs, s)
	if len(p.subs) == 0 {
		if f.current == p {
			f.current = nil
		}
		p.cancel() // the run loop sees the upstream end and stops
	}
}

type item struct {
	events []tui.AppEvent
	err    error
}

// subscriber is one console's view of the shared watch.
type subscriber struct {
	f    *Feed
	p    *pump
	ch   chan item
	once sync.Once
	done chan struct{}
	// state: this console opened the upstream watch and gets its opening
	// burst (every app's state); one that joined an open watch does not.
	state bool
}

// OpensWithState reports whether this console gets the upstream's opening
// burst; one that joined must re-list what changed before it joined.
func (s *subscriber) OpensWithState() bool { return s.state }

// sendWait queues it, waiting for room unless s ends first.
func (s *subscriber) sendWait(it item) {
	select {
	case s.ch <- it:
	case <-s.done:
	}
}

func (s *subscriber) send(it item) bool {
	select {
	case s.ch <- it:
		return true
	default:
		return false
	}
}

// end queues err as the stream's last item, making room for it when the
// buffer is full (the console re-collects after an error anyway).
func (s *subscriber) end(err error) {
	s.once.Do(func() {
		for !s.send(item{err: err}) {
			select {
			case <-s.ch:
			default:
			}
		}
		close(s.done)
	})
}

// closeOn closes s when ctx ends; it returns when s ends either way.
func (s *subscriber) closeOn(ctx context.Context) {
	select {
	case <-ctx.Done():
		s.Close()
	case <-s.done:
	}
}

// Next returns the next burst, or the error that ended the stream.
func (s *subscriber) Next() ([]tui.AppEvent, error) {
	it := <-s.ch
	return it.events, it.err
}

// Close leaves the feed; a Next waiting returns.
func (s *subscriber) Close() {
	s.f.unsubscribe(s)
	s.end(context.Canceled)
}

// shared runs one call at a time for every caller, and reuses a result for
// fresh after it finished.
type shared[T any] struct {
	mu       sync.Mutex
	epoch    int // bumped by forget: calls started before it are not joined or kept
	inflight *call[T]
	last     *call[T]
}

type call[T any] struct {
	epoch    int
	done     chan struct{}
	val      T
	err      error
	finished time.Time
}

// forget drops the last result: the next call runs fn again.
func (s *shared[T]) forget() {
	s.mu.Lock()
	s.epoch++
	s.last = nil
	s.mu.Unlock()
}

// do runs fn under life (not the caller's ctx: others may wait on the same
// call); the caller stops waiting when ctx ends.
func (s *shared[T]) do(life, ctx context.Context, fresh time.Duration, now func() time.Time, fn func(context.Context) (T, error)) (T, error) {
	s.mu.Lock()
	if l := s.last; l != nil && l.err == nil && now().Sub(l.finished) < fresh {
		s.mu.Unlock()
		return l.val, nil
	}
	c := s.inflight
	if c == nil || c.epoch != s.epoch { // a call older than what git has now is not joined
		c = &call[T]{epoch: s.epoch, done: make(chan struct{})}
		s.inflight = c
		go func() {
			v, err := fn(life)
			s.mu.Lock()
			c.val, c.err, c.finished = v, err, now()
			if s.inflight == c {
				s.inflight = nil
			}
			if c.epoch == s.epoch {
				s.last = c
			}
			s.mu.Unlock()
			close(c.done)
		}()
	}
	s.mu.Unlock()
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

package feed

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/tui"
)

// upstream is a fake Upstream: counted calls, a stream the test feeds.
type upstream struct {
	collects, fetches, watches atomic.Int32
	slow                       time.Duration
	mu                         sync.Mutex
	streams                    []*stream
}

func (u *upstream) Collect(context.Context) (*board.Board, error) {
	u.collects.Add(1)
	time.Sleep(u.slow)
	return &board.Board{Stages: []board.Stage{{Name: "tst", Apps: []board.App{{Name: "web"}}}}, KnownHealthy: map[string]string{"tst/web": "abc"}}, nil
}

func (u *upstream) Fetch(context.Context) error {
	u.fetches.Add(1)
	time.Sleep(u.slow)
	return nil
}

func (u *upstream) Watch(ctx context.Context) (tui.AppStream, error) {
	u.watches.Add(1)
	s := &stream{ch: make(chan []tui.AppEvent), ctx: ctx}
	u.mu.Lock()
	u.streams = append(u.streams, s)
	u.mu.Unlock()
	return s, nil
}

func (u *upstream) last() *stream {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.streams[len(u.streams)-1]
}

type stream struct {
	ch     chan []tui.AppEvent
	ctx    context.Context
	fail   atomic.Pointer[error]
	closed atomic.Bool
}

func (s *stream) Next() ([]tui.AppEvent, error) {
	select {
	case ev, ok := <-s.ch:
		if !ok {
			return nil, *s.fail.Load()
		}
		return ev, nil
	case <-s.ctx.Done():
		return nil, s.ctx.Err()
	}
}

func (s *stream) Close() { s.closed.Store(true) }

// OpensWithState: like Argo CD's watch, the fake upstream opens with every
// app's state.
func (s *stream) OpensWithState() bool { return true }

func event(app string) []tui.AppEvent {
	return []tui.AppEvent{{Stage: "tst", App: board.App{Name: app, HealthStatus: "Healthy"}}}
}

func TestOneUpstreamWatchFansOutToEverySubscriber(t *testing.T) {
	up := &upstream{}
	f := New(context.Background(), up, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var subs []tui.AppStream
	for range 3 {
		s, err := f.Watch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	if up.watches.Load() != 1 || f.Subscribers() != 3 {
		t.Fatalf("%d upstream watches, %d subscribers; want 1 and 3", up.watches.Load(), f.Subscribers())
	}
	// Only the console that opened the upstream gets its opening burst of
	// every app's state; the others joined later and must re-list.
	for i, s := range subs {
		if got := s.(tui.StateStream).OpensWithState(); got != (i == 0) {
			t.Errorf("subscriber %d opens with state: %v", i, got)
		}
	}
	up.last().ch <- event("web")
	for i, s := range subs {
		ev, err := s.Next()
		if err != nil || len(ev) != 1 || ev[0].App.Name != "web" {
			t.Errorf("subscriber %d: %v %v", i, ev, err)
		}
	}
	// The upstream fails: every console hears it; the next Watch opens a new one.
	bad := errors.New("argo cd: stream closed")
	up.last().fail.Store(&bad)
	close(up.last().ch)
	for i, s := range subs {
		if _, err := s.Next(); !errors.Is(err, bad) {
			t.Errorf("subscriber %d after the upstream failed: %v", i, err)
		}
		s.Close()
	}
	s, err := f.Watch(ctx)
	if err != nil || up.watches.Load() != 2 {
		t.Fatalf("reconnect: %v, %d upstream watches", err, up.watches.Load())
	}
	// The last console leaving ends the upstream watch.
	first := up.last()
	s.Close()
	waitFor(t, "the upstream watch to end", func() bool { return first.ctx.Err() != nil && first.closed.Load() })
	if f.Subscribers() != 0 {
		t.Errorf("%d subscribers left", f.Subscribers())
	}
}

func TestSlowSubscriberIsDroppedNotTheOthers(t *testing.T) {
	up := &upstream{}
	f := New(context.Background(), up, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow, _ := f.Watch(ctx)
	fast, _ := f.Watch(ctx)
	done := make(chan int)
	go func() {
		n := 0
		for {
			if _, err := fast.Next(); err != nil {
				done <- n
				return
			}
			n++
			if n == subBuffer+10 {
				done <- n
				return
			}
		}
	}()
	for range subBuffer + 10 {
		up.last().ch <- event("web")
	}
	if n := <-done; n != subBuffer+10 {
		t.Errorf("the fast console got %d bursts", n)
	}
	var err error
	for err == nil {
		_, err = slow.Next()
	}
	if !errors.Is(err, ErrBehind) {
		t.Errorf("the slow console ended with %v, want ErrBehind", err)
	}
}

// Consoles refreshing together share one fetch and one collect, and each
// gets a board of its own to change.
func TestRefreshesAreShared(t *testing.T) {
	up := &upstream{slow: 50 * time.Millisecond}
	f := New(context.Background(), up, time.Second)
	var wg sync.WaitGroup
	boards := make([]*board.Board, 5)
	for i := range boards {
		wg.Go(func() {
			if err := f.Fetch(context.Background()); err != nil {
				t.Error(err)
			}
			b, err := f.Collect(context.Background())
			if err != nil {
				t.Error(err)
			}
			boards[i] = b
		})
	}
	wg.Wait()
	if up.fetches.Load() != 1 || up.collects.Load() != 1 {
		t.Errorf("%d fetches, %d collects for 5 consoles; want 1 and 1", up.fetches.Load(), up.collects.Load())
	}
	boards[0].Stages[0].Apps[0].Name = "changed"
	boards[0].KnownHealthy["tst/web"] = "changed"
	if boards[1].Stages[0].Apps[0].Name != "web" || boards[1].KnownHealthy["tst/web"] != "abc" {
		t.Error("consoles share one board: a change in one shows in another")
	}
	f.now = func() time.Time { return time.Now().Add(2 * time.Second) }
	if _, err := f.Collect(context.Background()); err != nil || up.collects.Load() != 2 {
		t.Errorf("a stale board was reused: %d collects", up.collects.Load())
	}
}

// 200 consoles subscribe and leave (by Close or by their context): no
// goroutine stays behind.
func TestNoGoroutinesLeftBehind(t *testing.T) {
	up := &upstream{}
	f := New(context.Background(), up, 0)
	before := runtime.NumGoroutine()
	for i := range 200 {
		ctx, cancel := context.WithCancel(context.Background())
		s, err := f.Watch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			s.Close()
		}
		cancel()
	}
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before+1 })
	if f.Subscribers() != 0 {
		t.Errorf("%d subscribers left", f.Subscribers())
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (%d goroutines)", what, runtime.NumGoroutine())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A key press or a push fetches again; a fetch that ran makes the next
// collect read git again.
func TestFetchNowIsNotReused(t *testing.T) {
	up := &upstream{}
	f := New(context.Background(), up, time.Minute)
	for range 2 {
		if err := f.Fetch(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Collect(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if up.fetches.Load() != 1 || up.collects.Load() != 1 {
		t.Fatalf("%d fetches, %d collects within the fresh window; want 1 and 1", up.fetches.Load(), up.collects.Load())
	}
	if err := f.FetchNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if up.fetches.Load() != 2 || up.collects.Load() != 2 {
		t.Errorf("after FetchNow: %d fetches, %d collects; want 2 and 2", up.fetches.Load(), up.collects.Load())
	}
}

// A collect that started before a fetch is not handed to a console that
// asks after it: its board lacks what the fetch brought.
func TestCollectAfterAFetchIsNotAnOlderOne(t *testing.T) {
	up := &upstream{slow: 200 * time.Millisecond}
	f := New(context.Background(), up, time.Minute)
	old := make(chan struct{})
	go func() {
		_, _ = f.Collect(context.Background()) // slow, started first
		close(old)
	}()
	time.Sleep(50 * time.Millisecond)
	if err := f.FetchNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := up.collects.Load()
	if _, err := f.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-old
	if up.collects.Load() != before+1 {
		t.Errorf("the collect after the fetch joined the older one (%d collects)", up.collects.Load())
	}
}

// A console alone on the feed is waited for (its pager may hold it for
// minutes): it is never dropped, and gets every burst.
func TestALoneConsoleIsNotDropped(t *testing.T) {
	up := &upstream{}
	f := New(context.Background(), up, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, _ := f.Watch(ctx)
	sent := make(chan struct{})
	go func() {
		for range subBuffer + 20 {
			up.last().ch <- event("web")
		}
		close(sent)
	}()
	time.Sleep(100 * time.Millisecond) // the console is busy (a pager)
	n := 0
	for n < subBuffer+20 {
		if _, err := s.Next(); err != nil {
			t.Fatalf("after %d bursts: %v", n, err)
		}
		n++
	}
	<-sent
}

// BenchmarkFanOutBurst is the watch at fleet scale: a burst of 500 app
// changes through one upstream watch to three consoles, until each has
// received all 500. The upstream hands them over in batches of 25, as the
// console's merged stream batches what arrived together.
func BenchmarkFanOutBurst(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	up := &upstream{}
	f := New(ctx, up, 0)
	subs := make([]tui.AppStream, 3)
	for i := range subs {
		s, err := f.Watch(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		subs[i] = s
	}
	src := up.last()
	burst := make([][]tui.AppEvent, 20)
	for i := range burst {
		for j := 0; j < 25; j++ {
			burst[i] = append(burst[i], event(fmt.Sprintf("svc%04d", i*25+j))...)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		for _, s := range subs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for got := 0; got < 500; {
					evs, err := s.Next()
					if err != nil {
						b.Error(err)
						return
					}
					got += len(evs)
				}
			}()
		}
		for _, ev := range burst {
			src.ch <- ev
		}
		wg.Wait()
	}
}

// TestJoiningConsoleRelistsAfterItJoined: a console joining an open shared
// watch gets no opening burst and re-lists; that list must start after the
// join, not be a board collected before it.
func TestJoiningConsoleRelistsAfterItJoined(t *testing.T) {
	up := &upstream{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := New(ctx, up, time.Hour)
	if _, err := f.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	first, err := f.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, err := f.Collect(ctx); err != nil || up.collects.Load() != 1 {
		t.Fatalf("a fresh board was collected again (%d collects, %v)", up.collects.Load(), err)
	}
	joined, err := f.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer joined.Close()
	if _, err := f.Collect(ctx); err != nil || up.collects.Load() != 2 {
		t.Errorf("the joining console's re-list got the board from before it joined (%d collects, %v)", up.collects.Load(), err)
	}
}

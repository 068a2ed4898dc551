package console

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/stagedeck/stagedeck/argo/argotest"
	"github.com/stagedeck/stagedeck/feed"
	"github.com/stagedeck/stagedeck/session"
	"github.com/stagedeck/stagedeck/tui"
)

// probe keeps the last screen of a console the test cannot otherwise read
// while its program runs.
type probe struct {
	m    tea.Model
	last *atomic.Value
}

func (p probe) Init() tea.Cmd { return p.m.Init() }

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := p.m.Update(msg)
	p.m = m
	p.last.Store(ansi.Strip(m.View().Content))
	return p, cmd
}

func (p probe) View() tea.View { return p.m.View() }

// Three consoles on one feed over the demo sandbox (real git, Argo CD over
// gRPC): one watch stream reaches Argo CD, and an app added there shows in
// all three.
func TestThreeConsolesOnOneFeed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lazy := &lazySession{flags: session.Flags{Demo: true}}
	defer lazy.Close()
	s, err := lazy.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l := live{lazy}
	fd := feed.New(ctx, l, 0)
	views := make([]*atomic.Value, 3)
	done := make(chan struct{}, 3)
	for i := range views {
		views[i] = &atomic.Value{}
		views[i].Store("")
		m := tui.New(tui.Options{Ctx: ctx, Source: fd, Fetcher: fd, Watcher: fd, Refresh: l, Pending: l, Demo: true, ReadOnly: true, Contexts: []string{"demo"}})
		p := tea.NewProgram(probe{m, views[i]}, tea.WithContext(ctx), tea.WithInput(nil), tea.WithOutput(io.Discard),
			tea.WithWindowSize(120, 60), tea.WithoutSignals())
		go func() {
			_, _ = p.Run()
			done <- struct{}{}
		}()
	}
	all := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := 0
			for _, v := range views {
				if strings.Contains(v.Load().(string), what) {
					n++
				}
			}
			if n == len(views) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d consoles show %q; the first:\n%s", n, len(views), what, views[0].Load())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	all("tst-api")
	all("· live")
	s.Sandbox.Argo.AddApp(argotest.AppSpec{Name: "tst-extra", Project: "default", RepoURL: s.Sandbox.Remote, Path: "tst/api", Deployed: s.Sandbox.Head()})
	all("tst-extra")
	if w, n := s.Sandbox.Argo.Watchers(), fd.UpstreamWatches(); w != 1 || n != 1 || fd.Subscribers() != 3 {
		t.Errorf("Argo CD has %d watch streams (feed opened %d) for %d consoles; want one", w, n, fd.Subscribers())
	}
	cancel()
	for range views {
		<-done
	}
}

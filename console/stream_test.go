package console

import (
	"context"
	"errors"
	"testing"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/tui"
)

func TestMergedStreamBatchesABurst(t *testing.T) {
	m := &mergedStream{ch: make(chan streamItem, 8), ctx: context.Background(), cancel: func() {}}
	for _, name := range []string{"a", "b", "c"} {
		m.ch <- streamItem{ev: tui.AppEvent{Stage: "tst", App: board.App{Name: name}}}
	}
	events, err := m.Next()
	if err != nil || len(events) != 3 || events[2].App.Name != "c" {
		t.Fatalf("burst: %d events, %v", len(events), err)
	}
	m.ch <- streamItem{ev: tui.AppEvent{App: board.App{Name: "d"}}}
	m.ch <- streamItem{err: errors.New("stream closed")}
	events, err = m.Next()
	if err == nil || len(events) != 1 {
		t.Errorf("events before the end must still be delivered: %d, %v", len(events), err)
	}
}

// A closed stream returns from Next: the feed's pump must not wait forever.
func TestMergedStreamEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := &mergedStream{ch: make(chan streamItem), ctx: ctx, cancel: cancel}
	done := make(chan error)
	go func() { _, err := m.Next(); done <- err }()
	m.Close()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Next after Close: %v", err)
	}
}

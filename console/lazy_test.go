package console

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/internal/cmdtest"
	"github.com/stagedeck/stagedeck/session"
)

// started is a lazy session on cfg once its start has ended: what the
// early open made of it (closed when the test ends).
func started(t *testing.T, cfg string) (*lazySession, *session.Session, error) {
	l := &lazySession{flags: session.Flags{Config: cfg}}
	t.Cleanup(l.Close)
	l.start(context.Background())
	l.mu.Lock() // the early open has ended
	defer l.mu.Unlock()
	return l, l.s, l.early
}

// The console opens its session as it starts, without waiting for the
// first board to ask: that board takes the session (and its list), and
// the session is opened once.
func TestStartedSessionIsTheFirstBoards(t *testing.T) {
	sb, cfg := cmdtest.Sandbox(t, "")
	before := len(sb.Argo.Lists())
	l, opened, _ := started(t, cfg)
	if opened == nil {
		t.Fatal("start did not open the session")
	}
	s, err := l.get(context.Background())
	if err != nil || s != opened {
		t.Fatalf("the first get did not take the started session (%v)", err)
	}
	if again, err := l.get(context.Background()); err != nil || again != s {
		t.Fatalf("the second get opened another session (%v)", err)
	}
	// The first board takes the list the open started (waiting for it):
	// Argo CD is listed once.
	if _, err := board.Collect(context.Background(), s.Sources()); err != nil {
		t.Fatal(err)
	}
	if n := len(sb.Argo.Lists()) - before; n != 1 {
		t.Errorf("Argo CD listed %d times for the open and the first board, want once", n)
	}
}

// An early open that failed is reported by the next get, which does not
// open again (a slow failure would be waited for twice); the get after it
// tries again.
func TestStartedSessionsErrorIsReportedOnce(t *testing.T) {
	_, cfg := cmdtest.Sandbox(t, "")
	good, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(good), "stages:\n", "stages: [\n", 1) // not YAML
	if err := os.WriteFile(cfg, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	l, _, early := started(t, cfg)
	if early == nil {
		t.Fatal("the early open of a broken config did not fail")
	}
	if err := os.WriteFile(cfg, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.get(context.Background()); err == nil {
		t.Fatal("the early open's error was not reported: the get opened again")
	}
	if _, err := l.get(context.Background()); err != nil {
		t.Fatalf("the get after the error did not open again: %v", err)
	}
}

// Each collect gives the memory it freed back to the system (the fleet's
// list is garbage once the board is built; the console then idles).
func TestCollectGivesMemoryBack(t *testing.T) {
	_, cfg := cmdtest.Sandbox(t, "")
	called := make(chan struct{}, 4)
	defer func(f func()) { giveBack = f }(giveBack)
	giveBack = func() { called <- struct{}{} }
	l := live{&lazySession{flags: session.Flags{Config: cfg}}}
	defer l.lazy.Close()
	if _, err := l.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("the collect did not give its memory back")
	}
}

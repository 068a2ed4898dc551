package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var demoEnv = []string{"STAGEDECK_DEMO_SYNC_DURATION=300ms"}

func TestBoardShowsEveryStageAndQuitsCleanly(t *testing.T) {
	tm := start(t, 120, 40, demoEnv, "--demo")
	tm.waitFor(10*time.Second, "DEMO", "MR-123", "ITG", "TST", "PERF", "PROD 🔒", "tst-web", "prod-api", "live")
	tm.send("q")
	if err := tm.exit(5 * time.Second); err != nil {
		t.Fatalf("exit: %v", err)
	}
	out := tm.output()
	// The alternate screen is left and the cursor shown again: the shell is usable.
	if !strings.Contains(out, "\x1b[?1049l") {
		t.Error("alternate screen not restored on quit")
	}
	if i, j := strings.LastIndex(out, "\x1b[?25h"), strings.LastIndex(out, "\x1b[?25l"); i < j {
		t.Error("cursor left hidden on quit")
	}
}

func TestFilterToOneApp(t *testing.T) {
	tm := start(t, 100, 30, demoEnv, "--demo")
	tm.waitFor(10*time.Second, "PROD", "tst-web")
	tm.send("/", "t", "s", "t", "-", "w", "e", "b", keyEnter)
	s := tm.waitUntil(5*time.Second, "only TST and tst-web", func(s string) bool {
		return strings.Contains(s, "tst-web") && !strings.Contains(s, "prod-api") && !strings.Contains(s, "tst-api")
	})
	if !strings.Contains(s, "filter: tst-web") {
		t.Errorf("filter not shown in the status line:\n%s", s)
	}
	tm.send(keyEsc)
	tm.waitFor(5*time.Second, "prod-api", "tst-api")
	tm.send("q")
	if err := tm.exit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestDetailAndBack(t *testing.T) {
	tm := start(t, 100, 30, demoEnv, "--demo")
	tm.waitFor(10*time.Second, "PROD", "tst-web")
	tm.send("/", "t", "s", "t", "-", "w", "e", "b", keyEnter, "j", keyEnter)
	tm.waitFor(5*time.Second, "tst / tst-web", "Pending commits (1)", "Promote", "Deploy history")
	tm.send(keyEsc)
	tm.waitFor(5*time.Second, "STAGE / APP", "tst-web")
	tm.send("?")
	tm.waitFor(5*time.Second, "Keys", "hard refresh")
	tm.send(keyEsc, keyTab)
	s := tm.waitFor(5*time.Second, "APP", "web ", "1.3.")
	if strings.Contains(s, "worker") {
		t.Errorf("the matrix ignores the filter:\n%s", s)
	}
	tm.send("ctrl+c"[:0] + "\x03")
	if err := tm.exit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestITGAutoSyncMovesTheRow: the sandbox's CI commits to ITG, its
// controller auto-syncs, and the watch stream moves the ITG rows in place.
func TestITGAutoSyncMovesTheRow(t *testing.T) {
	tm := start(t, 120, 40, append(demoEnv, "STAGEDECK_DEMO_CI_INTERVAL=1500ms"), "--demo")
	s := tm.waitFor(10*time.Second, "itg-api", "live")
	shaRE := regexp.MustCompile(`itg-api\s+\S+ \S+\s+\S+ \S+\s+([0-9a-f]{7})`)
	m := shaRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no deployed sha on the itg-api row:\n%s", s)
	}
	before := m[1]
	tm.waitUntil(20*time.Second, "itg-api deployed at a new revision", func(s string) bool {
		m := shaRE.FindStringSubmatch(s)
		return m != nil && m[1] != before
	})
	tm.send("q")
	if err := tm.exit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkFirstPaint: process start to the first frame on the screen
// (config and cached board only; the session opens after). Target 150 ms.
func BenchmarkFirstPaint(b *testing.B) {
	for i := 0; i < b.N; i++ {
		tm := start(b, 100, 30, demoEnv, "--demo")
		for !strings.Contains(tm.screen(), "stagedeck") {
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		tm.cmd.Process.Kill()
		<-tm.done
		tm.pty.Close()
		b.StartTimer()
	}
}

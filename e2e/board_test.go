package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var demoEnv = []string{"STAGEDECK_DEMO_SYNC_DURATION=300ms"}

func TestBoardShowsEveryStageAndQuitsCleanly(t *testing.T) {
	tm := start(t, 120, 40, demoEnv, "--demo")
	tm.WaitFor(10*time.Second, "DEMO", "MR-123", "ITG", "TST", "PERF", "PROD 🔒", "tst-web", "prod-api", "live")
	tm.Send("q")
	if err := tm.Exit(5 * time.Second); err != nil {
		t.Fatalf("exit: %v", err)
	}
	out := tm.Output()
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
	tm.WaitFor(10*time.Second, "PROD", "tst-web")
	tm.Send("/", "t", "s", "t", "-", "w", "e", "b", keyEnter)
	s := tm.WaitUntil(5*time.Second, "only TST and tst-web", func(s string) bool {
		return strings.Contains(s, "tst-web") && !strings.Contains(s, "prod-api") && !strings.Contains(s, "tst-api")
	})
	if !strings.Contains(s, "filter: tst-web") {
		t.Errorf("filter not shown in the status line:\n%s", s)
	}
	tm.Send(keyEsc)
	tm.WaitFor(5*time.Second, "prod-api", "tst-api")
	tm.Send("q")
	if err := tm.Exit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestDetailAndBack(t *testing.T) {
	tm := start(t, 100, 30, demoEnv, "--demo")
	tm.WaitFor(10*time.Second, "PROD", "tst-web")
	tm.Send("/", "t", "s", "t", "-", "w", "e", "b", keyEnter, "j", keyEnter)
	tm.WaitFor(5*time.Second, "tst / tst-web", "Pending commits (1)", "Promote", "Deploy history")
	tm.Send(keyEsc)
	tm.WaitFor(5*time.Second, "STAGE / APP", "tst-web")
	tm.Send("?")
	tm.WaitFor(5*time.Second, "Keys", "hard refresh")
	tm.Send(keyEsc, keyTab)
	s := tm.WaitFor(5*time.Second, "APP", "web ", "1.3.")
	if strings.Contains(s, "worker") {
		t.Errorf("the matrix ignores the filter:\n%s", s)
	}
	tm.Send("ctrl+c"[:0] + "\x03")
	if err := tm.Exit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestITGAutoSyncMovesTheRow: the sandbox's CI commits to ITG, its
// controller auto-syncs, and the watch stream moves the ITG rows in place.
func TestITGAutoSyncMovesTheRow(t *testing.T) {
	tm := start(t, 120, 40, append(demoEnv, "STAGEDECK_DEMO_CI_INTERVAL=1500ms"), "--demo")
	s := tm.WaitFor(10*time.Second, "itg-web", "itg-worker", "live")
	// DEPLOY names the commit of each app's path that runs: CI's commits
	// change web and worker, so one of those rows moves.
	deployed := func(s string) string {
		var out []string
		for _, app := range []string{"itg-web", "itg-worker"} {
			m := regexp.MustCompile(app + `\s+\S+ \S+\s+\S+ \S+\s+([0-9a-f]{7})`).FindStringSubmatch(s)
			if m == nil {
				return ""
			}
			out = append(out, m[1])
		}
		return strings.Join(out, " ")
	}
	before := deployed(s)
	if before == "" {
		t.Fatalf("no deployed sha on the ITG rows:\n%s", s)
	}
	tm.WaitUntil(20*time.Second, "an ITG row deployed at a new revision", func(s string) bool {
		now := deployed(s)
		return now != "" && now != before
	})
	tm.Send("q")
	if err := tm.Exit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkFirstPaint: process start to the first frame on the screen
// (config and cached board only; the session opens after). Target 150 ms.
func BenchmarkFirstPaint(b *testing.B) {
	for i := 0; i < b.N; i++ {
		tm := start(b, 100, 30, demoEnv, "--demo")
		for !strings.Contains(tm.Screen(), "stagedeck") {
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		tm.Kill()
		b.StartTimer()
	}
}

// TestDiffCompareAndPager: d on TST shows its pending commits and diff; c
// compares TST with PERF, the SealedSecret as changed keys only; o hands the
// redacted diff to STAGEDECK_DIFF_PAGER and the console comes back.
func TestDiffCompareAndPager(t *testing.T) {
	paged := filepath.Join(t.TempDir(), "paged.diff")
	tm := start(t, 110, 36, append(demoEnv, "STAGEDECK_DEMO_CI_INTERVAL=-1s", "STAGEDECK_DIFF_PAGER=tee "+paged), "--demo")
	tm.WaitFor(10*time.Second, "PROD", "tst-web")
	tm.Send("/", "t", "s", "t", keyEnter, "d")
	tm.WaitFor(5*time.Second, "Pending on tst", "All 2 pending commits", "Promote worker", "+    tag: \"0.9.", "-    tag: \"0.9.")
	tm.Send(keyEsc, "c")
	tm.WaitFor(5*time.Second, "Compare tst with")
	tm.Send("j", "j", keyEnter) // mr-123, itg, perf
	s := tm.WaitFor(5*time.Second, "Promote tst → perf", "DB_PASSWORD: <hidden changed>")
	for _, secret := range []string{"AgC4kX9Qz1c8", "AgBy3i4OJSWK", "AgBhR7tYw2nQ"} {
		if strings.Contains(s, secret) {
			t.Fatalf("sealed value %s… on screen", secret)
		}
	}
	tm.Send("o")
	deadline := time.Now().Add(5 * time.Second)
	var data []byte
	for time.Now().Before(deadline) {
		data, _ = os.ReadFile(paged)
		if strings.Contains(string(data), "DB_PASSWORD: <hidden changed>") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(string(data), "diff --git a/api/templates/sealedsecret-db.yaml") {
		t.Fatalf("the pager did not get the diff: %q", data)
	}
	for _, secret := range []string{"AgC4kX9Qz1c8", "AgBy3i4OJSWK", "AgBhR7tYw2nQ"} {
		if strings.Contains(string(data), secret) {
			t.Fatalf("sealed value %s… given to the pager", secret)
		}
	}
	tm.WaitFor(5*time.Second, "Promote tst → perf") // the console is back after the pager exits
	tm.Send("q", "q")
	if err := tm.Exit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestSyncFromDiff: diff TST -> sync -> confirm -> progress -> Succeeded ->
// the board shows TST deployed at the reviewed sha.
func TestSyncFromDiff(t *testing.T) {
	tm := start(t, 120, 40, append(demoEnv, "STAGEDECK_DEMO_CI_INTERVAL=-1s"), "--demo")
	tm.WaitFor(10*time.Second, "PROD", "tst-web", "live")
	tm.Send("/", "t", "s", "t", keyEnter, "d")
	s := tm.WaitFor(5*time.Second, "Pending on tst", "All 2 pending commits")
	m := regexp.MustCompile(`head ([0-9a-f]{7})`).FindStringSubmatch(s[strings.Index(s, "Pending on tst"):])
	if m == nil {
		t.Fatalf("no reviewed head on the diff screen:\n%s", s)
	}
	reviewed := m[1]
	tm.Send("s")
	tm.WaitFor(5*time.Second, "Sync tst → "+reviewed, "Brings 2 commit(s)", "✓ allowed")
	tm.Send("m", "E", "2", "E", keyEnter, "y")
	tm.WaitFor(10*time.Second, "tst-worker", "Done.")
	s = tm.Screen()
	if strings.Count(s, "✓ Succeeded") != 3 {
		t.Fatalf("not every app succeeded:\n%s", s)
	}
	tm.Send(keyEsc)
	// Deployed at the repo head, each row's DEPLOY names the commit of its
	// own path whose content runs: its HEAD, 0 behind.
	tm.WaitUntil(10*time.Second, "TST rows deployed at their heads", func(s string) bool {
		for _, app := range []string{"tst-web", "tst-worker"} {
			m := regexp.MustCompile(app + `\s+✓ Synced\s+♥ Healthy\s+([0-9a-f]{7}) ([0-9a-f]{7})\s+0 `).FindStringSubmatch(s)
			if m == nil || m[1] != m[2] {
				return false
			}
		}
		return true
	})
	tm.Send("q")
	if err := tm.Exit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestRollbackProdFromHistory: history of PROD -> restore to the previous
// deployed revision -> confirm -> pushed -> sync -> PROD runs the new commit.
func TestRollbackProdFromHistory(t *testing.T) {
	tm := start(t, 120, 40, append(demoEnv, "STAGEDECK_DEMO_CI_INTERVAL=-1s"), "--demo")
	tm.WaitFor(10*time.Second, "PROD", "prod-web", "live")
	tm.Send("/", "p", "r", "o", "d", keyEnter, "h")
	s := tm.WaitFor(5*time.Second, "History of prod", "● live", "◦ deployed", "○ not deployed")
	// Move the cursor down from the live commit to the previous deployed one.
	var rows []string
	for _, l := range strings.Split(s, "\n") {
		if regexp.MustCompile(`^[› ] [0-9a-f]{7}  `).MatchString(l) {
			rows = append(rows, l)
		}
	}
	target, live := -1, -1
	for i, l := range rows {
		if strings.Contains(l, "● live") {
			live = i
			if !strings.HasPrefix(l, "›") {
				t.Errorf("the cursor does not start on the live commit:\n%s", s)
			}
		}
		if strings.Contains(l, "◦ deployed") && target < 0 {
			target = i
		}
	}
	if target < 0 {
		t.Fatalf("no previous deploy marked:\n%s", s)
	}
	sha := strings.Fields(strings.TrimLeft(rows[target], "› "))[0]
	for i := live; i < target; i++ {
		tm.Send("j")
	}
	tm.Send("b", "I", "N", "C", "-", "9", keyEnter)
	tm.WaitFor(5*time.Second, "Commit: Restore prod to "+sha, "diff --git")
	tm.Send("y", "p", "r", "o", "d", keyEnter)
	s = tm.WaitFor(10*time.Second, "✓ Pushed")
	pushed := regexp.MustCompile(`✓ Pushed ([0-9a-f]{7})`).FindStringSubmatch(s)[1]
	tm.Send("s")
	tm.WaitFor(10*time.Second, "Sync prod → "+pushed, "✓ allowed")
	tm.Send("y", "p", "r", "o", "d", keyEnter)
	tm.WaitFor(15*time.Second, "Done.")
	tm.Send(keyEsc)
	tm.WaitUntil(10*time.Second, "PROD deployed at "+pushed, func(s string) bool {
		// The restore changes api and worker; web is not synced.
		return regexp.MustCompile(`prod-api\s+✓ Synced\s+\S+ \S+\s+` + pushed).MatchString(s)
	})
	tm.Send("q")
	if err := tm.Exit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestNoColorKeepsStateInSymbols: with NO_COLOR no colour is sent, and
// state still reads from the symbols.
func TestNoColorKeepsStateInSymbols(t *testing.T) {
	tm := start(t, 100, 30, append(demoEnv, "NO_COLOR=1", "STAGEDECK_DEMO_CI_INTERVAL=-1s"), "--demo")
	tm.WaitFor(10*time.Second, "✓ Synced", "✗ OutOfSync", "♥ Healthy", "🔒", "›")
	tm.Send("q")
	if err := tm.Exit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`\x1b\[[0-9;]*(3[0-7]|38;[25];[0-9;]+|9[0-7])m`).FindString(tm.Output()); m != "" {
		t.Errorf("colour sent despite NO_COLOR: %q", m)
	}
}

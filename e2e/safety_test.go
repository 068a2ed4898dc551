package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var corpusLeak = regexp.MustCompile(`sdleak\d\dx9Q[YZ]|c2RsZWFr[A-Za-z0-9+/=]+`)

func git(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=a@example.com",
		"GIT_COMMITTER_NAME=Ann", "GIT_COMMITTER_EMAIL=a@example.com"), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v %s", args, err, out)
	}
}

// hostileRepo: stage tst holds the whole redaction corpus, committed with a
// subject that would retitle the terminal and an author that would blink.
func hostileRepo(t *testing.T) string {
	dir := t.TempDir()
	git(t, dir, nil, "init", "-q", "-b", "main")
	os.MkdirAll(filepath.Join(dir, "prod", "web"), 0o755)
	os.WriteFile(filepath.Join(dir, "prod", "web", "values.yaml"), []byte("replicas: 2\n"), 0o644)
	git(t, dir, nil, "add", "-A")
	git(t, dir, nil, "commit", "-q", "-m", "prod")
	corpus := filepath.Join("..", "testdata", "secrets")
	filepath.WalkDir(corpus, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(corpus, p)
			dst := filepath.Join(dir, "tst", "corpus", rel)
			os.MkdirAll(filepath.Dir(dst), 0o755)
			b, _ := os.ReadFile(p)
			os.WriteFile(dst, b, 0o644)
		}
		return err
	})
	os.MkdirAll(filepath.Join(dir, "tst", "web"), 0o755)
	os.WriteFile(filepath.Join(dir, "tst", "web", "values.yaml"), []byte("banner: \"\x1b]0;owned-by-file\x07\"\n"), 0o644)
	git(t, dir, nil, "add", "-A")
	git(t, dir, []string{"GIT_AUTHOR_NAME=Mallory\x1b[5m"}, "commit", "-q", "-m", "Deploy \x1b]0;pwned\x07 \x1b[41mred\r")
	return dir
}

// TestConsoleShowsHostileRepositoryInert drives the real console: the board
// with a hostile commit, the compare diff of the whole corpus, and the pager:
// no title change or injected colour reaches the terminal, no secret value
// reaches the screen or the pager, and the pager gets no credentials.
func TestConsoleShowsHostileRepositoryInert(t *testing.T) {
	repo := hostileRepo(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "stagedeck.yaml")
	os.WriteFile(cfg, []byte("opsRepo:\n  url: "+repo+"\nstages:\n  - {name: tst, path: tst}\n  - {name: prod, path: prod, protected: true}\n"), 0o644)
	pagerIn, pagerEnv := filepath.Join(dir, "pager-in"), filepath.Join(dir, "pager-env")
	pager := filepath.Join(dir, "pager.sh")
	os.WriteFile(pager, []byte("#!/bin/sh\ncat > "+pagerIn+"\nenv > "+pagerEnv+"\n"), 0o755)
	env := []string{"STAGEDECK_DIFF_PAGER=" + pager, "ARGOCD_AUTH_TOKEN=argo-token-123456", "STAGEDECK_GIT_TOKEN=git-token-123456", "SSH_AUTH_SOCK=/tmp/agent.sock"}

	tm := start(t, 120, 40, env, "--config", cfg)
	s := tm.WaitFor(10*time.Second, "TST", "Deploy \\x1b]0;pwned")
	if !strings.Contains(s, "Mallory\\x1b[5m") {
		t.Errorf("the author is not shown escaped:\n%s", s)
	}
	tm.Send("c")
	tm.WaitFor(5*time.Second, "Compare tst with")
	tm.Send(keyEnter)
	tm.WaitFor(10*time.Second, "diff --git")
	for range 60 { // to the end of the corpus's diff, past every case
		tm.Send("\x1b[6~")
	}
	tm.WaitFor(5*time.Second, "banner")
	tm.Send("o")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(pagerEnv); err == nil && len(b) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.Send("q")
	tm.Send("q")
	_ = tm.Exit(5 * time.Second)

	raw := tm.Output()
	for _, bad := range []string{"\x1b]0;pwned", "\x1b]0;owned-by-file", "\x1b[41m", "\x1b[5m", "red\r"} {
		if strings.Contains(raw, bad) {
			t.Errorf("the terminal received %q from the repository", bad)
		}
	}
	if m := corpusLeak.FindString(raw); m != "" {
		t.Errorf("secret value %s reached the terminal", m)
	}
	in, err := os.ReadFile(pagerIn)
	if err != nil || !strings.Contains(string(in), "diff --git") || !strings.Contains(string(in), "<hidden") {
		t.Fatalf("the pager got no redacted diff: %v %q", err, in)
	}
	if m := corpusLeak.FindString(string(in)); m != "" {
		t.Errorf("secret value %s reached the pager", m)
	}
	if strings.ContainsRune(string(in), 0x1b) {
		t.Error("the pager's input carries raw escape bytes")
	}
	penv, _ := os.ReadFile(pagerEnv)
	for _, v := range []string{"ARGOCD_AUTH_TOKEN", "STAGEDECK_GIT_TOKEN", "SSH_AUTH_SOCK", "argo-token-123456"} {
		if strings.Contains(string(penv), v) {
			t.Errorf("the pager's environment has %s", v)
		}
	}
}

// TestDemoCleansUpOnSignals: a closed pipe (status | head) and a dropped
// terminal (SIGHUP) leave no demo sandbox behind.
func TestDemoCleansUpOnSignals(t *testing.T) {
	tmp := t.TempDir()
	cmd := exec.Command("sh", "-c", binary+" status --demo | head -1")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "XDG_CACHE_HOME="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "DEMO") {
		t.Fatalf("status | head: %v %s", err, out)
	}
	waitEmpty := func(what string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			left, _ := os.ReadDir(tmp)
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s left %v in TMPDIR", what, left)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitEmpty("status | head")

	tm := start(t, 100, 30, append(demoEnv, "TMPDIR="+tmp), "--demo")
	tm.WaitFor(10*time.Second, "PROD", "live")
	if err := tm.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	_ = tm.Exit(5 * time.Second)
	waitEmpty("SIGHUP")
}

// TestThreeAMRollbackAt80x24: PROD broke after the worker's deploy. At 80x24
// over the demo: history of PROD (the cursor on the live commit), revert it,
// push, sync. Only prod-worker is synced; prod-api and prod-web, which have
// commits never deployed, keep running exactly what they ran.
func TestThreeAMRollbackAt80x24(t *testing.T) {
	tm := start(t, 80, 24, append(demoEnv, "STAGEDECK_DEMO_CI_INTERVAL=-1s"), "--demo")
	tm.WaitFor(10*time.Second, "PROD", "live")
	deployedOf := func(s, app string) string {
		m := regexp.MustCompile(app + `\s+\S+ \S+\s+\S+ \S+\s+([0-9a-f]{7})`).FindStringSubmatch(s)
		if m == nil {
			return ""
		}
		return m[1]
	}
	tm.Send("/", "p", "r", "o", "d", keyEnter)
	s := tm.WaitFor(5*time.Second, "prod-api", "prod-web", "prod-worker")
	api, web := deployedOf(s, "prod-api"), deployedOf(s, "prod-web")
	if api == "" || web == "" {
		t.Fatalf("no deployed revisions on the board:\n%s", s)
	}
	tm.Send("h")
	s = tm.WaitFor(5*time.Second, "History of prod", "● live")
	live := ""
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "› ") && strings.Contains(l, "● live") {
			live = strings.Fields(l)[1]
		}
	}
	if live == "" {
		t.Fatalf("the cursor is not on the live commit:\n%s", s)
	}
	tm.Send("v", "I", "N", "C", "-", "7", keyEnter)
	tm.WaitFor(10*time.Second, "Commit: Revert", "Sync to  prod-worker only", "Reason: INC-7", "Operator: ")
	tm.Send("y", "p", "r", "o", "d", keyEnter)
	tm.WaitFor(10*time.Second, "✓ Pushed", "s sync prod-worker to")
	tm.Send("s")
	tm.WaitFor(10*time.Second, "prod-worker", "✓ allowed", "rollback: INC-7")
	tm.Send("y", "p", "r", "o", "d", keyEnter)
	tm.WaitFor(15*time.Second, "Done.")
	tm.Send(keyEsc) // back to the board, still filtered to prod
	s = tm.WaitUntil(10*time.Second, "the board with prod-worker synced", func(s string) bool {
		return regexp.MustCompile(`prod-worker\s+✓ Synced`).MatchString(s)
	})
	if got := deployedOf(s, "prod-api"); got != api {
		t.Errorf("prod-api moved from %s to %s: it deployed commits nobody reviewed\n%s", api, got, s)
	}
	if got := deployedOf(s, "prod-web"); got != web {
		t.Errorf("prod-web moved from %s to %s\n%s", web, got, s)
	}
	tm.Send("q")
	if err := tm.Exit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestASCIIWhenTheLocaleIsNotUTF8: with LANG=C no symbol outside ASCII is
// sent (the demo's own data is ASCII too, but for a name), and states
// still read from their marks.
func TestASCIIWhenTheLocaleIsNotUTF8(t *testing.T) {
	tm := start(t, 100, 30, append(demoEnv, "LANG=C", "STAGEDECK_DEMO_CI_INTERVAL=-1s"), "--demo")
	tm.WaitFor(10*time.Second, "+ Synced", "x OutOfSync", "* Healthy", "PROD [P]")
	tm.Send("?")
	tm.WaitFor(5*time.Second, "Keys")
	tm.Send(keyEsc, "q")
	if err := tm.Exit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"✓", "✗", "♥", "🔒", "▾", "›", "…", "│", "•"} {
		if strings.Contains(tm.Output(), g) {
			t.Errorf("%s sent with LANG=C", g)
		}
	}
}

// TestRollBackFromWhatRunsInTheConsole: reverting api's replica change while
// api has a commit never deployed (the password rotation): the preview
// names it, f rolls back from what runs, and the sync deploys prod-api only.
func TestRollBackFromWhatRunsInTheConsole(t *testing.T) {
	tm := start(t, 120, 40, append(demoEnv, "STAGEDECK_DEMO_CI_INTERVAL=-1s"), "--demo")
	tm.WaitFor(10*time.Second, "PROD", "live")
	tm.Send("/", "p", "r", "o", "d", "-", "a", "p", "i", keyEnter, "j", "h")
	s := tm.WaitFor(5*time.Second, "History of prod / prod-api", "raise api replicas")
	rows := strings.Split(s, "\n")
	cur, target := -1, -1
	for i, l := range rows {
		if strings.HasPrefix(l, "› ") {
			cur = i
		}
		if strings.Contains(l, "raise api replicas") {
			target = i
		}
	}
	if cur < 0 || target < 0 {
		t.Fatalf("no cursor or target:\n%s", s)
	}
	for i := cur; i < target; i++ {
		tm.Send("j")
	}
	for i := target; i < cur; i++ {
		tm.Send("k")
	}
	tm.Send("v", "I", "N", "C", "-", "8", keyEnter)
	tm.WaitFor(10*time.Second, "Sync to  prod-api only", "also deploys commits never deployed", "Rotate api DB password")
	tm.Send("f")
	tm.WaitFor(10*time.Second, "Rolled back from what is running", "also undoes")
	tm.Send("y", "p", "r", "o", "d", keyEnter)
	s = tm.WaitFor(10*time.Second, "✓ Pushed")
	pushed := regexp.MustCompile(`✓ Pushed ([0-9a-f]{7})`).FindStringSubmatch(s)[1]
	tm.Send("s")
	tm.WaitFor(10*time.Second, "prod-api", "✓ allowed")
	tm.Send("y", "p", "r", "o", "d", keyEnter)
	tm.WaitFor(15*time.Second, "Done.")
	tm.Send(keyEsc)
	tm.WaitUntil(10*time.Second, "prod-api deployed at the rollback", func(s string) bool {
		return regexp.MustCompile(`prod-api\s+✓ Synced\s+\S+ \S+\s+` + pushed).MatchString(s)
	})
	tm.Send("q")
	if err := tm.Exit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

package opsrepo

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// git runs the git CLI in dir with fixed identities and returns trimmed stdout.
func gitCLI(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	cmd := execGit(dir, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		tb.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

func execGit(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Test Author", "GIT_AUTHOR_EMAIL=author@example.com",
		"GIT_COMMITTER_NAME=Test Author", "GIT_COMMITTER_EMAIL=author@example.com",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	return cmd
}

// genRepo writes a repository of n commits over stages x apps directories with
// git fast-import: each commit edits one to three app values files, sometimes
// in two stages at once; with merges, every 50th commit merges a side branch.
func genRepo(tb testing.TB, dir string, n, stages, apps int, merges bool, seed int64) {
	tb.Helper()
	gitCLI(tb, dir, "init", "-q", "-b", "main")
	rnd := rand.New(rand.NewSource(seed))
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	ts := int64(1700000000)
	mark := 0
	lastMain, lastSide := 0, 0
	for i := 0; i < n; i++ {
		mark++
		ts += 60
		branch := "refs/heads/main"
		onSide := merges && i%50 > 40
		if onSide {
			branch = "refs/heads/side"
		}
		fmt.Fprintf(w, "commit %s\nmark :%d\nauthor A%d <a%d@example.com> %d +0000\ncommitter C <c@example.com> %d +0000\n",
			branch, mark, i%4, i%4, ts, ts)
		msg := fmt.Sprintf("change %d", i)
		fmt.Fprintf(w, "data %d\n%s\n", len(msg), msg)
		switch {
		case i == 0:
		case onSide && lastSide == 0:
			fmt.Fprintf(w, "from :%d\n", lastMain)
		case onSide:
			fmt.Fprintf(w, "from :%d\n", lastSide)
		default:
			fmt.Fprintf(w, "from :%d\n", lastMain)
			if merges && lastSide != 0 && i%50 == 0 {
				fmt.Fprintf(w, "merge :%d\n", lastSide)
				lastSide = 0
			}
		}
		if i == 0 {
			for s := 0; s < stages; s++ {
				for a := 0; a < apps; a++ {
					v := fmt.Sprintf("replicas: 1\nimage: app%d:0\n", a)
					fmt.Fprintf(w, "M 100644 inline stage%d/app%03d/values.yaml\ndata %d\n%s\n", s, a, len(v), v)
				}
			}
			// Written once, never changed: a path whose last change is the root commit.
			fmt.Fprintf(w, "M 100644 inline stage0/app000/values.yaml.orig\ndata 3\nx: \n")
		} else {
			edits := 1 + rnd.Intn(3)
			for e := 0; e < edits; e++ {
				s, a := rnd.Intn(stages), rnd.Intn(apps)
				v := fmt.Sprintf("replicas: %d\nimage: app%d:%d\n", rnd.Intn(9), a, i)
				fmt.Fprintf(w, "M 100644 inline stage%d/app%03d/values.yaml\ndata %d\n%s\n", s, a, len(v), v)
			}
		}
		w.WriteString("\n")
		if onSide {
			lastSide = mark
		} else {
			lastMain = mark
		}
	}
	w.Flush()
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = dir
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("fast-import: %v: %s", err, out)
	}
	gitCLI(tb, dir, "reset", "-q", "--hard", "main")
	gitCLI(tb, dir, "gc", "-q")
}

// writeFile writes content to dir/path, creating directories.
func writeFile(tb testing.TB, dir, path, content string) {
	tb.Helper()
	full := filepath.Join(dir, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// commitAll stages everything in dir and commits it, returning the sha.
func commitAll(tb testing.TB, dir, msg string) string {
	tb.Helper()
	gitCLI(tb, dir, "add", "-A")
	gitCLI(tb, dir, "commit", "-q", "--allow-empty", "-m", msg)
	return gitCLI(tb, dir, "rev-parse", "HEAD")
}

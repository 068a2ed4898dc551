package patch

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHunksMatchGitDiff compares the hunks with `git diff --no-index` on
// random edits of a file (no secrets, so no redaction is involved).
func TestHunksMatchGitDiff(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	rnd := rand.New(rand.NewSource(3))
	for round := 0; round < 40; round++ {
		var lines []string
		for i := 0; i < 60; i++ {
			lines = append(lines, fmt.Sprintf("key%02d: value%d", i, i))
		}
		edited := append([]string(nil), lines...)
		for e := 0; e < 1+rnd.Intn(5); e++ {
			i := rnd.Intn(len(edited))
			switch rnd.Intn(3) {
			case 0:
				edited[i] = edited[i] + " # changed"
			case 1:
				edited = append(edited[:i], edited[i+1:]...)
			default:
				edited = append(edited[:i], append([]string{fmt.Sprintf("new%d: x", e)}, edited[i:]...)...)
			}
		}
		a, b := strings.Join(lines, "\n")+"\n", strings.Join(edited, "\n")+"\n"
		if round%7 == 0 {
			b = strings.TrimSuffix(b, "\n") // no newline at end
		}
		os.WriteFile(filepath.Join(dir, "a"), []byte(a), 0o644)
		os.WriteFile(filepath.Join(dir, "b"), []byte(b), 0o644)
		cmd := exec.Command("git", "diff", "--no-index", "--no-color", "--diff-algorithm=myers", "-U3", "a", "b")
		cmd.Dir = dir
		out, _ := cmd.Output()
		want := string(out)
		want = want[strings.Index(want, "@@"):]
		got := Unified([]Pair{{From: &File{Path: "x", Content: []byte(a)}, To: &File{Path: "x", Content: []byte(b)}}}, 3)
		got = got[strings.Index(got, "@@"):]
		if stripHunkNames(got) != stripHunkNames(want) {
			t.Fatalf("round %d differs from git diff:\n--- ours\n%s\n--- git\n%s", round, got, want)
		}
	}
}

// stripHunkNames drops git's function-context text after the @@ markers.
func stripHunkNames(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "@@") {
			l = l[:strings.LastIndex(l, "@@")+2]
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

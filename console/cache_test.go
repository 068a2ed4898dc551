package console

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stagedeck/stagedeck/board"
)

func TestBoardCacheIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stagedeck")
	if err := os.MkdirAll(dir, 0o755); err != nil { // as an older version left it
		t.Fatal(err)
	}
	c := boardCache{path: filepath.Join(dir, "board-x.json")}
	b := &board.Board{SchemaVersion: board.SchemaVersion, Stages: []board.Stage{{Name: "tst", Apps: []board.App{{Name: "tst-web", ComparedRevision: "abc", TargetRevision: "main"}}}}}
	if err := c.Save(b); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, c.path: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
	got := c.Load()
	if got == nil || got.Stages[0].Apps[0].ComparedRevision != "abc" {
		t.Fatalf("the saved board does not load: %+v", got)
	}
}

// A board saved by a version with another JSON shape is not shown: its
// targetRevision meant what comparedRevision means now.
func TestBoardCacheDropsOtherSchemas(t *testing.T) {
	p := filepath.Join(t.TempDir(), "board.json")
	old := `{"opsRepo":{"url":"u"},"stages":[{"name":"tst","apps":[{"name":"w","targetRevision":"1e771f658ac722d99bc2dfdbb0511a0be304643d"}]}]}`
	if err := os.WriteFile(p, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if b := (boardCache{path: p}).Load(); b != nil {
		t.Errorf("a version-1 board loaded: %+v", b.Stages)
	}
}

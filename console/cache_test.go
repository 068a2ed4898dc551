package console

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/gitstate"
)

func TestBoardCacheIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stagedeck")
	if err := os.MkdirAll(dir, 0o755); err != nil { // as an older version left it
		t.Fatal(err)
	}
	c := boardCache{path: filepath.Join(dir, "board-x.gob")}
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

// A board saved by a version with another shape is not shown: a version-1
// board's targetRevision meant what comparedRevision means now. Earlier
// versions' JSON cache is not read, and is removed by the first save.
func TestBoardCacheDropsOtherSchemas(t *testing.T) {
	dir := t.TempDir()
	c := boardCache{path: filepath.Join(dir, "board-x.gob")}
	if err := c.Save(&board.Board{SchemaVersion: board.SchemaVersion - 1, Stages: []board.Stage{{Name: "tst"}}}); err != nil {
		t.Fatal(err)
	}
	if b := c.Load(); b != nil {
		t.Errorf("a board of schema %d loaded: %+v", board.SchemaVersion-1, b.Stages)
	}
	old := `{"schemaVersion":` + fmt.Sprint(board.SchemaVersion) + `,"opsRepo":{"url":"u"},"stages":[{"name":"tst","apps":[{"name":"w"}]}]}`
	if err := os.WriteFile(c.path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if b := c.Load(); b != nil {
		t.Errorf("a JSON board loaded: %+v", b.Stages)
	}
	jsonCache := filepath.Join(dir, "board-x.json")
	if err := os.WriteFile(jsonCache, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(&board.Board{SchemaVersion: board.SchemaVersion}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(jsonCache); !os.IsNotExist(err) {
		t.Errorf("the earlier JSON cache is still there (%v)", err)
	}
}

// The cache keeps what the board's JSON shows, and nothing JSON leaves out
// (json:"-"): a cached board never says an operation is running, and
// carries no resource version or e-mail address. The board saved is not
// changed.
func TestBoardCacheKeepsWhatJSONShows(t *testing.T) {
	at := time.Date(2026, 11, 27, 3, 4, 5, 6, time.FixedZone("CET", 3600))
	head := &gitstate.Commit{SHA: "abc", Author: "Ann", Email: "ann@example.com", Date: at, Subject: "bump"}
	b := &board.Board{
		SchemaVersion: board.SchemaVersion, Repo: board.RepoInfo{URL: "https://git.example.com/ops.git", Branch: "main", Head: "abc", LastFetch: at},
		Stages: []board.Stage{{Name: "tst", Path: "tst", Protected: true, Head: head, Apps: []board.App{{
			Name: "tst-web", Project: "p", Path: "tst/web", Head: head, SyncStatus: "OutOfSync", HealthStatus: "Degraded",
			DeployedRevision: "d", ComparedRevision: "c", TargetRevision: "main", AutoSync: true, PendingCommits: 1,
			Pending: []gitstate.Commit{*head}, Running: head, NotAncestor: true, OperationPhase: "Running", OperationMessage: "m",
			OperationRunning: true, Images: []string{"i"}, Conditions: []string{"c"}, ResourceVersion: "42",
			History: []board.Deployed{{ID: 1, Revision: "d", DeployedAt: at, InitiatedBy: "ann", Reason: "r"}},
		}}}},
		Errors: []board.Error{{Source: "argocd", Message: "m", Unreachable: true}}, GitOnly: true, Demo: true, CollectedAt: at,
		Overlaps: []config.Overlap{{Parent: "envs", Child: "prod"}}, KnownHealthy: map[string]string{"tst-web": "d"},
	}
	c := boardCache{path: filepath.Join(t.TempDir(), "board.gob")}
	if err := c.Save(b); err != nil {
		t.Fatal(err)
	}
	got := c.Load()
	if got == nil {
		t.Fatal("the saved board does not load")
	}
	want, _ := json.Marshal(b)
	if g, _ := json.Marshal(got); string(g) != string(want) {
		t.Errorf("cached board shows\n%s\nwant\n%s", g, want)
	}
	a := got.Stages[0].Apps[0]
	if a.OperationRunning || a.ResourceVersion != "" || a.Head.Email != "" || got.Stages[0].Head.Email != "" || a.Pending[0].Email != "" {
		t.Errorf("the cache kept what JSON leaves out: %+v", a)
	}
	if o := b.Stages[0].Apps[0]; !o.OperationRunning || o.ResourceVersion != "42" || o.Head.Email == "" {
		t.Errorf("saving changed the board: %+v", o)
	}
}

package status

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/internal/cmdtest"
	"github.com/stagedeck/stagedeck/internal/testrepo"
)

func TestFlagsFillTheOptions(t *testing.T) {
	f, _ := cmdtest.Factory("", false)
	var got *Options
	cmd := NewCmd(f, func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"-o", "json", "--exit-code", "--no-fetch"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Output != "json" || !got.ExitCode || !got.NoFetch {
		t.Errorf("options %+v", got)
	}
}

func TestRunGitOnly(t *testing.T) {
	repo := testrepo.Plain(t)
	cfg := testrepo.Config(t, "opsRepo:\n  url: "+repo+"\nstages:\n  - {name: tst, path: tst}\n  - {name: prod, path: prod, protected: true}\n")
	f, io := cmdtest.Factory(cfg, false)
	opts := &Options{IO: f.IO, Open: f.Open, Output: "table", Width: 120}
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"git-only mode", "protected · ", "Ann: Add web"} {
		if !strings.Contains(io.Out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, io.Out)
		}
	}

	io.Out.Reset()
	opts.Output = "json"
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	var b struct {
		SchemaVersion int `json:"schemaVersion"`
		Stages        []struct {
			Name string `json:"name"`
		} `json:"stages"`
	}
	if err := json.Unmarshal(io.Out.Bytes(), &b); err != nil || b.SchemaVersion != 2 || len(b.Stages) != 2 {
		t.Errorf("json: %v %+v", err, b)
	}

	opts.Output = "yaml"
	if err := Run(context.Background(), opts); cmdutil.CodeOf(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "-o json") {
		t.Errorf("unknown output: %v", err)
	}
}

func TestRunUnreachableRepoExits3(t *testing.T) {
	cfg := testrepo.Config(t, "opsRepo:\n  url: https://127.0.0.1:1/ops.git\ncacheDir: "+t.TempDir()+"\nstages:\n  - {name: tst, path: tst}\n")
	f, _ := cmdtest.Factory(cfg, false)
	err := Run(context.Background(), &Options{IO: f.IO, Open: f.Open, Output: "table"})
	if cmdutil.CodeOf(err) != cmdutil.ExitUnreachable {
		t.Errorf("unreachable git: exit %d (%v), want 3", cmdutil.CodeOf(err), err)
	}
}

// TestTableColumnsStayInLineWithWideNames: a name of wide (CJK) or
// combining characters takes the cells a terminal draws, so the columns
// after it start where every other row's do.
func TestTableColumnsStayInLineWithWideNames(t *testing.T) {
	b := &board.Board{Repo: board.RepoInfo{URL: "file:///ops.git", Branch: "main", Head: strings.Repeat("a", 40)}}
	st := board.Stage{Name: "tst", Path: "tst"}
	for _, name := range []string{"tst-plain", "tst-爆爆爆爆爆爆", "tst-e\u0301\u0301\u0301x", "tst-爆"} {
		st.Apps = append(st.Apps, board.App{Name: name, SyncStatus: "Synced", HealthStatus: "Healthy"})
	}
	b.Stages = []board.Stage{st}
	var out strings.Builder
	WriteTable(&out, b, time.Now(), 120)
	want := -1
	for _, line := range strings.Split(out.String(), "\n") {
		if !strings.Contains(line, "Synced") {
			continue
		}
		i := strings.Index(line, "Synced")
		col := ansi.StringWidth(line[:i])
		if want == -1 {
			want = col
		}
		if col != want {
			t.Errorf("SYNC starts at cell %d, want %d:\n%s", col, want, out.String())
		}
	}
	if want == -1 {
		t.Fatalf("no app rows:\n%s", out.String())
	}
}

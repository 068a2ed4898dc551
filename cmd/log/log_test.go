package log

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/internal/cmdtest"
	"github.com/stagedeck/stagedeck/internal/testrepo"
)

func TestParseSince(t *testing.T) {
	for in, want := range map[string]time.Duration{"90m": 90 * time.Minute, "2h": 2 * time.Hour, "3d": 72 * time.Hour} {
		if got, err := parseSince(in); err != nil || got != want {
			t.Errorf("parseSince(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0d", "-2h", "3w", "d"} {
		if _, err := parseSince(bad); err == nil {
			t.Errorf("parseSince(%q) accepted", bad)
		}
	}
}

// The stage's commits, newest first, with a frozen clock for the ages.
func TestRunGitOnly(t *testing.T) {
	repo := testrepo.Plain(t)
	cfg := testrepo.Config(t, "opsRepo:\n  url: "+repo+"\ncacheDir: "+t.TempDir()+"\nstages:\n  - {name: tst, path: tst}\n")
	f, io := cmdtest.Factory(cfg, false)
	now := func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	opts := &Options{IO: f.IO, Open: f.Open, Now: now, Args: []string{"tst"}, Output: "table"}
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if out := io.Out.String(); !strings.Contains(out, "2026-11-20 10:00  2h    commit") || !strings.Contains(out, "Ann: Add web") {
		t.Errorf("log:\n%s", out)
	}
	io.Out.Reset()
	opts.Since = "1h"
	if err := Run(context.Background(), opts); err != nil || !strings.Contains(io.Out.String(), "nothing in that time") {
		t.Errorf("--since 1h: %v\n%s", err, io.Out)
	}
	opts.Since = "soon"
	if err := Run(context.Background(), opts); cmdutil.CodeOf(err) != cmdutil.ExitUsage {
		t.Errorf("--since soon: %v", err)
	}
}

package sync

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/internal/cmdtest"
)

func TestFlagsFillTheSpec(t *testing.T) {
	f, _ := cmdtest.Factory("", false)
	var got *Options
	cmd := NewCmd(f, func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"prod", "api", "--revision", "3f2a1bc", "--confirm", "prod,ops", "--confirm", "x", "--reason", "JIRA-1", "--wait", "--yes", "--timeout", "2m", "--dry-run", "--prune"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	s := got.Spec
	if got.Revision != "3f2a1bc" || strings.Join(got.Args, " ") != "prod api" || strings.Join(s.Confirm, ",") != "prod,ops,x" ||
		s.Reason != "JIRA-1" || !s.Wait || !s.Yes || !s.DryRun || !s.Prune || s.Timeout != 2*time.Minute {
		t.Errorf("options %+v", got)
	}
}

// On the demo sandbox (a real git remote and a fake Argo CD over gRPC):
// no revision is refused; a protected stage without --confirm is refused
// and nothing is sent.
func TestRunRefusesBeforeSending(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Ann Owner <ann@example.com>")
	f, io := cmdtest.Factory("", true)
	err := Run(context.Background(), &Options{IO: f.IO, Open: f.Open, Args: []string{"tst"}, Spec: Spec{Yes: true}})
	if cmdutil.CodeOf(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "--revision") {
		t.Errorf("no revision: %v", err)
	}
	err = Run(context.Background(), &Options{IO: f.IO, Open: f.Open, Args: []string{"prod"}, Revision: "HEAD", Spec: Spec{Yes: true}})
	if cmdutil.CodeOf(err) != cmdutil.ExitRefused || !strings.Contains(err.Error(), "--confirm prod") || io.Out.Len() != 0 {
		t.Errorf("protected without confirm: %v; out %q", err, io.Out)
	}
}

package terminate

import (
	"context"
	"strings"
	"testing"

	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/internal/cmdtest"
)

// On the demo sandbox: a protected stage needs --confirm, and a stage with
// nothing running is told so; neither sends anything.
func TestRunRefusesWithoutSending(t *testing.T) {
	f, io := cmdtest.Factory("", true)
	err := Run(context.Background(), &Options{IO: f.IO, Open: f.Open, Args: []string{"prod"}})
	if cmdutil.CodeOf(err) != cmdutil.ExitRefused || !strings.Contains(err.Error(), "--confirm prod") {
		t.Errorf("protected: %v", err)
	}
	err = Run(context.Background(), &Options{IO: f.IO, Open: f.Open, Args: []string{"tst"}})
	if cmdutil.CodeOf(err) != cmdutil.ExitRefused || !strings.Contains(err.Error(), "no operation is running in tst") {
		t.Errorf("nothing running: %v", err)
	}
	if io.Out.Len() != 0 {
		t.Errorf("printed %q", io.Out)
	}
}

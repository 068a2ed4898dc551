package cmdutil

import (
	"bytes"
	"errors"
	"fmt"
	"syscall"
	"testing"
)

func TestReportIsOneCleanLineWithTheCode(t *testing.T) {
	for _, c := range []struct {
		err      error
		code     int
		wantText string
	}{
		{nil, ExitOK, ""},
		{Exit(ExitPending), ExitPending, ""},
		{errors.New("plain"), ExitUsage, "stagedeck: plain\n"},
		{WithCode(ExitUnreachable, fmt.Errorf("git: %w", errors.New("down\nhere"))), ExitUnreachable, "stagedeck: git: down; here\n"},
		{WithCode(ExitUsage, WithCode(ExitRefused, errors.New("x"))), ExitRefused, "stagedeck: x\n"},
		{ForceCode(ExitUsage, WithCode(ExitRefused, errors.New("y"))), ExitUsage, "stagedeck: y\n"},
		{errors.New("https://u:secret@git.example.com \x1b[31mred"), ExitUsage, "stagedeck: https://***@git.example.com \\x1b[31mred\n"},
		{fmt.Errorf("write |1: %w", syscall.EPIPE), ExitBrokenPipe, ""},
	} {
		var buf bytes.Buffer
		if code := Report(&buf, c.err); code != c.code || buf.String() != c.wantText {
			t.Errorf("Report(%v) = %d %q, want %d %q", c.err, code, buf.String(), c.code, c.wantText)
		}
	}
}

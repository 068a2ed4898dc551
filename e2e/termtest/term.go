// Package termtest drives a real binary in a pseudo-terminal and reads its
// screen through a VT emulator, for end-to-end tests of the console.
package termtest

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"
)

// term runs the real binary in a pseudo-terminal and keeps a virtual screen
// (a VT emulator) of what it drew; the emulator also answers the program's
// terminal queries, as a real terminal would.
type Term struct {
	t      testing.TB
	killed bool
	cmd    *exec.Cmd
	pty    *os.File
	emu    *vt.SafeEmulator
	// screenMu orders screen reads after the emulator's writes (its String
	// is not synchronised).
	screenMu sync.Mutex
	mu       sync.Mutex
	raw      bytes.Buffer
	done     chan error
}

// Start runs binary with args in a w x h pseudo-terminal.
func Start(t testing.TB, binary string, w, h int, env []string, args ...string) *Term {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "COLORTERM=truecolor", "XDG_CACHE_HOME="+t.TempDir(), "LANG=C.UTF-8", "LC_ALL=", "LC_CTYPE=")
	cmd.Env = append(cmd.Env, env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(w), Rows: uint16(h)})
	if err != nil {
		t.Fatal(err)
	}
	tm := &Term{t: t, cmd: cmd, pty: f, emu: vt.NewSafeEmulator(w, h), done: make(chan error, 1)}
	go func() { // program -> screen
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				tm.mu.Lock()
				tm.raw.Write(buf[:n])
				tm.mu.Unlock()
				tm.screenMu.Lock()
				tm.emu.Write(buf[:n])
				tm.screenMu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	go func() { // terminal replies -> program
		_, _ = io.Copy(f, tm.emu)
	}()
	go func() { tm.done <- cmd.Wait() }()
	t.Cleanup(func() { tm.Kill() })
	return tm
}

// Screen is the terminal's text now.
func (tm *Term) Screen() string {
	tm.screenMu.Lock()
	defer tm.screenMu.Unlock()
	return tm.emu.String()
}

// WaitFor polls the screen until every want appears.
func (tm *Term) WaitFor(timeout time.Duration, want ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := tm.Screen()
		ok := true
		for _, w := range want {
			if !strings.Contains(s, w) {
				ok = false
			}
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out after %s waiting for %q; screen:\n%s", timeout, want, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitUntil polls the screen until cond holds.
func (tm *Term) WaitUntil(timeout time.Duration, what string, cond func(string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := tm.Screen()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out after %s waiting for %s; screen:\n%s", timeout, what, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Send types keys, pausing after each.
func (tm *Term) Send(keys ...string) {
	for _, k := range keys {
		if _, err := tm.pty.WriteString(k); err != nil {
			tm.t.Fatal(err)
		}
		// A lone ESC is told apart from an escape sequence by a pause.
		pause := 30 * time.Millisecond
		if k == KeyEsc {
			pause = 150 * time.Millisecond
		}
		time.Sleep(pause)
	}
}

// Exit waits for the program to end and returns its error.
func (tm *Term) Exit(timeout time.Duration) error {
	tm.t.Helper()
	select {
	case err := <-tm.done:
		time.Sleep(50 * time.Millisecond) // let the reader drain the last bytes
		return err
	case <-time.After(timeout):
		tm.t.Fatalf("program did not exit within %s; screen:\n%s", timeout, tm.Screen())
		return nil
	}
}

// Output is every byte the program wrote.
func (tm *Term) Output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.raw.String()
}

// Kill stops the program if it still runs and closes the terminal.
func (tm *Term) Kill() {
	if tm.killed {
		return
	}
	tm.killed = true
	if tm.cmd.ProcessState == nil {
		_ = tm.cmd.Process.Kill()
		<-tm.done
	}
	tm.pty.Close()
}

// Keys the console understands.
const (
	KeyEnter = "\r"
	KeyEsc   = "\x1b"
	KeyTab   = "\t"
	KeyCtrlC = "\x03"
)

// Signal sends sig to the program (SIGHUP: the terminal went away).
func (tm *Term) Signal(sig os.Signal) error { return tm.cmd.Process.Signal(sig) }

// Pid is the process id of the program under test.
func (tm *Term) Pid() int { return tm.cmd.Process.Pid }

package e2e

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"
)

// binary is the stagedeck binary built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stagedeck-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "stagedeck")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = ".."
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		panic("build stagedeck: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// term runs the real binary in a pseudo-terminal and keeps a virtual screen
// (a VT emulator) of what it drew; the emulator also answers the program's
// terminal queries, as a real terminal would.
type term struct {
	t    testing.TB
	cmd  *exec.Cmd
	pty  *os.File
	emu  *vt.SafeEmulator
	mu   sync.Mutex
	raw  bytes.Buffer
	done chan error
}

func start(t testing.TB, w, h int, env []string, args ...string) *term {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "COLORTERM=truecolor", "XDG_CACHE_HOME="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(w), Rows: uint16(h)})
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, cmd: cmd, pty: f, emu: vt.NewSafeEmulator(w, h), done: make(chan error, 1)}
	go func() { // program -> screen
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				tm.mu.Lock()
				tm.raw.Write(buf[:n])
				tm.mu.Unlock()
				tm.emu.Write(buf[:n])
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
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-tm.done
		}
		f.Close()
	})
	return tm
}

func (tm *term) screen() string { return tm.emu.String() }

// waitFor polls the screen until every want appears.
func (tm *term) waitFor(timeout time.Duration, want ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := tm.screen()
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

// waitUntil polls the screen until cond holds.
func (tm *term) waitUntil(timeout time.Duration, what string, cond func(string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := tm.screen()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out after %s waiting for %s; screen:\n%s", timeout, what, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (tm *term) send(keys ...string) {
	for _, k := range keys {
		if _, err := tm.pty.WriteString(k); err != nil {
			tm.t.Fatal(err)
		}
		// A lone ESC is told apart from an escape sequence by a pause.
		pause := 30 * time.Millisecond
		if k == keyEsc {
			pause = 150 * time.Millisecond
		}
		time.Sleep(pause)
	}
}

// exit waits for the program to end and returns its error.
func (tm *term) exit(timeout time.Duration) error {
	tm.t.Helper()
	select {
	case err := <-tm.done:
		time.Sleep(50 * time.Millisecond) // let the reader drain the last bytes
		return err
	case <-time.After(timeout):
		tm.t.Fatalf("program did not exit within %s; screen:\n%s", timeout, tm.screen())
		return nil
	}
}

func (tm *term) output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.raw.String()
}

const (
	keyEnter = "\r"
	keyEsc   = "\x1b"
	keyTab   = "\t"
)

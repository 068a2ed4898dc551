package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/stagedeck/stagedeck/argo/argotest"
	"github.com/stagedeck/stagedeck/demo"
	"github.com/stagedeck/stagedeck/internal/cmdtest"
	"github.com/stagedeck/stagedeck/session"
)

// key is a test user's SSH key.
type key struct {
	signer gossh.Signer
	line   string // authorized_keys line
}

func newKey(t testing.TB) key {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return key{signer: s, line: strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.PublicKey())))}
}

// sandbox is the demo's real git remote and fake Argo CD under a config
// file, with operators.
func sandbox(t testing.TB, operators string) (*demo.Sandbox, string) {
	return cmdtest.Sandbox(t, operators)
}

// start serves opts on a loopback port until the test ends.
func start(t testing.TB, opts Options) (*Server, string) {
	t.Helper()
	if opts.HostKeyPath == "" {
		opts.HostKeyPath = filepath.Join(t.TempDir(), "keys", "host")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(ctx, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s, ln.Addr().String()
}

func authorized(t testing.TB, keys ...key) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# the team\n")
	for _, k := range keys {
		b.WriteString(k.line + " someone@laptop\n")
	}
	p := filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func dial(addr string, k key) (*gossh.Client, error) {
	return gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User: "ann", Auth: []gossh.AuthMethod{gossh.PublicKeys(k.signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
	})
}

// run executes a command over SSH: stdout, stderr, exit code.
func run(t testing.TB, addr string, k key, cmd string) (string, string, int) {
	t.Helper()
	c, err := dial(addr, k)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	s.Stdout, s.Stderr = &out, &errOut
	err = s.Run(cmd)
	code := 0
	var ee *gossh.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitStatus()
	} else if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return out.String(), errOut.String(), code
}

// term is a console over SSH read through a VT emulator.
type term struct {
	t      testing.TB
	client *gossh.Client
	sess   *gossh.Session
	in     io.WriteCloser
	mu     sync.Mutex
	emu    *vt.SafeEmulator
	done   chan struct{}
}

func openConsole(t testing.TB, addr string, k key, w, h int) *term {
	t.Helper()
	c, err := dial(addr, k)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Setenv("LANG", "C.UTF-8"); err != nil {
		t.Log("setenv refused (as it may be):", err)
	}
	if err := s.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	tm := &term{t: t, client: c, sess: s, in: in, emu: vt.NewSafeEmulator(w, h), done: make(chan struct{})}
	go func() {
		defer close(tm.done)
		buf := make([]byte, 32<<10)
		for {
			n, err := out.Read(buf)
			if n > 0 {
				tm.mu.Lock()
				_, _ = tm.emu.Write(buf[:n])
				tm.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	go func() { _, _ = io.Copy(in, tm.emu) }() // terminal replies
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tm.close)
	return tm
}

func (tm *term) screen() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.emu.String()
}

func (tm *term) waitFor(want ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := tm.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %q; screen:\n%s", want, s)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func (tm *term) send(keys ...string) {
	for _, k := range keys {
		if _, err := tm.in.Write([]byte(k)); err != nil {
			tm.t.Fatal(err)
		}
		time.Sleep(40 * time.Millisecond)
	}
}

func (tm *term) close() {
	_ = tm.sess.Close()
	_ = tm.client.Close()
	_ = tm.emu.Close()
}

func TestUnknownKeyIsRefused(t *testing.T) {
	known, stranger := newKey(t), newKey(t)
	_, cfg := sandbox(t, "")
	_, addr := start(t, Options{Flags: session.Flags{Config: cfg}, AuthorizedKeys: authorized(t, known)})
	if c, err := dial(addr, stranger); err == nil {
		c.Close()
		t.Fatal("a key not in the authorized-keys file got in")
	}
	if _, _, code := run(t, addr, known, "version"); code != 0 {
		t.Errorf("the known key: exit %d", code)
	}
}

func TestServeNeedsAuthorizedKeysAndMakesAPrivateHostKey(t *testing.T) {
	_, cfg := sandbox(t, "")
	// Options it would not enforce are refused, not ignored.
	k := newKey(t)
	withOpts := filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(withOpts, []byte(`from="10.0.0.0/8" `+k.line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), Options{Flags: session.Flags{Config: cfg}, AuthorizedKeys: withOpts, HostKeyPath: filepath.Join(t.TempDir(), "h")}); err == nil || !strings.Contains(err.Error(), "does not enforce") {
		t.Errorf("authorized_keys options: %v", err)
	}
	_, dupCfg := sandbox(t, "operators:\n  - {name: Ann, email: a@x.io, key: '"+k.line+"', stages: [tst]}\n  - {name: Bob, email: b@x.io, key: '"+k.line+"', stages: [prod]}\n")
	if _, err := New(context.Background(), Options{Flags: session.Flags{Config: dupCfg}, AuthorizedKeys: authorized(t, k), HostKeyPath: filepath.Join(t.TempDir(), "h")}); err == nil || !strings.Contains(err.Error(), "one key is one person") {
		t.Errorf("one key for two operators: %v", err)
	}
	if _, err := New(context.Background(), Options{Flags: session.Flags{Config: cfg}}); err == nil || !strings.Contains(err.Error(), "--authorized-keys") {
		t.Errorf("no authorized keys: %v", err)
	}
	hk := filepath.Join(t.TempDir(), "dir", "host")
	start(t, Options{Flags: session.Flags{Config: cfg}, AuthorizedKeys: authorized(t, newKey(t)), HostKeyPath: hk})
	for p, want := range map[string]os.FileMode{hk: 0o600, filepath.Dir(hk): 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	before, _ := os.ReadFile(hk)
	start(t, Options{Flags: session.Flags{Config: cfg}, AuthorizedKeys: authorized(t, newKey(t)), HostKeyPath: hk})
	if after, _ := os.ReadFile(hk); !bytes.Equal(before, after) {
		t.Error("the host key changed on the second start")
	}
}

// Scripts get status and its exit codes; nothing else runs.
func TestStatusForScripts(t *testing.T) {
	k := newKey(t)
	_, cfg := sandbox(t, "")
	_, addr := start(t, Options{Flags: session.Flags{Config: cfg}, AuthorizedKeys: authorized(t, k)})
	out, errOut, code := run(t, addr, k, "status -o json")
	var b struct {
		SchemaVersion int                     `json:"schemaVersion"`
		Stages        []struct{ Name string } `json:"stages"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &b) != nil || b.SchemaVersion != 2 || len(b.Stages) != 5 {
		t.Fatalf("status -o json: exit %d %q\n%s", code, errOut, out)
	}
	if out, _, code := run(t, addr, k, "status --exit-code"); code != 1 || !strings.Contains(out, "tst ") {
		t.Errorf("status --exit-code with TST behind: exit %d\n%s", code, out)
	}
	for _, cmd := range []string{"rm -rf /", "sync tst --revision HEAD --yes", "sh -c id", "rollback prod --to HEAD --reason x --yes"} {
		if _, errOut, code := run(t, addr, k, cmd); code != 2 || !strings.Contains(errOut, "unknown command") {
			t.Errorf("%q: exit %d %q", cmd, code, errOut)
		}
	}
}

// A read-only key sees the board, live; s says why nothing happens, and
// nothing reaches Argo CD.
func TestReadOnlyKeyCannotSync(t *testing.T) {
	viewer := newKey(t)
	sb, cfg := sandbox(t, "")
	_, addr := start(t, Options{Flags: session.Flags{Config: cfg}, AuthorizedKeys: authorized(t, viewer)})
	tm := openConsole(t, addr, viewer, 200, 40)
	tm.waitFor("tst-api", "· live")
	tm.send("j", "j", "j", "j", "j", "j", "j", "j", "s") // the TST stage row
	tm.waitFor("read-only: this key is not an operator")
	tm.send("R") // a hard refresh would regenerate manifests: not a viewer's to ask
	time.Sleep(300 * time.Millisecond)
	tm.send("h")
	time.Sleep(300 * time.Millisecond)
	tm.send("v")
	tm.waitFor("read-only")
	for _, c := range sb.Argo.Calls() {
		if c.Method == "Sync" || c.Method == "Refresh" {
			t.Fatalf("a read-only key reached Argo CD: %+v", c)
		}
	}
}

// An operator syncs TST under their own name (never the server's), and is
// refused PERF in the preview, before anything is sent.
func TestOperatorSyncsTheirStageUnderTheirName(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Server Account <server@example.com>")
	op := newKey(t)
	sb, cfg := sandbox(t, "operators:\n  - {name: Ann Owner, email: ann@example.com, key: '"+op.line+"', stages: [tst, prod]}\n")
	_, addr := start(t, Options{Flags: session.Flags{Config: cfg}, AuthorizedKeys: authorized(t, op)})
	tm := openConsole(t, addr, op, 200, 40)
	tm.waitFor("tst-api", "· live")
	// PROD is theirs, and still asks for its name.
	tm.send("G", "k", "k", "k", "s")
	tm.waitFor("Sync prod", "y/enter sync")
	tm.send("y")
	tm.waitFor("Type prod to confirm")
	tm.send("\x1b")
	time.Sleep(200 * time.Millisecond)
	tm.send("\x1b")
	time.Sleep(200 * time.Millisecond)
	tm.send("g", "j", "j", "j", "j", "j", "j", "j", "j", "s")
	tm.waitFor("Sync tst", "Ann Owner <ann@example.com>", "y/enter sync")
	tm.send("y")
	deadline := time.Now().Add(10 * time.Second)
	var calls []argotest.Call
	for len(calls) == 0 && time.Now().Before(deadline) {
		for _, c := range sb.Argo.Calls() {
			if c.Method == "Sync" {
				calls = append(calls, c)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(calls) == 0 {
		t.Fatalf("no sync sent; screen:\n%s", tm.screen())
	}
	for _, c := range calls {
		if !strings.HasPrefix(c.App, "tst-") || c.Infos["Operator"] != "Ann Owner <ann@example.com>" {
			t.Errorf("sync %s sent as %q", c.App, c.Infos["Operator"])
		}
	}
	n := len(sb.Argo.Calls())
	tm.send("\x1b")
	time.Sleep(200 * time.Millisecond)
	tm.send("j", "j", "j", "j", "s") // PERF
	tm.waitFor("Ann Owner may not act on perf")
	tm.send("y")
	tm.waitFor("cannot sync")
	for _, c := range sb.Argo.Calls()[n:] {
		if c.Method == "Sync" {
			t.Fatalf("PERF was synced by an operator of TST: %+v", c)
		}
	}
}

func TestIdleSessionsEndAndKeysAreLimited(t *testing.T) {
	k := newKey(t)
	_, cfg := sandbox(t, "")
	s, addr := start(t, Options{Flags: session.Flags{Config: cfg}, AuthorizedKeys: authorized(t, k), IdleTimeout: 2 * time.Second, MaxSessionsPerKey: 1})
	tm := openConsole(t, addr, k, 80, 24)
	tm.waitFor("tst-api")
	if _, errOut, code := run(t, addr, k, "status"); code != 1 || !strings.Contains(errOut, "sessions open already") {
		t.Errorf("a second session of one key: exit %d %q", code, errOut)
	}
	select {
	case <-tm.done:
	case <-time.After(10 * time.Second):
		t.Fatal("an idle console did not end")
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Active() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s.Active() != 0 {
		t.Errorf("%d sessions still counted", s.Active())
	}
}

// 50 consoles at once render their first frame, on one watch stream; 200
// sessions that connect and drop (some mid-frame, some resizing) leave no
// goroutine behind.
func TestManySessionsShareOneFeedAndLeaveNothingBehind(t *testing.T) {
	if testing.Short() {
		t.Skip("50 sessions")
	}
	k := newKey(t)
	sb, cfg := sandbox(t, "")
	s, addr := start(t, Options{Flags: session.Flags{Config: cfg}, AuthorizedKeys: authorized(t, k), MaxSessionsPerKey: 60})
	warm := openConsole(t, addr, k, 200, 40)
	warm.waitFor("tst-api", "· live")
	warm.close()
	<-warm.done
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	baseline := runtime.NumGoroutine()

	var wg sync.WaitGroup
	terms := make([]*term, 50)
	for i := range terms {
		wg.Go(func() {
			terms[i] = openConsole(t, addr, k, 80+i%40, 24+i%16)
			terms[i].waitFor("tst-api")
		})
	}
	wg.Wait()
	if w := sb.Argo.Watchers(); w != 1 {
		t.Errorf("%d watch streams reach Argo CD for 50 consoles; want 1", w)
	}
	// CPU while 50 consoles sit open (each redraws its clock once a second).
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	time.Sleep(2 * time.Second)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / 2
	t.Logf("50 idle consoles: %.0f%% of a core", 100*cpu.Seconds())
	if cpu > 800*time.Millisecond {
		t.Errorf("50 idle consoles use %.0f%% of a core", 100*cpu.Seconds())
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("50 sessions: live heap %d MiB, %d goroutines", ms.HeapAlloc>>20, runtime.NumGoroutine())
	// Bounded: each console keeps its board copy and two screen buffers
	// (about 1.3 MiB measured, BenchmarkServe); the emulators of this test's
	// own 50 clients are in the same process.
	if ms.HeapAlloc > 400<<20 {
		t.Errorf("50 sessions hold %d MiB", ms.HeapAlloc>>20)
	}
	for _, tm := range terms {
		tm.close()
	}
	for i := range 200 {
		c, err := dial(addr, k)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		_ = sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{})
		out, _ := sess.StdoutPipe()
		_ = sess.Shell()
		if i%2 == 0 { // drop mid-frame
			buf := make([]byte, 512)
			_, _ = out.Read(buf)
		} else { // resize rapidly, then drop
			for w := range 5 {
				_ = sess.WindowChange(24+w, 80+w)
			}
		}
		_ = c.Close()
	}
	deadline := time.Now().Add(15 * time.Second)
	for (s.Active() != 0 || runtime.NumGoroutine() > baseline+5) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if s.Active() != 0 || runtime.NumGoroutine() > baseline+5 {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Errorf("after 200 sessions: %d active, %d goroutines (baseline %d)\n%s", s.Active(), runtime.NumGoroutine(), baseline, buf[:n])
	}
	t.Logf("after 200 connect/disconnect cycles: %d goroutines (baseline %d)", runtime.NumGoroutine(), baseline)
}

// An operator's rollback over SSH is authored by them, with their
// Operator trailer: never the server's identity.
func TestOperatorRollbackIsTheirs(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Server Account <server@example.com>")
	op := newKey(t)
	sb, cfg := sandbox(t, "operators:\n  - {name: Ann Owner, email: ann@example.com, key: '"+op.line+"', stages: [tst]}\n")
	_, addr := start(t, Options{Flags: session.Flags{Config: cfg}, AuthorizedKeys: authorized(t, op)})
	tm := openConsole(t, addr, op, 200, 40)
	tm.waitFor("tst-api", "· live")
	before := sb.Head()
	tm.send("j", "j", "j", "j", "j", "j", "j", "j", "h")
	tm.waitFor("History of tst", "v revert")
	tm.send("v")
	tm.waitFor("Reason (required)")
	tm.send("INC-9", "\r")
	tm.waitFor("y/enter commit and push")
	tm.send("y")
	deadline := time.Now().Add(10 * time.Second)
	for sb.Head() == before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if sb.Head() == before {
		t.Fatalf("nothing pushed; screen:\n%s", tm.screen())
	}
	out, err := exec.Command("git", "--git-dir", strings.TrimPrefix(sb.Remote, "file://"), "log", "-1", "--format=%an <%ae>%n%B").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "Ann Owner <ann@example.com>") || !strings.Contains(string(out), "Operator: Ann Owner <ann@example.com>") || strings.Contains(string(out), "Server Account") {
		t.Errorf("the rollback commit:\n%s", out)
	}
}

package e2e

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/e2e/termtest"
)

// TestServeOverTheSSHBinary: `stagedeck serve --demo` and the real ssh
// client: status for a script, then the console in a terminal, quit with q.
func TestServeOverTheSSHBinary(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client on this machine")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "id")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pub, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	srv := exec.Command(binary, "serve", "--demo", "--listen", "127.0.0.1:"+port, "--host-key", filepath.Join(dir, "host", "key"), "--authorized-keys", authorized)
	srv.Env = append(os.Environ(), demoEnv...)
	stderr, _ := srv.StderrPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- srv.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = srv.Process.Kill()
			t.Error("serve did not stop on SIGINT")
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "ssh -p") {
				ready <- sc.Text()
			}
		}
	}()
	select {
	case line := <-ready:
		if !strings.Contains(line, "ssh -p "+port+" localhost") {
			t.Errorf("serve says %q", line)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not start")
	}
	ssh := []string{"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		"-o", "BatchMode=yes", "-i", keyFile, "-p", port}
	out, err := exec.Command("ssh", append(ssh, "localhost", "status")...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "DEMO") || !strings.Contains(string(out), "prod-api") {
		t.Fatalf("ssh status: %v\n%s", err, out)
	}
	tm := termtest.Start(t, "ssh", 120, 40, nil, append([]string{"-tt"}, append(ssh, "localhost")...)...)
	tm.WaitFor(20*time.Second, "DEMO", "PROD 🔒", "tst-web", "live")
	tm.Send("q")
	if err := tm.Exit(10 * time.Second); err != nil {
		t.Fatalf("ssh after q: %v", err)
	}
}

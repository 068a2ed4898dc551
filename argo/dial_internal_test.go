package argo

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An Argo CD that takes the connection and never answers does not hold
// Dial (the argocd client's probe has no deadline of its own): Dial says
// it is unreachable after dialTimeout, naming it.
func TestDialGivesUpOnASilentServer(t *testing.T) {
	t.Setenv("ARGOCD_SERVER", "")
	t.Setenv("ARGOCD_AUTH_TOKEN", "")
	defer func(d time.Duration) { dialTimeout = d }(dialTimeout)
	dialTimeout = 300 * time.Millisecond
	ln, lerr := net.Listen("tcp", "127.0.0.1:0")
	if lerr != nil {
		t.Fatal(lerr)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // taken, never answered, closed with the listener
		}
	}()
	addr := ln.Addr().String()
	cfg := filepath.Join(t.TempDir(), "config")
	data := fmt.Sprintf("contexts:\n- {name: silent, server: %[1]s, user: u}\ncurrent-context: silent\nservers:\n- {server: %[1]s, plain-text: true}\nusers:\n- {name: u, auth-token: t}\n", addr)
	if err := os.WriteFile(cfg, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		c, err := Dial(Options{ConfigPath: cfg})
		if c != nil {
			c.Close()
		}
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Dial of a silent server still waits after 10 s")
	}
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Dial of a silent server: %v; want ErrUnreachable naming %s", err, addr)
	}
	if took := time.Since(start); took > 10*dialTimeout {
		t.Errorf("Dial took %s to give up (dialTimeout %s)", took, dialTimeout)
	}
}

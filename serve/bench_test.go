package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/stagedeck/stagedeck/console"
	"github.com/stagedeck/stagedeck/session"
	"github.com/stagedeck/stagedeck/tui"
)

// rawConsole opens a console over SSH and reads until the first frame shows
// an app row; it returns the session and how long that took.
func rawConsole(b *testing.B, addr string, k key) (*gossh.Client, time.Duration) {
	b.Helper()
	t0 := time.Now()
	c, err := dial(addr, k)
	if err != nil {
		b.Fatal(err)
	}
	s, err := c.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.RequestPty("xterm-256color", 40, 120, gossh.TerminalModes{}); err != nil {
		b.Fatal(err)
	}
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		b.Fatal(err)
	}
	var seen bytes.Buffer
	buf := make([]byte, 32<<10)
	for !bytes.Contains(seen.Bytes(), []byte("tst-api")) {
		n, err := out.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			b.Fatalf("no first frame: %v", err)
		}
	}
	d := time.Since(t0)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return c, d
}

func heapMiB() float64 {
	runtime.GC()
	runtime.GC() // a second cycle frees what finalizers released
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20) // live bytes after GC
}

// BenchmarkServe gives the figures of issue 14: first frame over SSH on
// loopback against the local console on the same warm feed, and the heap
// of the server with 1 and 50 consoles open.
func BenchmarkServe(b *testing.B) {
	k := newKey(b)
	_, cfg := sandbox(b, "")
	s, addr := start(b, Options{Flags: session.Flags{Config: cfg}, AuthorizedKeys: authorized(b, k), MaxSessionsPerKey: 100})
	c, _ := rawConsole(b, addr, k) // warm: the session is open, the feed running
	c.Close()

	b.Run("first-frame-ssh", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			c, d := rawConsole(b, addr, k)
			total += d
			c.Close()
		}
		b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/frame")
	})
	b.Run("first-frame-local", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			t0 := time.Now()
			ctx, cancel := context.WithCancel(context.Background())
			pr, pw := io.Pipe()
			opts := s.shared.Options(ctx, console.Console{ReadOnly: true})
			p := tea.NewProgram(tui.New(opts), tea.WithContext(ctx), tea.WithInput(nil), tea.WithOutput(pw), tea.WithWindowSize(120, 40), tea.WithoutSignals())
			go func() { _, _ = p.Run(); pw.Close() }()
			var seen bytes.Buffer
			buf := make([]byte, 32<<10)
			for !bytes.Contains(seen.Bytes(), []byte("tst-api")) {
				n, err := pr.Read(buf)
				seen.Write(buf[:n])
				if err != nil {
					b.Fatal(err)
				}
			}
			total += time.Since(t0)
			cancel()
			go func() { _, _ = io.Copy(io.Discard, pr) }()
		}
		b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/frame")
	})
	for _, n := range []int{1, 50} {
		b.Run(fmt.Sprintf("heap-%d-sessions", n), func(b *testing.B) {
			for b.Loop() {
				base := heapMiB()
				var clients []*gossh.Client
				for range n {
					c, _ := rawConsole(b, addr, k)
					clients = append(clients, c)
				}
				time.Sleep(300 * time.Millisecond)
				b.ReportMetric(heapMiB(), "MiB-heap")
				b.ReportMetric((heapMiB()-base)/float64(n), "MiB/session")
				for _, c := range clients {
					c.Close()
				}
				for s.Active() > 0 {
					time.Sleep(20 * time.Millisecond)
				}
				time.Sleep(500 * time.Millisecond)
				b.ReportMetric(heapMiB(), "MiB-heap-after")
				b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines-after")
				b.ReportMetric(base, "MiB-heap-before")
			}
		})
	}
}

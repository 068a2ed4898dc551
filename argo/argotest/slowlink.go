package argotest

import (
	"io"
	"net"
	"sync"
	"time"
)

// SlowLink forwards TCP connections to an address, each held for a while
// first, as a distant server's handshake would be, and records when each
// came in.
type SlowLink struct {
	ln   net.Listener
	mu   sync.Mutex
	seen []time.Time
}

// NewSlowLink listens on a loopback port and forwards each connection to
// addr after holding it hold.
func NewSlowLink(addr string, hold time.Duration) (*SlowLink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &SlowLink{ln: ln}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			l.mu.Lock()
			l.seen = append(l.seen, time.Now())
			l.mu.Unlock()
			go func() {
				defer in.Close()
				time.Sleep(hold)
				out, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer out.Close()
				go func() { _, _ = io.Copy(out, in) }()
				_, _ = io.Copy(in, out)
			}()
		}
	}()
	return l, nil
}

// Addr is the link's own address, to dial instead of the server's.
func (l *SlowLink) Addr() string { return l.ln.Addr().String() }

// Seen is when each connection came in, in order.
func (l *SlowLink) Seen() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.seen...)
}

// Close stops accepting; connections already forwarded end with their ends.
func (l *SlowLink) Close() error { return l.ln.Close() }

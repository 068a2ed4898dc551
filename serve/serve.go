// Package serve is `stagedeck serve`: the console over SSH for a whole
// team. Every session gets its own console at its own size; all of them
// share one board feed (one git fetcher, one Argo CD watch per instance).
// Keys not in the authorized-keys file are refused; everyone is read-only
// unless the config names them an operator, and an operator acts under
// their own name, never the server's.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	bm "charm.land/wish/v2/bubbletea"
	"github.com/charmbracelet/keygen"
	gossh "golang.org/x/crypto/ssh"

	versioncmd "github.com/stagedeck/stagedeck/cmd/version"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/console"
	"github.com/stagedeck/stagedeck/feed"
	"github.com/stagedeck/stagedeck/opsrepo"
	"github.com/stagedeck/stagedeck/sanitize"
	"github.com/stagedeck/stagedeck/session"
	"github.com/stagedeck/stagedeck/tui"
)

// DefaultListen is loopback: the server reaches further only when told.
const DefaultListen = "127.0.0.1:2222"

// Options configure a server; zero values take the config's or the defaults.
type Options struct {
	Listen         string
	HostKeyPath    string // generated once (0600) when missing
	AuthorizedKeys string // required unless Flags.Demo
	Flags          session.Flags
	// Log receives one line per connection and per refusal.
	Log io.Writer
	// Info is what `ssh host version` prints.
	Info versioncmd.Info
	// IdleTimeout and MaxSessionsPerKey override the config's serve section.
	IdleTimeout       time.Duration
	MaxSessionsPerKey int
}

// Server serves consoles and `status` over SSH.
type Server struct {
	opts      Options
	shared    *console.Shared
	operators map[string]config.Operator // by SHA256 fingerprint
	idle      time.Duration
	maxPerKey int
	srv       *ssh.Server

	mu     sync.Mutex
	perKey map[string]int
	active atomic.Int64
}

// New builds a server: it reads the config and the keys, and makes the host
// key when there is none. Nothing is cloned or dialled until the first
// session asks for the board.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	if opts.AuthorizedKeys == "" && !opts.Flags.Demo {
		return nil, errors.New("serve needs --authorized-keys FILE: only the keys in it may connect")
	}
	if opts.AuthorizedKeys != "" {
		if _, err := readAuthorizedKeys(opts.AuthorizedKeys); err != nil {
			return nil, err
		}
	}
	sh, err := console.NewShared(ctx, opts.Flags)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, shared: sh, perKey: map[string]int{}, operators: map[string]config.Operator{}}
	cfg := sh.Config
	s.idle, s.maxPerKey = cfg.Serve.IdleTimeout, cfg.Serve.MaxSessionsPerKey
	if s.idle <= 0 {
		s.idle = 15 * time.Minute
	}
	if s.maxPerKey <= 0 {
		s.maxPerKey = 4
	}
	if opts.IdleTimeout > 0 {
		s.idle = opts.IdleTimeout
	}
	if opts.MaxSessionsPerKey > 0 {
		s.maxPerKey = opts.MaxSessionsPerKey
	}
	for i, o := range cfg.Operators {
		fp := o.Fingerprint
		if o.Key != "" {
			k, _, _, _, err := gossh.ParseAuthorizedKey([]byte(o.Key))
			if err != nil {
				sh.Close()
				return nil, fmt.Errorf("operators[%d] (%s): key: %w", i, o.Name, err)
			}
			fp = gossh.FingerprintSHA256(k)
		}
		if prev, dup := s.operators[fp]; dup {
			sh.Close()
			return nil, fmt.Errorf("operators[%d] (%s): the same key as %s: one key is one person", i, o.Name, prev.Name)
		}
		s.operators[fp] = o
	}
	hostKey := opts.HostKeyPath
	if hostKey == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			sh.Close()
			return nil, fmt.Errorf("host key: %w: pass --host-key FILE", err)
		}
		hostKey = filepath.Join(dir, "stagedeck", "ssh_host_ed25519")
	}
	if err := ensureHostKey(hostKey); err != nil {
		sh.Close()
		return nil, err
	}
	sopts := []ssh.Option{
		wish.WithAddress(opts.Listen),
		wish.WithHostKeyPath(hostKey),
		wish.WithPublicKeyAuth(s.authorize),
		wish.WithMiddleware(s.handle),
	}
	if opts.Flags.Demo && opts.AuthorizedKeys == "" {
		// The demo sandbox holds nothing real: anyone on loopback may try it,
		// with a key or without.
		sopts = append(sopts, wish.WithKeyboardInteractiveAuth(func(ssh.Context, gossh.KeyboardInteractiveChallenge) bool { return true }))
	}
	srv, err := wish.NewServer(sopts...)
	if err != nil {
		sh.Close()
		return nil, err
	}
	// Sessions only: no port forwarding, no agent, no subsystems, no shell.
	srv.LocalPortForwardingCallback, srv.ReversePortForwardingCallback = nil, nil
	srv.SubsystemHandlers = nil
	srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": ssh.DefaultSessionHandler}
	srv.RequestHandlers = map[string]ssh.RequestHandler{}
	// A connection that does not log in soon is dropped.
	srv.HandshakeTimeout = 20 * time.Second
	s.srv = srv
	return s, nil
}

// ensureHostKey makes an ed25519 host key at path once, private (0600) in a
// private directory; an existing key is kept and tightened.
func ensureHostKey(path string) error {
	if err := opsrepo.PrivateDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if _, err := keygen.New(path, keygen.WithKeyType(keygen.Ed25519), keygen.WithWrite()); err != nil {
			return fmt.Errorf("host key %s: %w", path, err)
		}
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("host key %s: %w", path, err)
	}
	return nil
}

// Serve answers connections on ln until ctx ends, then closes every session.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = s.srv.Close()
		case <-done:
		}
	}()
	err := s.srv.Serve(ln)
	close(done)
	s.shared.Close()
	if errors.Is(err, ssh.ErrServerClosed) || ctx.Err() != nil {
		return nil
	}
	return err
}

// Run listens on opts.Listen and serves until ctx ends.
func Run(ctx context.Context, opts Options) error {
	s, err := New(ctx, opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		s.shared.Close()
		return fmt.Errorf("listen %s: %w", s.opts.Listen, err)
	}
	if host, _, err := net.SplitHostPort(s.opts.Listen); err == nil {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			fmt.Fprintf(s.opts.Log, "stagedeck serve: listening on %s: reachable beyond this host\n", ln.Addr())
		}
	}
	fmt.Fprintf(s.opts.Log, "stagedeck serve: ssh -p %s %s (idle sessions end after %s; %d sessions per key)\n",
		portOf(ln.Addr()), hostOf(s.opts.Listen), s.idle, s.maxPerKey)
	return s.Serve(ctx, ln)
}

func portOf(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

func hostOf(listen string) string {
	h, _, _ := net.SplitHostPort(listen)
	if h == "" || h == "0.0.0.0" || h == "::" || h == "127.0.0.1" || h == "::1" {
		return "localhost"
	}
	return h
}

// Active is the number of sessions open now.
func (s *Server) Active() int { return int(s.active.Load()) }

// authorize admits keys of the authorized-keys file (read again at every
// login, so a removed key is out at once); the demo without a file admits any.
func (s *Server) authorize(_ ssh.Context, key ssh.PublicKey) bool {
	if s.opts.AuthorizedKeys == "" {
		return s.opts.Flags.Demo
	}
	keys, err := readAuthorizedKeys(s.opts.AuthorizedKeys)
	if err != nil {
		fmt.Fprintf(s.opts.Log, "stagedeck serve: %v\n", err)
		return false
	}
	for _, k := range keys {
		if ssh.KeysEqual(k, key) {
			return true
		}
	}
	fmt.Fprintf(s.opts.Log, "stagedeck serve: refused key %s\n", gossh.FingerprintSHA256(key))
	return false
}

func readAuthorizedKeys(path string) ([]gossh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("authorized keys: %w", err)
	}
	var keys []gossh.PublicKey
	for len(strings.TrimSpace(string(data))) > 0 {
		k, _, options, rest, err := gossh.ParseAuthorizedKey(data)
		if err != nil {
			break // the rest is comments or blank
		}
		if len(options) > 0 {
			// from=, expiry-time=, restrict...: not enforced here, so not
			// silently accepted either.
			return nil, fmt.Errorf("authorized keys %s: key %s has options (%s) that stagedeck serve does not enforce: remove them",
				path, gossh.FingerprintSHA256(k), strings.Join(options, ","))
		}
		keys = append(keys, k)
		data = rest
	}
	return keys, nil
}

// who acts in a session.
type who struct {
	fingerprint string
	user        string
	operator    *config.Operator // nil: read-only
}

func (w who) String() string {
	if w.operator == nil {
		return "read-only"
	}
	return "operator " + opsrepo.Signature{Name: w.operator.Name, Email: w.operator.Email}.String()
}

func (s *Server) identify(sess ssh.Session) who {
	w := who{user: sess.User(), fingerprint: "keyboard-interactive"}
	if k := sess.PublicKey(); k != nil {
		w.fingerprint = gossh.FingerprintSHA256(k)
	}
	if o, ok := s.operators[w.fingerprint]; ok {
		w.operator = &o
	} else if s.opts.Flags.Demo && len(s.operators) == 0 {
		// In the demo everyone may try everything, under their SSH name.
		name := sanitize.Line(sess.User())
		if name == "" {
			name = "demo"
		}
		w.operator = &config.Operator{Name: name, Email: name + "@demo.stagedeck.invalid", Stages: s.shared.Config.StageNames()}
	}
	if s.opts.Flags.ReadOnly || s.shared.Config.ReadOnly {
		w.operator = nil
	}
	return w
}

func (s *Server) acquire(fp string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perKey[fp] >= s.maxPerKey {
		return false
	}
	s.perKey[fp]++
	s.active.Add(1)
	return true
}

func (s *Server) release(fp string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perKey[fp]--; s.perKey[fp] <= 0 {
		delete(s.perKey, fp)
	}
	s.active.Add(-1)
}

// handle is the only thing a session can reach: a command or the console.
func (s *Server) handle(ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		// Window changes are read until the session ends, whatever happens
		// here: an unread one would hold the connection's goroutine forever.
		if _, winCh, ok := sess.Pty(); ok {
			defer func() {
				go func() {
					for range winCh {
					}
				}()
			}()
		}
		w := s.identify(sess)
		if !s.acquire(w.fingerprint) {
			fmt.Fprintf(sess.Stderr(), "stagedeck: this key has %d sessions open already: close one first\n", s.maxPerKey)
			_ = sess.Exit(1)
			return
		}
		defer s.release(w.fingerprint)
		if cmd := sess.Command(); len(cmd) > 0 {
			fmt.Fprintf(s.opts.Log, "stagedeck serve: %s %s (%s): %s\n", w.fingerprint, sanitize.Line(w.user), w, sanitize.Line(strings.Join(cmd, " ")))
			_ = sess.Exit(s.command(sess, cmd))
			return
		}
		if _, _, ok := sess.Pty(); !ok {
			fmt.Fprintln(sess.Stderr(), "stagedeck: no terminal: connect with ssh -t for the console, or run a command (ssh -p 2222 host status)")
			_ = sess.Exit(2)
			return
		}
		fmt.Fprintf(s.opts.Log, "stagedeck serve: %s %s (%s): console\n", w.fingerprint, sanitize.Line(w.user), w)
		s.console(sess, w)
		_ = sess.Exit(0)
	}
}

// console runs one console until the user quits, the session drops or it
// has been idle too long.
func (s *Server) console(sess ssh.Session, w who) {
	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()
	env := map[string]string{}
	for _, kv := range sess.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	c := console.Console{ASCII: !console.UTF8Locale(func(k string) string { return env[k] })}
	op := config.Operator{}
	if w.operator != nil {
		op = *w.operator
		c.Operator = opsrepo.Signature{Name: op.Name, Email: op.Email}.String()
	} else {
		// The keys stay visible: pressing one says why nothing happens.
		c.OperatorErr = errors.New("read-only: this key is not an operator on this server (an operators entry in its config names who may act)")
		if s.opts.Flags.ReadOnly || s.shared.Config.ReadOnly {
			c.OperatorErr = errors.New("read-only: this server runs read-only (--read-only or readOnly: true)")
		}
	}
	opts := s.shared.Options(ctx, c)
	// Every action goes through the guard too: stages by what they change,
	// and the operator's own name on what is sent.
	g := guard{cfg: s.shared.Config, op: op, log: s.opts.Log, fingerprint: w.fingerprint}
	if opts.Syncer != nil {
		opts.Syncer = guardedSyncer{opts.Syncer, g}
	}
	opts.Rollback = guardedRollbacker{opts.Rollback, g}
	if w.operator == nil {
		// A viewer's r neither asks Argo CD to reconcile (a hard refresh
		// regenerates manifests) nor forces git fetches: it reads the
		// shared board.
		opts.Refresh = nil
		opts.Fetcher = sharedFetch{s.shared.Feed}
	}
	opts.Cache = nil // the server's consoles do not write the local cache
	var lastInput atomic.Int64
	lastInput.Store(time.Now().UnixNano())
	filter := func(_ tea.Model, msg tea.Msg) tea.Msg {
		switch msg.(type) {
		case tea.KeyPressMsg, tea.MouseMsg, tea.PasteMsg:
			lastInput.Store(time.Now().UnixNano())
		case tea.SuspendMsg: // no job control over SSH
			return tea.ResumeMsg{}
		}
		return msg
	}
	popts := append(bm.MakeOptions(sess), tea.WithContext(ctx), tea.WithFilter(filter), tea.WithoutSignalHandler())
	p := tea.NewProgram(tui.New(opts), popts...)
	_, winCh, _ := sess.Pty()
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(max(time.Second, min(s.idle/4, 10*time.Second)))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case win, ok := <-winCh:
				if !ok {
					winCh = nil
					continue
				}
				p.Send(tea.WindowSizeMsg{Width: win.Width, Height: win.Height})
			case <-tick.C:
				if time.Since(time.Unix(0, lastInput.Load())) >= s.idle {
					fmt.Fprintf(sess.Stderr(), "\r\nstagedeck: idle for %s: session ended\r\n", s.idle)
					p.Quit()
					cancel()
					return
				}
			}
		}
	})
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) && ctx.Err() == nil {
		fmt.Fprintf(s.opts.Log, "stagedeck serve: console: %v\n", err)
	}
	p.Kill()
	cancel()
	wg.Wait()
}

// sharedFetch fetches only as the shared feed does on its own: a key press
// reuses a recent fetch instead of forcing one.
type sharedFetch struct{ f *feed.Feed }

func (s sharedFetch) Fetch(ctx context.Context) error { return s.f.Fetch(ctx) }

// Package session opens what one command or console works with: the config
// (or the demo sandbox), the ops repository and a client per Argo CD context.
package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagedeck/stagedeck/argo"
	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/demo"
	"github.com/stagedeck/stagedeck/opsrepo"
)

// Flags are the global flags that choose what a session opens.
type Flags struct {
	Config   string // --config; "" = the default locations
	Demo     bool   // --demo: the built-in sandbox
	ReadOnly bool   // --read-only
}

// Session holds the real clients one command works with.
type Session struct {
	Cfg  *config.Config
	Repo *opsrepo.Repo
	// Argo maps an argocd context name to its client; ArgoErr holds the
	// contexts that could not be dialled.
	Argo     map[string]*argo.Client
	ArgoErr  map[string]error
	Sandbox  *demo.Sandbox
	ReadOnly bool

	// lists are the Argo CD lists Open started before its git work: the
	// first board takes them rather than listing again.
	lists     map[string]*earlyList
	stopLists context.CancelFunc
	borrowed  bool // Close leaves the clients open: they are shared
}

// Borrow is the session for one user of a shared one (an SSH session's
// `status`): its Close closes nothing.
func (s *Session) Borrow() *Session {
	c := *s
	c.borrowed = true
	return &c
}

// unreachableError marks an error of a source out of reach (exit 3); its
// text is the cause's.
type unreachableError struct{ error }

func (e unreachableError) Unwrap() error { return e.error }

// IsUnreachable reports whether Open failed because git could not be reached
// (rather than a config or input problem).
func IsUnreachable(err error) bool {
	var u unreachableError
	return errors.As(err, &u)
}

// LoadConfig finds and reads the config the flags name.
func LoadConfig(f Flags) (*config.Config, error) {
	path, err := config.Find(f.Config)
	if err != nil {
		return nil, err
	}
	return config.Load(path)
}

// DemoStageNames are the demo sandbox's stages, for completion.
func DemoStageNames() []string {
	names := make([]string, len(demo.Stages))
	for i, s := range demo.Stages {
		names[i] = s.Name
	}
	return names
}

// DemoOptions lets tests speed the sandbox up through the environment.
func DemoOptions() demo.Options {
	var o demo.Options
	if d, err := time.ParseDuration(os.Getenv("STAGEDECK_DEMO_CI_INTERVAL")); err == nil {
		o.CIInterval = d
	}
	if d, err := time.ParseDuration(os.Getenv("STAGEDECK_DEMO_SYNC_DURATION")); err == nil {
		o.SyncDuration = d
	}
	// A frozen clock gives the same shas and ages on every run (golden tests).
	if t, err := time.Parse(time.RFC3339, os.Getenv("STAGEDECK_DEMO_EPOCH")); err == nil {
		o.Epoch = t
	}
	return o
}

// Open loads the config (or starts the demo sandbox), opens the ops
// repository and dials every Argo CD context the stages use. With fetch, the
// repository is fetched unless that happened in the last 5 seconds.
func Open(ctx context.Context, f Flags, fetch bool) (*Session, error) {
	s := &Session{Argo: map[string]*argo.Client{}, ArgoErr: map[string]error{}}
	if f.Demo {
		sb, err := demo.Start(DemoOptions())
		if err != nil {
			return nil, err
		}
		s.Sandbox, s.Cfg = sb, sb.Config
	} else {
		cfg, err := LoadConfig(f)
		if err != nil {
			return nil, err
		}
		s.Cfg = cfg
	}
	s.ReadOnly = f.ReadOnly || s.Cfg.ReadOnly
	// Argo CD first: every command lists it for its board, and that list
	// (Argo CD's slowest answer) runs while git clones or fetches, rather
	// than after.
	s.dial(ctx)
	cacheDir := s.Cfg.CacheDir
	if cacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("cache dir: %w: set cacheDir in the config", err)
		}
		cacheDir = filepath.Join(dir, "stagedeck")
	}
	auth, authErr := opsrepo.Auth(s.Cfg.OpsRepo.URL)
	if errors.Is(authErr, opsrepo.ErrInsecureToken) {
		s.Close()
		return nil, authErr
	}
	repo, err := opsrepo.Open(ctx, opsrepo.Options{
		URL: s.Cfg.OpsRepo.URL, Branch: s.Cfg.OpsRepo.Branch, CacheDir: cacheDir,
		ReadOnly: s.ReadOnly, Auth: auth,
	})
	if err != nil {
		s.Close()
		if authErr != nil {
			err = fmt.Errorf("%w (git credentials: %v)", err, authErr)
		}
		if errors.Is(err, opsrepo.ErrUnreachable) {
			err = unreachableError{err}
		}
		return nil, err
	}
	s.Repo = repo
	if fetch && time.Since(repo.LastFetch()) > 5*time.Second {
		if err := repo.Fetch(ctx); err != nil {
			s.Close()
			return nil, unreachableError{err}
		}
	}
	return s, nil
}

// earlyFresh is how old a list Open started may be when the first board
// takes it; a board collected later lists again.
const earlyFresh = 10 * time.Second

// earlyList is one Argo CD list started by Open, taken once.
type earlyList struct {
	c       *argo.Client
	started time.Time
	done    chan struct{}
	apps    []argo.App
	err     error
	taken   atomic.Bool
}

// List returns the early list if it is fresh and untaken, else lists.
func (l *earlyList) List(ctx context.Context) ([]argo.App, error) {
	if time.Since(l.started) < earlyFresh && l.taken.CompareAndSwap(false, true) {
		select {
		case <-l.done:
			return l.apps, l.err
		case <-ctx.Done():
			// The client words a call out of time as every list does.
		}
	}
	return l.c.List(ctx)
}

// dial connects a client per Argo CD context the stages use and starts
// listing each. The contexts are dialled at once, each listing as soon as
// it is connected: with several Argo CD instances, a board waits for the
// slowest one's handshakes and list, not for their sum.
func (s *Session) dial(ctx context.Context) {
	if s.Cfg.GitOnly() {
		return
	}
	// Not the opener's context: in a shared session (stagedeck serve) the
	// first console may leave before its board; only Close stops the lists.
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopLists, s.lists = stop, map[string]*earlyList{}
	var names []string
	for _, st := range s.Cfg.Stages {
		name := s.Cfg.ContextFor(st)
		_, ok := s.Argo[name]
		_, bad := s.ArgoErr[name]
		if !ok && !bad && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	lists := make([]*earlyList, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			c, err := argo.Dial(argo.Options{ConfigPath: s.Cfg.ArgoCD.ConfigPath, Context: name, ReadOnly: s.ReadOnly})
			if err != nil {
				errs[i] = err
				return
			}
			l := &earlyList{c: c, started: time.Now(), done: make(chan struct{})}
			lists[i] = l
			go func() {
				defer close(l.done)
				cctx, cancel := argo.WithTimeout(lctx)
				defer cancel()
				l.apps, l.err = c.List(cctx)
			}()
		})
	}
	wg.Wait()
	for i, name := range names {
		if errs[i] != nil {
			s.ArgoErr[name] = errs[i]
			continue
		}
		s.Argo[name], s.lists[name] = lists[i].c, lists[i]
	}
}

// Sources are what board.Collect reads.
func (s *Session) Sources() board.Sources {
	src := board.Sources{Config: s.Cfg, Repo: s.Repo, Argo: map[string]board.AppLister{}, ArgoErr: s.ArgoErr, Demo: s.Sandbox != nil}
	for name, l := range s.lists { // one per client: dial makes both
		src.Argo[name] = l
	}
	return src
}

// DemoOperator acts in the demo sandbox when git has no identity: nothing
// there reaches a real repository or cluster.
var DemoOperator = opsrepo.Signature{Name: "Demo Operator", Email: "demo@stagedeck.invalid"}

// Operator is who acts: see opsrepo.Repo.Operator.
func (s *Session) Operator() (opsrepo.Signature, error) {
	op, err := s.Repo.Operator()
	if err != nil && s.Sandbox != nil {
		return DemoOperator, nil
	}
	return op, err
}

// Now is the wall clock, or the demo's frozen clock when one is set.
func (s *Session) Now() time.Time {
	if s.Sandbox != nil && !s.Sandbox.Epoch.IsZero() {
		return s.Sandbox.Epoch
	}
	return time.Now()
}

// Close closes the repository and the clients, and removes the demo sandbox.
func (s *Session) Close() {
	if s.borrowed {
		return
	}
	if s.stopLists != nil {
		s.stopLists()
	}
	if s.Repo != nil {
		_ = s.Repo.Close()
	}
	for _, c := range s.Argo {
		_ = c.Close()
	}
	if s.Sandbox != nil {
		s.Sandbox.Close()
	}
}

// ClientFor returns the Argo CD client serving a stage.
func (s *Session) ClientFor(stage string) (*argo.Client, error) {
	st, ok := s.Cfg.StageByName(stage)
	if !ok {
		return nil, fmt.Errorf("no stage %q", stage)
	}
	name := s.Cfg.ContextFor(st)
	if err := s.ArgoErr[name]; err != nil {
		return nil, err
	}
	c, ok := s.Argo[name]
	if !ok {
		return nil, errors.New("no Argo CD configured: syncing needs an argocd section in the config")
	}
	return c, nil
}

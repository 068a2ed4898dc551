package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/stagedeck/stagedeck/argo"
	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/demo"
	"github.com/stagedeck/stagedeck/opsrepo"
)

// session holds the real clients one command works with.
type session struct {
	cfg      *config.Config
	repo     *opsrepo.Repo
	argo     map[string]*argo.Client
	argoErr  map[string]error
	sandbox  *demo.Sandbox
	readOnly bool
}

func loadConfig(g *globalFlags) (*config.Config, error) {
	path, err := config.Find(g.config)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	return cfg, nil
}

func demoStageNames() []string {
	names := make([]string, len(demo.Stages))
	for i, s := range demo.Stages {
		names[i] = s.Name
	}
	return names
}

// demoOptions lets tests speed the sandbox up through the environment.
func demoOptions() demo.Options {
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

// openSession loads the config (or starts the demo sandbox), opens the ops
// repository and dials every Argo CD context the stages use.
func openSession(ctx context.Context, g *globalFlags, fetch bool) (*session, error) {
	s := &session{argo: map[string]*argo.Client{}, argoErr: map[string]error{}}
	if g.demo {
		sb, err := demo.Start(demoOptions())
		if err != nil {
			return nil, withCode(exitUsage, err)
		}
		s.sandbox, s.cfg = sb, sb.Config
	} else {
		cfg, err := loadConfig(g)
		if err != nil {
			return nil, err
		}
		s.cfg = cfg
	}
	s.readOnly = g.readOnly || s.cfg.ReadOnly
	cacheDir := s.cfg.CacheDir
	if cacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			s.Close()
			return nil, withCode(exitUsage, fmt.Errorf("cache dir: %w: set cacheDir in the config", err))
		}
		cacheDir = filepath.Join(dir, "stagedeck")
	}
	auth, authErr := opsrepo.Auth(s.cfg.OpsRepo.URL)
	if errors.Is(authErr, opsrepo.ErrInsecureToken) {
		s.Close()
		return nil, withCode(exitUsage, authErr)
	}
	repo, err := opsrepo.Open(ctx, opsrepo.Options{
		URL: s.cfg.OpsRepo.URL, Branch: s.cfg.OpsRepo.Branch, CacheDir: cacheDir,
		ReadOnly: s.readOnly, Auth: auth,
	})
	if err != nil {
		s.Close()
		if authErr != nil {
			err = fmt.Errorf("%w (git credentials: %v)", err, authErr)
		}
		return nil, withCode(gitExitCode(err), err)
	}
	s.repo = repo
	if fetch && time.Since(repo.LastFetch()) > 5*time.Second {
		if err := repo.Fetch(ctx); err != nil {
			s.Close()
			return nil, withCode(exitUnreachable, err)
		}
	}
	if !s.cfg.GitOnly() {
		for _, st := range s.cfg.Stages {
			name := s.cfg.ContextFor(st)
			if _, ok := s.argo[name]; ok {
				continue
			}
			if _, ok := s.argoErr[name]; ok {
				continue
			}
			c, err := argo.Dial(argo.Options{ConfigPath: s.cfg.ArgoCD.ConfigPath, Context: name, ReadOnly: s.readOnly})
			if err != nil {
				s.argoErr[name] = err
				continue
			}
			s.argo[name] = c
		}
	}
	return s, nil
}

func gitExitCode(err error) int {
	if errors.Is(err, opsrepo.ErrUnreachable) {
		return exitUnreachable
	}
	return exitUsage
}

func (s *session) sources() board.Sources {
	src := board.Sources{Config: s.cfg, Repo: s.repo, Argo: map[string]board.AppLister{}, ArgoErr: s.argoErr, Demo: s.sandbox != nil}
	for name, c := range s.argo {
		src.Argo[name] = c
	}
	return src
}

// demoOperator acts in the demo sandbox when git has no identity: nothing
// there reaches a real repository or cluster.
var demoOperator = opsrepo.Signature{Name: "Demo Operator", Email: "demo@stagedeck.invalid"}

// operator is who acts: see opsrepo.Repo.Operator.
func (s *session) operator() (opsrepo.Signature, error) {
	op, err := s.repo.Operator()
	if err != nil && s.sandbox != nil {
		return demoOperator, nil
	}
	return op, err
}

// now is the wall clock, or the demo's frozen clock when one is set.
func (s *session) now() time.Time {
	if s.sandbox != nil && !s.sandbox.Epoch.IsZero() {
		return s.sandbox.Epoch
	}
	return time.Now()
}

func (s *session) Close() {
	if s.repo != nil {
		_ = s.repo.Close()
	}
	for _, c := range s.argo {
		_ = c.Close()
	}
	if s.sandbox != nil {
		s.sandbox.Close()
	}
}

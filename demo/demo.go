// Package demo is the built-in sandbox behind --demo: a realistic ops
// repository in a temp dir, served by the argotest Argo CD on loopback with
// a simulated controller and a simulated CI that keeps committing to ITG.
package demo

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/stagedeck/stagedeck/argo/argotest"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/opsrepo"
)

// Options tune the sandbox; zero values are the interactive defaults.
type Options struct {
	// CIInterval is how often the simulated CI commits to ITG (0 = 60s, <0 = never).
	CIInterval time.Duration
	// SyncDuration is how long a simulated sync runs (0 = 2s).
	SyncDuration time.Duration
	// Dir to build in; default a new temp dir removed by Close.
	Dir string
	// Epoch is when the generated history ends; default now. Tests fix it
	// to get the same shas on every run.
	Epoch time.Time
}

// Sandbox is a running demo: the ops remote, the fake Argo CD and a config
// pointing stagedeck at both.
type Sandbox struct {
	Config *config.Config
	Dir    string
	// Epoch is the frozen clock given in Options, zero for the wall clock.
	Epoch  time.Time
	Remote string // file:// URL of the bare ops repository
	Argo   *argotest.Server

	ops     *opsrepo.Repo
	state   *layout
	mu      sync.Mutex // serialises simulated CI commits
	cancel  context.CancelFunc
	done    sync.WaitGroup
	tempDir bool
}

// Apps in the sandbox.
var Apps = []string{"web", "api", "worker"}

// Stages in the sandbox, in board order.
var Stages = []config.Stage{
	{Name: "mr-123", Path: "mr-123", CIManaged: true},
	{Name: "itg", Path: "itg"},
	{Name: "tst", Path: "tst"},
	{Name: "perf", Path: "perf"},
	{Name: "prod", Path: "prod", Protected: true},
}

const token = "demo-token"

// Start builds the repository, starts the fake Argo CD and the simulators.
func Start(opts Options) (*Sandbox, error) {
	if opts.CIInterval == 0 {
		opts.CIInterval = 60 * time.Second
	}
	if opts.SyncDuration == 0 {
		opts.SyncDuration = 2 * time.Second
	}
	sb := &Sandbox{Dir: opts.Dir}
	if sb.Dir == "" {
		d, err := os.MkdirTemp("", "stagedeck-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		sb.Dir, sb.tempDir = d, true
	}
	bare := filepath.Join(sb.Dir, "ops.git")
	ops, err := opsrepo.InitBare(bare, "main")
	if err != nil {
		sb.cleanup()
		return nil, err
	}
	sb.ops, sb.Remote = ops, "file://"+bare
	sb.Epoch = opts.Epoch
	if opts.Epoch.IsZero() {
		opts.Epoch = time.Now()
	}
	deployed, err := sb.buildHistory(opts.Epoch)
	if err != nil {
		sb.cleanup()
		return nil, fmt.Errorf("demo: build ops repo: %w", err)
	}
	srv, err := argotest.Start(argotest.Options{Token: token, Git: gitAdapter{ops, sb.state}, SyncDuration: opts.SyncDuration})
	if err != nil {
		sb.cleanup()
		return nil, err
	}
	sb.Argo = srv
	for _, st := range Stages {
		for _, app := range Apps {
			name := st.Name + "-" + app
			project := st.Name
			if st.CIManaged {
				project = "previews"
			}
			var previous []string
			if prev := deployed[st.Name+"-previous"]; prev != "" {
				previous = []string{prev}
			}
			srv.AddApp(argotest.AppSpec{
				Name: name, Project: project, RepoURL: sb.Remote, Path: st.Path + "/" + app,
				Auto: st.Name == "itg" || st.CIManaged, Deployed: deployed[st.Name], Previous: previous,
				Images: sb.state.images(deployed[st.Name], st.Path+"/"+app), Now: opts.Epoch,
			})
		}
	}
	argoCfg := filepath.Join(sb.Dir, "argocd-config")
	if err := os.WriteFile(argoCfg, []byte(fmt.Sprintf(argoConfig, srv.Addr(), token)), 0o600); err != nil {
		sb.cleanup()
		return nil, err
	}
	sb.Config = &config.Config{
		OpsRepo:  config.OpsRepo{URL: sb.Remote, Branch: "main"},
		ArgoCD:   &config.ArgoCD{Context: "demo", ConfigPath: argoCfg},
		Stages:   append([]config.Stage(nil), Stages...),
		Refresh:  config.Duration{Duration: 10 * time.Second},
		CacheDir: filepath.Join(sb.Dir, "cache"),
	}
	ctx, cancel := context.WithCancel(context.Background())
	sb.cancel = cancel
	sb.done.Add(1)
	go sb.simulate(ctx, opts.CIInterval)
	return sb, nil
}

const argoConfig = `contexts:
- name: demo
  server: %[1]s
  user: demo
current-context: demo
servers:
- server: %[1]s
  plain-text: true
users:
- name: demo
  auth-token: %[2]s
`

// Close stops the simulators and the server and removes a temp dir.
func (sb *Sandbox) Close() {
	if sb.cancel != nil {
		sb.cancel()
		sb.done.Wait()
	}
	if sb.Argo != nil {
		sb.Argo.Close()
	}
	sb.cleanup()
}

func (sb *Sandbox) cleanup() {
	if sb.tempDir {
		_ = os.RemoveAll(sb.Dir)
	}
}

// simulate runs the controller's resync and the CI's ITG commits.
func (sb *Sandbox) simulate(ctx context.Context, ciEvery time.Duration) {
	defer sb.done.Done()
	resync := time.NewTicker(2 * time.Second)
	defer resync.Stop()
	var ci <-chan time.Time
	if ciEvery > 0 {
		t := time.NewTicker(ciEvery)
		defer t.Stop()
		ci = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-resync.C:
			sb.Argo.Reconcile()
		case <-ci:
			if _, err := sb.CICommit(); err == nil {
				sb.Argo.Reconcile()
			}
		}
	}
}

// CICommit makes the simulated CI bump one app's image in ITG, as a pipeline
// would after a build, and returns the new head.
func (sb *Sandbox) CICommit() (string, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	app := Apps[rand.Intn(len(Apps))]
	v := sb.state.bump("itg", app)
	return sb.commit("ci-bot", fmt.Sprintf("ci: deploy %s %s to itg", app, v), time.Now(), "itg/"+app)
}

// --- the ops repository's content and history ---

type appState struct {
	tag      string
	replicas int
	extra    []string
	secret   string // sealed ciphertext of the DB password
}

type layout struct {
	mu       sync.Mutex
	apps     map[string]*appState // "stage/app"
	imageIdx map[string][]string  // "sha stage/app" -> images
}

func (l *layout) key(stage, app string) *appState { return l.apps[stage+"/"+app] }

func (l *layout) bump(stage, app string) string {
	s := l.key(stage, app)
	var maj, min, patch int
	fmt.Sscanf(s.tag, "%d.%d.%d", &maj, &min, &patch)
	s.tag = fmt.Sprintf("%d.%d.%d", maj, min, patch+1)
	return s.tag
}

func (l *layout) imagesFor(stage, app string) []string {
	return []string{fmt.Sprintf("registry.example.com/shop/%s:%s", app, l.key(stage, app).tag)}
}

func (l *layout) images(sha, path string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.imageIdx[sha+" "+path]
}

func (l *layout) files(stage, app string) []opsrepo.FileChange {
	s := l.key(stage, app)
	chart := fmt.Sprintf("apiVersion: v2\nname: %s\ndescription: %s for the %s stage\nversion: 1.0.0\ndependencies:\n  - name: %s\n    version: \"~3.2.0\"\n    repository: oci://registry.example.com/charts\n", app, app, stage, app)
	values := fmt.Sprintf("%s:\n  image:\n    repository: registry.example.com/shop/%s\n    tag: \"%s\"\n  replicaCount: %d\n  resources:\n    requests:\n      cpu: 100m\n      memory: 256Mi\n", app, app, s.tag, s.replicas)
	if len(s.extra) > 0 {
		values += "  env:\n"
		for _, e := range s.extra {
			values += "    " + e + "\n"
		}
	}
	out := []opsrepo.FileChange{
		{Path: stage + "/" + app + "/Chart.yaml", Content: []byte(chart)},
		{Path: stage + "/" + app + "/values.yaml", Content: []byte(values)},
	}
	if app == "api" {
		sealed := fmt.Sprintf(`apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: api-db
  namespace: api
spec:
  encryptedData:
    DB_PASSWORD: %s
    DB_USER: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq
  template:
    metadata:
      name: api-db
    type: Opaque
`, s.secret)
		out = append(out, opsrepo.FileChange{Path: stage + "/api/templates/sealedsecret-db.yaml", Content: []byte(sealed)})
	}
	return out
}

// Head is the ops branch's head on the sandbox's remote.
func (sb *Sandbox) Head() string {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.headOrEmpty()
}

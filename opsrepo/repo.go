// Package opsrepo reads (and, for rollbacks, writes) the GitOps ops repository
// with go-git: which commit last changed each stage directory, and which
// commits a stage still has pending between its deployed revision and head.
package opsrepo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/stagedeck/stagedeck/gitstate"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/stagedeck/stagedeck/patch"
	"github.com/stagedeck/stagedeck/sanitize"
)

// Sentinel errors callers branch on.
var (
	ErrNotRepository   = errors.New("not a git repository")
	ErrUnreachable     = errors.New("ops repository unreachable")
	ErrNoBranch        = errors.New("branch not found")
	ErrUnknownPath     = gitstate.ErrUnknownPath
	ErrUnknownRevision = gitstate.ErrUnknownRevision
	ErrReadOnly        = errors.New("read-only mode: refusing to change the ops repository")
)

// Options says which repository to open and how.
type Options struct {
	// URL is any git URL, or a path to a local clone used as is.
	URL    string
	Branch string
	// CacheDir holds cache clones of remote URLs ($XDG_CACHE_HOME/stagedeck).
	CacheDir string
	// ReadOnly refuses every mutating call at this layer.
	ReadOnly bool
	// Auth is used for clone, fetch and push of remote URLs; nil = anonymous.
	Auth transport.AuthMethod
}

// Repo is an opened ops repository. It is safe for concurrent use.
type Repo struct {
	opts    Options
	display string // the URL as shown: userinfo replaced by ***
	dir     string
	gitDir  string
	local   bool

	// mu serialises every use of the go-git repository: its packfile
	// readers and caches are not safe for concurrent use.
	mu        sync.Mutex
	repo      *git.Repository
	lastFetch time.Time
	// secretRefs caches, by commit, the files its kustomizations name as
	// secret material (a commit never changes); under mu.
	secretRefs map[plumbing.Hash]map[string]patch.SecretRef
	// links caches, by commit, its symbolic links; under mu.
	links       map[plumbing.Hash]*gitstate.Links
	latestLinks atomic.Pointer[gitstate.Links]
}

var scpLike = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:`)

// IsLocalPath reports whether u names a directory rather than a git URL.
func IsLocalPath(u string) bool {
	return !strings.Contains(u, "://") && !scpLike.MatchString(u)
}

// Open opens a local clone in place or a cache clone of a remote URL,
// cloning it on first use.
func Open(ctx context.Context, opts Options) (*Repo, error) {
	if opts.Branch == "" {
		opts.Branch = "main"
	}
	// Credentials in the URL move to Auth: the cache clone's config, every
	// error and every header carry the URL without them.
	display := sanitize.Userinfo(opts.URL)
	if strings.Contains(opts.URL, "://") && strings.Contains(opts.URL, "@") {
		if _, err := url.Parse(opts.URL); err != nil {
			return nil, fmt.Errorf("ops repo %s: not a valid URL: percent-encode special characters in its user and password", display)
		}
	}
	opts.URL, opts.Auth = splitCredentials(opts.URL, opts.Auth)
	r := &Repo{opts: opts, display: display}
	if IsLocalPath(opts.URL) {
		dir, err := filepath.Abs(opts.URL)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("ops repo %s: %w: no such directory", r.display, ErrUnreachable)
		}
		repo, err := openFast(dir)
		if err != nil {
			return nil, fmt.Errorf("ops repo %s: %w", r.display, ErrNotRepository)
		}
		r.dir, r.local, r.repo = dir, true, repo
		r.gitDir = gitDirOf(dir)
	} else {
		r.dir = filepath.Join(opts.CacheDir, cacheName(opts.URL))
		if err := PrivateDir(opts.CacheDir); err != nil {
			return nil, fmt.Errorf("cache dir: %w", err)
		}
		repo, err := openFast(r.dir)
		if err != nil {
			_, err = git.PlainCloneContext(ctx, r.dir, true, &git.CloneOptions{
				URL: opts.URL, Auth: opts.Auth, Tags: git.NoTags,
			})
			if err != nil {
				_ = os.RemoveAll(r.dir)
				return nil, fmt.Errorf("ops repo %s: %w: %s", r.display, ErrUnreachable, sanitize.Userinfo(err.Error()))
			}
			if repo, err = openFast(r.dir); err != nil {
				return nil, err
			}
			r.repo = repo
			// The clone made only the default branch local: mirror every
			// branch, so a configured non-default branch resolves too.
			if err := r.fetchLocked(ctx); err != nil {
				return nil, err
			}
			r.lastFetch = time.Now()
		}
		r.repo = repo
		r.gitDir = r.dir
		if err := r.forgetURLCredentials(); err != nil {
			return nil, err
		}
	}
	if _, err := r.Head(); err != nil {
		return nil, err
	}
	return r, nil
}

// openFast opens a repository keeping packfile descriptors open (go-git's
// default reopens the pack for every object read, which dominates a walk)
// with a bounded object cache. It finds the git dir like git does: dir/.git,
// else dir itself for a bare repository, else a parent's .git.
func openFast(dir string) (*git.Repository, error) {
	gitDir, work := findGitDir(dir)
	if gitDir == "" {
		// .git files (worktrees, submodules): let go-git resolve them.
		return git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	}
	st := filesystem.NewStorageWithOptions(packsInMemory{osfs.New(gitDir)}, cache.NewObjectLRU(32*cache.MiByte),
		filesystem.Options{MaxOpenDescriptors: 16})
	var wt billy.Filesystem
	if work != "" {
		wt = osfs.New(work)
	}
	return git.Open(st, wt)
}

func gitDirOf(dir string) string {
	g, _ := findGitDir(dir)
	return g
}

func findGitDir(dir string) (gitDir, work string) {
	for d := dir; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(filepath.Join(d, ".git")); err == nil && fi.IsDir() {
			gitDir, work = filepath.Join(d, ".git"), d
			break
		}
		if _, err := os.Stat(filepath.Join(d, "HEAD")); err == nil {
			if fi, err := os.Stat(filepath.Join(d, "objects")); err == nil && fi.IsDir() {
				gitDir = d
				break
			}
		}
		if filepath.Dir(d) == d {
			return "", ""
		}
	}
	return gitDir, work
}

func cacheName(u string) string {
	sum := sha256.Sum256([]byte(u))
	base := strings.TrimSuffix(filepath.Base(strings.TrimRight(u, "/")), ".git")
	base = regexp.MustCompile(`[^A-Za-z0-9._-]`).ReplaceAllString(base, "_")
	return base + "-" + hex.EncodeToString(sum[:6]) + ".git"
}

// Close releases open packfiles and their mappings.
func (r *Repo) Close() error {
	if c, ok := r.repo.Storer.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// URL is the configured URL or path.
// Credentials it had are hidden (***).
func (r *Repo) URL() string { return r.display }

// Branch is the ops branch.
func (r *Repo) Branch() string { return r.opts.Branch }

// LastFetch is when the repository was last fetched (zero if never).
func (r *Repo) LastFetch() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastFetch
}

// RemoteURLs are the URLs Argo CD may know this repository by: the configured
// URL and, for a local clone, its remotes' URLs.
func (r *Repo) RemoteURLs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	urls := []string{r.opts.URL}
	if r.local {
		urls = append(urls, "file://"+r.dir)
		if remotes, err := r.repo.Remotes(); err == nil {
			for _, rm := range remotes {
				urls = append(urls, rm.Config().URLs...)
			}
		}
	}
	return urls
}

// Fetch updates the branch from origin. A local clone without remotes is a no-op.
func (r *Repo) Fetch(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetchLocked(ctx)
}

// fetchLocked fetches every branch of origin: into refs/remotes/origin for a
// local clone, mirrored into refs/heads for a cache clone.
func (r *Repo) fetchLocked(ctx context.Context) error {
	if _, err := r.repo.Remote("origin"); errors.Is(err, git.ErrRemoteNotFound) {
		return nil
	}
	refspec := config.RefSpec("+refs/heads/*:refs/remotes/origin/*")
	if !r.local {
		refspec = "+refs/heads/*:refs/heads/*"
	}
	err := r.repo.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{refspec}, Auth: r.opts.Auth, Tags: git.NoTags, Force: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("fetch %s: %w: %s", r.display, ErrUnreachable, sanitize.Userinfo(err.Error()))
	}
	r.lastFetch = time.Now()
	return nil
}

// Head resolves the ops branch: origin's copy when a local clone has one.
func (r *Repo) Head() (plumbing.Hash, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.head()
}

func (r *Repo) head() (plumbing.Hash, error) {
	candidates := []plumbing.ReferenceName{plumbing.NewBranchReferenceName(r.opts.Branch)}
	if r.local {
		candidates = append([]plumbing.ReferenceName{plumbing.NewRemoteReferenceName("origin", r.opts.Branch)}, candidates...)
	}
	for _, name := range candidates {
		if ref, err := r.repo.Reference(name, true); err == nil {
			return ref.Hash(), nil
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("ops repo %s: %w: %q (set opsRepo.branch)", r.display, ErrNoBranch, r.opts.Branch)
}

// Resolve turns a full or abbreviated sha (or a ref name) into a commit hash.
func (r *Repo) Resolve(rev string) (plumbing.Hash, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.resolve(rev)
}

func (r *Repo) resolve(rev string) (plumbing.Hash, error) {
	name, err := r.checkAbbrev(rev)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	h, err := r.repo.ResolveRevision(plumbing.Revision(name))
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%w: %s", ErrUnknownRevision, rev)
	}
	if _, err := r.repo.CommitObject(*h); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%w: %s", ErrUnknownRevision, rev)
	}
	return *h, nil
}

// checkAbbrev returns what to resolve for rev, and refuses an abbreviated sha that is too short (git's
// shortest is 4) or names more than one commit in the object store: go-git
// takes the first it finds, and a sync must deploy the commit the owner
// meant. A branch or tag of that name is a name; a store that cannot list
// hashes by prefix is not checked.
func (r *Repo) checkAbbrev(rev string) (string, error) {
	if len(rev) >= 40 || strings.Trim(strings.ToLower(rev), "0123456789abcdef") != "" {
		return rev, nil // a full sha, or a name
	}
	for _, ref := range []plumbing.ReferenceName{plumbing.NewBranchReferenceName(rev), plumbing.NewTagReferenceName(rev), plumbing.NewRemoteReferenceName("origin", rev)} {
		if _, err := r.repo.Reference(ref, false); err == nil {
			// A branch or tag that looks like hex (2024, cafe) is that
			// name, as git reads it (go-git would try it as a sha first).
			return ref.String(), nil
		}
	}
	if len(rev) < 4 {
		return "", fmt.Errorf("%w: %s: give at least 4 digits of the sha", ErrUnknownRevision, rev)
	}
	lister, ok := r.repo.Storer.(interface {
		HashesWithPrefix([]byte) ([]plumbing.Hash, error)
	})
	if !ok {
		return rev, nil
	}
	prefix, err := hex.DecodeString(rev[:len(rev)&^1])
	if err != nil {
		return rev, nil
	}
	hashes, err := lister.HashesWithPrefix(prefix)
	if err != nil {
		return rev, nil
	}
	var commits []string
	for _, h := range hashes {
		if strings.HasPrefix(h.String(), strings.ToLower(rev)) {
			if _, err := r.repo.CommitObject(h); err == nil {
				commits = append(commits, Short(h.String()))
			}
		}
	}
	if len(commits) > 1 {
		return "", fmt.Errorf("%w: %s is ambiguous: it begins %s; give more digits", ErrUnknownRevision, rev, strings.Join(commits, ", "))
	}
	return rev, nil
}

// CommitInfo returns the commit's board fields.
func (r *Repo) CommitInfo(h plumbing.Hash) (Commit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.commitInfo(h)
}

func (r *Repo) commitInfo(h plumbing.Hash) (Commit, error) {
	c, err := r.repo.CommitObject(h)
	if err != nil {
		return Commit{}, fmt.Errorf("%w: %s", ErrUnknownRevision, h)
	}
	return toCommit(c), nil
}

func toCommit(c *object.Commit) Commit {
	subject, _, _ := strings.Cut(c.Message, "\n")
	return Commit{
		SHA: c.Hash.String(), Author: c.Author.Name, Email: c.Author.Email,
		Date: c.Author.When, Subject: strings.TrimSpace(subject),
	}
}

// ErrNoIdentity refuses an action nobody could be named for.
var ErrNoIdentity = errors.New("no identity to act as")

// Operator is who acts, for commit authors, Operator trailers and sync
// infos: STAGEDECK_OPERATOR ("Name <email>"), else git's user.name and
// user.email (this repository's config, then the global and system ones).
// With neither it refuses, saying how to set one, as git does.
func (r *Repo) Operator() (Signature, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var local *config.Config
	if c, err := r.repo.ConfigScoped(config.LocalScope); err == nil {
		local = c
	}
	return resolveOperator(local)
}

// DefaultOperator is Operator without a repository: the environment, then
// the global and system git config.
func DefaultOperator() (Signature, error) { return resolveOperator(nil) }

func resolveOperator(local *config.Config) (Signature, error) {
	var name, email string
	scopes := []*config.Config{local}
	for _, sc := range []config.Scope{config.GlobalScope, config.SystemScope} {
		if c, err := config.LoadConfig(sc); err == nil {
			scopes = append(scopes, c)
		}
	}
	for _, c := range scopes {
		if c == nil {
			continue
		}
		if name == "" {
			name = strings.TrimSpace(c.User.Name)
		}
		if email == "" {
			email = strings.TrimSpace(c.User.Email)
		}
	}
	if env := strings.TrimSpace(os.Getenv("STAGEDECK_OPERATOR")); env != "" {
		sig := ParseOperator(env)
		if sig.Name == "" {
			return Signature{}, fmt.Errorf("%w: STAGEDECK_OPERATOR=%q has no name: set it to \"Your Name <you@example.com>\"", ErrNoIdentity, env)
		}
		if sig.Email == "" {
			sig.Email = email
		}
		if sig.Email == "" {
			return Signature{}, fmt.Errorf("%w: STAGEDECK_OPERATOR=%q has no email: set it to \"Your Name <you@example.com>\"", ErrNoIdentity, env)
		}
		return sig, nil
	}
	if name == "" || email == "" {
		return Signature{}, fmt.Errorf("%w: set STAGEDECK_OPERATOR=\"Your Name <you@example.com>\", or run git config --global user.name \"Your Name\" and git config --global user.email you@example.com", ErrNoIdentity)
	}
	return Signature{Name: name, Email: email}, nil
}

// forgetURLCredentials rewrites a cache clone's origin URL that still holds
// userinfo (made by an older version from a URL with a password).
func (r *Repo) forgetURLCredentials() error {
	cfg, err := r.repo.Config()
	if err != nil {
		return nil
	}
	rm, ok := cfg.Remotes["origin"]
	if !ok || len(rm.URLs) == 0 || rm.URLs[0] == r.opts.URL {
		return nil
	}
	if sanitize.Userinfo(rm.URLs[0]) == rm.URLs[0] {
		return nil
	}
	rm.URLs = []string{r.opts.URL}
	if err := r.repo.SetConfig(cfg); err != nil {
		return fmt.Errorf("cache clone %s: %w", r.dir, err)
	}
	return nil
}

package opsrepo

import (
	"context"
	"errors"
	"fmt"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/stagedeck/stagedeck/patch"
)

// httpRemote serves a bare repository over git's smart HTTP protocol
// (git-http-backend, a real git server) on loopback.
func httpRemote(t *testing.T) string {
	t.Helper()
	backend := "/usr/lib/git-core/git-http-backend"
	if _, err := os.Stat(backend); err != nil {
		t.Skip("git-http-backend not installed")
	}
	root := t.TempDir()
	work := t.TempDir()
	gitCLI(t, work, "init", "-q", "-b", "main")
	os.MkdirAll(filepath.Join(work, "tst"), 0o755)
	os.WriteFile(filepath.Join(work, "tst", "values.yaml"), []byte("a: 1\n"), 0o644)
	gitCLI(t, work, "add", "-A")
	gitCLI(t, work, "commit", "-q", "-m", "one")
	gitCLI(t, root, "clone", "-q", "--bare", work, "ops.git")
	srv := httptest.NewServer(&cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}})
	t.Cleanup(srv.Close)
	return srv.URL + "/ops.git"
}

// TestURLCredentialsAreNeverStoredOrShown: a password in opsRepo.url is used
// to authenticate, and is in no cache file, no URL() and no error.
func TestURLCredentialsAreNeverStoredOrShown(t *testing.T) {
	base := httpRemote(t)
	const pw = "s3cr3t-Passw0rd"
	withPw := strings.Replace(base, "http://", "http://deploy:"+pw+"@", 1)
	cache := filepath.Join(t.TempDir(), "cache")
	r, err := Open(context.Background(), Options{URL: withPw, Branch: "main", CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if strings.Contains(r.URL(), pw) || !strings.Contains(r.URL(), "***@") {
		t.Errorf("URL() = %q", r.URL())
	}
	fi, err := os.Stat(cache)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache dir mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	filepath.WalkDir(cache, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), pw) {
				t.Errorf("the password is stored in %s", p)
			}
		}
		if strings.Contains(p, pw) {
			t.Errorf("the password is in the cache path %s", p)
		}
		return nil
	})

	// Unreachable: the error names the URL without the password.
	_, err = Open(context.Background(), Options{URL: "http://deploy:" + pw + "@127.0.0.1:1/ops.git", CacheDir: cache})
	if err == nil || !errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), pw) {
		t.Errorf("unreachable: %v", err)
	}
}

func TestTokenOnlyOverHTTPSOrLoopback(t *testing.T) {
	t.Setenv("STAGEDECK_GIT_TOKEN", "tok-123456")
	if _, err := Auth("http://git.example.com/ops.git"); !errors.Is(err, ErrInsecureToken) {
		t.Errorf("token over plain http: %v, want ErrInsecureToken", err)
	}
	for _, u := range []string{"https://git.example.com/ops.git", "http://127.0.0.1:8080/ops.git", "http://localhost/ops.git", "http://[::1]:3000/ops.git"} {
		if a, err := Auth(u); err != nil || a == nil {
			t.Errorf("%s: %v %v", u, a, err)
		}
	}
}

func TestPrivateDirTightensAnOldCacheDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stagedeck")
	os.MkdirAll(dir, 0o755)
	if err := PrivateDir(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}

// TestSecretRefsFollowTheRepository: a commit that only rotates a file a
// kustomize secretGenerator reads (the kustomization unchanged, so not in
// the diff) shows no value, in the commit's diff and comparing two stages.
func TestSecretRefsFollowTheRepository(t *testing.T) {
	dir := t.TempDir()
	gitCLI(t, dir, "init", "-q", "-b", "main")
	kust := "secretGenerator:\n  - name: db\n    envs: [db-credentials.txt]\n    files: [tls.key=certs/server.key]\n"
	for _, st := range []string{"tst", "prod"} {
		writeFile(t, dir, st+"/app/kustomization.yaml", kust)
		writeFile(t, dir, st+"/app/db-credentials.txt", "DB_PASSWORD=old-"+st+"-pw1\n")
		writeFile(t, dir, st+"/app/certs/server.key", "KEY-old-"+st+"\n")
	}
	commitAll(t, dir, "base")
	writeFile(t, dir, "prod/app/db-credentials.txt", "DB_PASSWORD=rotated-pw-123456\n")
	writeFile(t, dir, "prod/app/certs/server.key", "KEY-rotated-999999\n")
	head := commitAll(t, dir, "rotate prod")
	r, err := Open(context.Background(), Options{URL: dir, Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h, _ := r.Resolve(head)
	pairs, err := r.CommitChanges(context.Background(), h, "prod")
	if err != nil {
		t.Fatal(err)
	}
	cmp, err := r.CompareDirs(context.Background(), h, "tst", "prod")
	if err != nil {
		t.Fatal(err)
	}
	for name, ps := range map[string][]patch.Pair{"commit": pairs, "compare": cmp} {
		out := patch.Unified(ps, 3)
		for _, v := range []string{"rotated-pw-123456", "KEY-rotated-999999", "old-tst-pw1", "old-prod-pw1", "KEY-old"} {
			if strings.Contains(out, v) {
				t.Errorf("%s: %s printed:\n%s", name, v, out)
			}
		}
		if !strings.Contains(out, "DB_PASSWORD=<hidden") || !strings.Contains(out, "may read this file as secret material") {
			t.Errorf("%s: the files are not shown as hidden:\n%s", name, out)
		}
	}
}

// TestSecretRefsOutsideTheKustomizationsDirectory: a secretGenerator may
// read a file outside its directory (kustomize's load restrictor off, as
// Argo CD allows); rotating it shows no value either.
func TestSecretRefsOutsideTheKustomizationsDirectory(t *testing.T) {
	dir := t.TempDir()
	gitCLI(t, dir, "init", "-q", "-b", "main")
	writeFile(t, dir, "prod/app/kustomization.yaml", "secretGenerator:\n  - name: tls\n    files: [tls.key=../../shared/tls.key]\n")
	writeFile(t, dir, "shared/tls.key", "tlskey-initial-AAAA\n")
	writeFile(t, dir, "shared/README", "shared material\n")
	commitAll(t, dir, "base")
	writeFile(t, dir, "shared/tls.key", "tlskey-ROTATED-BBBB\n")
	head := commitAll(t, dir, "rotate the shared key")
	r := openLocal(t, dir)
	for _, d := range []string{"shared", ""} {
		if out := commitDiff(t, r, head, d); strings.Contains(out, "tlskey-") || !strings.Contains(out, "may read this file as secret material") {
			t.Errorf("changes under %q: the shared key is shown:\n%s", d, out)
		}
	}
}

// TestSecretRefsFailClosed: a kustomization that cannot be read might name
// any file as secret material, so the diff hides what it cannot check.
func TestSecretRefsFailClosed(t *testing.T) {
	dir := t.TempDir()
	gitCLI(t, dir, "init", "-q", "-b", "main")
	writeFile(t, dir, "prod/app/kustomization.yaml", "secretGenerator:\n  - name: db\n    envs: [creds.txt]\n")
	writeFile(t, dir, "prod/app/creds.txt", "PW=old-pw-111111\n")
	commitAll(t, dir, "base")
	writeFile(t, dir, "prod/app/creds.txt", "PW=new-pw-222222\n")
	head := commitAll(t, dir, "rotate")
	blob := strings.TrimSpace(gitCLI(t, dir, "rev-parse", "HEAD:prod/app/kustomization.yaml"))
	if err := os.Remove(filepath.Join(dir, ".git", "objects", blob[:2], blob[2:])); err != nil {
		t.Fatal(err)
	}
	if out := commitDiff(t, openLocal(t, dir), head, "prod"); strings.Contains(out, "pw-") {
		t.Errorf("a file no kustomization could be checked for is shown:\n%s", out)
	}
}

// TestAbbreviatedShaMustNameOneCommit: a sha of fewer than 4 digits, or
// one that begins several commits, is refused rather than taken as the
// first commit go-git finds.
func TestAbbreviatedShaMustNameOneCommit(t *testing.T) {
	dir := t.TempDir()
	gitCLI(t, dir, "init", "-q", "-b", "main")
	// 2,000 empty commits written straight into the object store (the
	// same ones every run): two of them share 4 digits.
	g, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	tree := g.Storer.NewEncodedObject()
	tree.SetType(plumbing.TreeObject)
	treeHash, err := g.Storer.SetEncodedObject(tree)
	if err != nil {
		t.Fatal(err)
	}
	var parent []plumbing.Hash
	sig := object.Signature{Name: "t", Email: "t@t", When: time.Unix(1700000000, 0)}
	for i := range 2000 {
		obj := g.Storer.NewEncodedObject()
		c := &object.Commit{Author: sig, Committer: sig, Message: fmt.Sprint("c", i), TreeHash: treeHash, ParentHashes: parent}
		if err := c.Encode(obj); err != nil {
			t.Fatal(err)
		}
		h, err := g.Storer.SetEncodedObject(obj)
		if err != nil {
			t.Fatal(err)
		}
		parent = []plumbing.Hash{h}
	}
	if err := g.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), parent[0])); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	ambiguous := ""
	for _, sha := range strings.Fields(gitCLI(t, dir, "rev-list", "main")) {
		if other, ok := seen[sha[:4]]; ok && other != sha {
			ambiguous = sha[:4]
			break
		}
		seen[sha[:4]] = sha
	}
	if ambiguous == "" {
		t.Fatal("no two of 2,000 commits share 4 digits")
	}
	r := openLocal(t, dir)
	if _, err := r.Resolve(ambiguous); !errors.Is(err, ErrUnknownRevision) || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("Resolve(%s), which begins two commits: %v", ambiguous, err)
	}
	if _, err := r.Resolve(ambiguous[:3]); !errors.Is(err, ErrUnknownRevision) || !strings.Contains(err.Error(), "at least 4") {
		t.Errorf("Resolve(%s): %v", ambiguous[:3], err)
	}
	head := strings.TrimSpace(gitCLI(t, dir, "rev-parse", "main"))
	// A tag that looks like hex is a name.
	gitCLI(t, dir, "tag", ambiguous[:3], "main")
	if h, err := r.Resolve(ambiguous[:3]); err != nil || h.String() != head {
		t.Errorf("Resolve of the tag %s: %v %v, want main's head", ambiguous[:3], h, err)
	}
	if h, err := r.Resolve(head[:12]); err != nil || h.String() != head {
		t.Errorf("Resolve of a 12-digit prefix: %v %v", h, err)
	}
}

// commitDiff is what one commit changed under dir, as a diff shows it.
func commitDiff(t *testing.T, r *Repo, commit, dir string) string {
	t.Helper()
	h, err := r.Resolve(commit)
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := r.CommitChanges(context.Background(), h, dir)
	if err != nil {
		t.Fatal(err)
	}
	return patch.Unified(pairs, 3)
}

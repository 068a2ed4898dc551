package argotest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
)

// MemGit is an in-memory linear history for the fake's Git: each commit
// records which paths it changed.
type MemGit struct {
	mu      sync.Mutex
	shas    []string
	changed map[string][]string
}

// NewMemGit starts a history with one root commit touching every path.
func NewMemGit() *MemGit {
	g := &MemGit{changed: map[string][]string{}}
	g.Commit("")
	return g
}

// Commit adds a commit changing path ("" = everything) and returns its sha.
func (g *MemGit) Commit(path string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	sum := sha1.Sum([]byte(fmt.Sprintf("%d %s %d", len(g.shas), path, time.Now().UnixNano())))
	sha := hex.EncodeToString(sum[:])
	g.shas = append(g.shas, sha)
	g.changed[sha] = []string{path}
	return sha
}

// Head is the newest commit.
func (g *MemGit) Head() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.shas[len(g.shas)-1]
}

func (g *MemGit) index(rev string) int {
	if rev == "" || rev == "HEAD" || rev == "main" {
		return len(g.shas) - 1
	}
	for i, s := range g.shas {
		if strings.HasPrefix(s, rev) {
			return i
		}
	}
	return -1
}

// Resolve implements Git.
func (g *MemGit) Resolve(rev string) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if i := g.index(rev); i >= 0 {
		return g.shas[i], nil
	}
	return "", fmt.Errorf("unknown revision %s", rev)
}

// Changed implements Git: did a commit in (from, to] change path?
func (g *MemGit) Changed(from, to, path string) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a, b := g.index(from), g.index(to)
	if a < 0 || b < 0 {
		return false, fmt.Errorf("unknown revision")
	}
	for i := a + 1; i <= b; i++ {
		for _, p := range g.changed[g.shas[i]] {
			if p == "" || p == path || strings.HasPrefix(path, p+"/") || strings.HasPrefix(p, path+"/") {
				return true, nil
			}
		}
	}
	return false, nil
}

// Metadata implements Git.
func (g *MemGit) Metadata(sha string) (string, time.Time, string, error) {
	full, err := g.Resolve(sha)
	if err != nil {
		return "", time.Time{}, "", err
	}
	return "MemGit <memgit@example.com>", time.Now(), "commit " + full[:7], nil
}
